import type { CutOff, FamilyRevocation } from './refresh-families.js';

/** Users: the accounts that sign in with a password. Times are milliseconds since the epoch. */
export interface User {
  id: string;
  /** Normalised (see security/username.ts). */
  username: string;
  passwordHash: string;
  disabled: boolean;
  roles: string[];
  createdAt: number;
  updatedAt: number;
}

export type UserPatch = Partial<Pick<User, 'passwordHash' | 'disabled' | 'roles'>>;

export interface UserRepository {
  /** Throws StoreConflictError for a taken id or username. */
  create(user: User): Promise<void>;
  getById(id: string): Promise<User | undefined>;
  getByUsername(username: string): Promise<User | undefined>;
  /** A page in username order: at most `limit`, those after the username `after`. */
  list(limit: number, after?: string): Promise<User[]>;
  /** False if there is no such user. */
  update(id: string, patch: UserPatch, now: number): Promise<boolean>;
  /** Removes the user; false if there was none. Their refresh-token families stay (revoked) for the audit trail. */
  delete(id: string): Promise<boolean>;
  /**
   * Replaces the user's roles if they are still `expected` (compare and set): false if they changed meanwhile or
   * there is no such user, and nothing is written. Concurrent grants and revocations re-read and try again.
   */
  replaceRoles(id: string, expected: readonly string[], roles: readonly string[], now: number): Promise<boolean>;
  /**
   * Applies the patch and revokes everything the user holds (every live family, and the `subject` cut-off record
   * that revokes their access tokens), in one transaction: both or neither. Undefined, nothing written, if there
   * is no such user.
   */
  updateAndCutOff(id: string, patch: UserPatch, now: number, record: FamilyRevocation): Promise<CutOff | undefined>;
  /** Removes the user and revokes everything they hold, in one transaction (as updateAndCutOff). */
  deleteAndCutOff(id: string, now: number, record: FamilyRevocation): Promise<CutOff | undefined>;
}

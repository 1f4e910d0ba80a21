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
  /*
   * OpenID Connect standard claims (Core section 5.1), each absent until set; `preferred_username` is the username.
   * `emailVerified` is present only when true.
   */
  name?: string;
  givenName?: string;
  familyName?: string;
  email?: string;
  emailVerified?: boolean;
}

/** The standard claims of a user, by field. */
export type UserProfile = Pick<User, 'name' | 'givenName' | 'familyName' | 'email' | 'emailVerified'>;

/** A change to the profile: a text claim set, or cleared with null; emailVerified set or cleared. */
export type UserProfilePatch = { [K in Exclude<keyof UserProfile, 'emailVerified'>]?: string | null } & {
  emailVerified?: boolean;
};

export type UserPatch = Partial<Pick<User, 'passwordHash' | 'disabled' | 'roles'>> & UserProfilePatch;

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

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
}

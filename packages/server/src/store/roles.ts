/** Roles: named sets of permissions (scopes) that users hold. */
export interface Role {
  name: string;
  /** Scopes the role grants. */
  permissions: string[];
}

export interface RoleRepository {
  /** Creates the role or replaces its permissions. */
  put(role: Role): Promise<void>;
  /** False if there was no such role. */
  delete(name: string): Promise<boolean>;
  /** Every role, by name. */
  list(): Promise<Role[]>;
  /** Every permission of the named roles (unknown names contribute nothing). */
  permissionsOf(roleNames: readonly string[]): Promise<string[]>;
}

import type { ServerContext } from '../context.js';
import type { Role } from '../store/types.js';
import type { Actor } from './actor.js';
import { AdminInputError, ConflictError, NotFoundError, UnknownRoleError } from './errors.js';

/** Role names and scopes as the admin API accepts them (the JSON schemas in admin/ say the same). */
const ROLE_NAME = /^[A-Za-z0-9._:-]{1,200}$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

/** A role as the admin API and `tessera roles list --json` show it. */
export function roleView(r: Role): { name: string; permissions: string[] } {
  return { name: r.name, permissions: [...r.permissions] };
}

export async function listRoles(ctx: ServerContext): Promise<Role[]> {
  return ctx.store.roles.list();
}

/** Refuses, naming the known roles, the first of `names` that is not a role. */
export async function assertRolesExist(ctx: ServerContext, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const known = (await ctx.store.roles.list()).map((r) => r.name);
  const unknown = names.find((n) => !known.includes(n));
  if (unknown !== undefined) throw new UnknownRoleError(unknown, known);
}

/**
 * Creates a role and the permissions (scopes) it grants; replaces an existing role's permissions only with
 * `replace` (else ConflictError: `roles add` never silently rewrites a role such as `admin`).
 */
export async function putRole(
  ctx: ServerContext,
  by: Actor,
  name: string,
  permissions: readonly string[],
  options: { replace: boolean },
): Promise<Role> {
  if (!ROLE_NAME.test(name)) throw new AdminInputError('a role name is 1-200 characters of A-Z a-z 0-9 . _ : -');
  const bad = permissions.find((p) => !SCOPE_TOKEN.test(p));
  if (bad !== undefined) throw new AdminInputError('each permission is one scope token (RFC 6749 section 3.3)');
  const role: Role = { name, permissions: [...new Set(permissions)] };
  if (!options.replace && (await ctx.store.roles.list()).some((r) => r.name === name))
    throw new ConflictError(`a role named ${name} exists`);
  await ctx.store.roles.put(role);
  await ctx.audit.record({ type: 'admin.role.set', outcome: 'success', ...by, data: roleView(role) });
  return role;
}

export async function deleteRole(ctx: ServerContext, by: Actor, name: string): Promise<void> {
  if (!(await ctx.store.roles.delete(name))) throw new NotFoundError('role', name);
  await ctx.audit.record({ type: 'admin.role.deleted', outcome: 'success', ...by, data: { name } });
}

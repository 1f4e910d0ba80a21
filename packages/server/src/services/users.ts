import type { ServerContext } from '../context.js';
import { hashPassword, passwordProblem } from '../security/password.js';
import { newId } from '../security/random.js';
import { normalizeUsername } from '../security/username.js';
import { StoreConflictError } from '../store/errors.js';
import type { Store, User } from '../store/types.js';
import type { Actor } from './actor.js';
import { epochSeconds } from './epoch.js';
import { AdminInputError, ConflictError, NotFoundError } from './errors.js';
import { untilUnchanged } from './compare-and-set.js';
import { announceCutOff, cutOffRecord } from './revoke-all.js';
import { acceptedProfile, PROFILE_CLAIMS, profileFields, profileView, type ProfileInput } from './user-profile.js';
import { assertRolesExist } from './roles.js';

/** A user as the admin API and `tessera users ... --json` show it: never the password hash. */
export function userView(u: User) {
  return {
    id: u.id,
    username: u.username,
    roles: [...u.roles],
    disabled: u.disabled,
    ...profileView(u),
    created_at: epochSeconds(u.createdAt),
    updated_at: epochSeconds(u.updatedAt),
  };
}

/** The username in its normal form, or AdminInputError when it cannot be one. */
export function acceptedUsername(input: unknown): string {
  const username = normalizeUsername(input);
  if (username === undefined)
    throw new AdminInputError(
      'username must be 1-128 characters without control characters, quotes, angle brackets or backslashes',
    );
  return username;
}

/** What a new user is made of: username, password, roles, and optionally the profile claims. */
export type NewUserInput = { username: unknown; password: unknown; roles?: string[] } & ProfileInput;

/**
 * Creates a user: the username normalised, the password checked and hashed with argon2id, the profile checked.
 * No audit record.
 */
export async function createUserAccount(store: Store, input: NewUserInput, now: number): Promise<User> {
  const username = acceptedUsername(input.username);
  const problem = passwordProblem(input.password);
  if (problem) throw new AdminInputError(problem);
  const profile = profileFields(acceptedProfile(input));
  const user: User = {
    ...profile,
    id: newId(),
    username,
    passwordHash: await hashPassword(input.password as string),
    disabled: false,
    roles: [...new Set(input.roles ?? [])],
    createdAt: now,
    updatedAt: now,
  };
  try {
    await store.users.create(user);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ConflictError('a user with this username exists');
    throw err;
  }
  return user;
}

/** Adds a user with roles that must exist. */
export async function addUser(ctx: ServerContext, by: Actor, input: NewUserInput): Promise<User> {
  await assertRolesExist(ctx, input.roles ?? []);
  const user = await createUserAccount(ctx.store, input, ctx.now());
  await ctx.audit.record({
    type: 'admin.user.created',
    outcome: 'success',
    ...by,
    subject: user.id,
    data: { username: user.username, roles: user.roles },
  });
  return user;
}

/** The user with this id, or with this username (normalised). */
export async function findUser(ctx: ServerContext, ref: { id: string } | { username: string }): Promise<User> {
  if ('id' in ref) {
    const u = await ctx.store.users.getById(ref.id);
    if (!u) throw new NotFoundError('user', ref.id);
    return u;
  }
  const name = normalizeUsername(ref.username);
  const u = name === undefined ? undefined : await ctx.store.users.getByUsername(name);
  if (!u) throw new NotFoundError('user', `named ${name ?? 'so'}`);
  return u;
}

export async function listUsers(ctx: ServerContext, limit: number, after?: string): Promise<User[]> {
  return ctx.store.users.list(limit, after);
}

async function changed(ctx: ServerContext, id: string): Promise<User> {
  return findUser(ctx, { id });
}

/**
 * Disables a user and revokes every session and access token they hold, or enables them again (revoked
 * tokens stay revoked). Returns the user and how many sessions were revoked.
 */
export async function setUserDisabled(
  ctx: ServerContext,
  by: Actor,
  id: string,
  disabled: boolean,
): Promise<{ user: User; revokedSessions: number }> {
  const now = ctx.now();
  let revokedSessions = 0;
  if (disabled) {
    // The user disabled and everything they hold revoked, in one transaction; then announced.
    const cut = await ctx.store.users.updateAndCutOff(id, { disabled }, now, cutOffRecord(now, 'user_disabled'));
    if (!cut) throw new NotFoundError('user', id);
    await announceCutOff(ctx, { kind: 'subject', id }, 'user_disabled', by, cut);
    revokedSessions = cut.families.length;
  } else if (!(await ctx.store.users.update(id, { disabled }, now))) throw new NotFoundError('user', id);
  await ctx.audit.record({
    type: disabled ? 'admin.user.disabled' : 'admin.user.enabled',
    outcome: 'success',
    ...by,
    subject: id,
  });
  return { user: await changed(ctx, id), revokedSessions };
}

/** Sets a new password; every session started with the old one ends. */
export async function setPassword(
  ctx: ServerContext,
  by: Actor,
  id: string,
  password: unknown,
): Promise<{ revokedSessions: number }> {
  const problem = passwordProblem(password);
  if (problem) throw new AdminInputError(problem);
  const passwordHash = await hashPassword(password as string);
  const now = ctx.now();
  // The new password and the end of every session started with the old one, in one transaction; then announced.
  const cut = await ctx.store.users.updateAndCutOff(id, { passwordHash }, now, cutOffRecord(now, 'password_reset'));
  if (!cut) throw new NotFoundError('user', id);
  await announceCutOff(ctx, { kind: 'subject', id }, 'password_reset', by, cut);
  await ctx.audit.record({ type: 'admin.user.password_reset', outcome: 'success', ...by, subject: id });
  return { revokedSessions: cut.families.length };
}

/**
 * Sets or clears the user's OpenID Connect profile claims (name, given_name, family_name, email, email_verified):
 * only those given change; null clears one. A new email address is unverified unless `email_verified` says so.
 */
export async function setUserProfile(ctx: ServerContext, by: Actor, id: string, input: ProfileInput): Promise<User> {
  const patch = acceptedProfile(input);
  const fields = PROFILE_CLAIMS.filter((k) => input[k] !== undefined);
  if (fields.length === 0) throw new AdminInputError('give at least one of name, given_name, family_name, email, email_verified');
  if (!(await ctx.store.users.update(id, patch, ctx.now()))) throw new NotFoundError('user', id);
  // The names of the claims changed, not their values: the audit trail holds no more personal data than it must.
  await ctx.audit.record({ type: 'admin.user.profile_set', outcome: 'success', ...by, subject: id, data: { fields } });
  return changed(ctx, id);
}

/** Replaces the user's roles (each must exist). */
export async function setUserRoles(ctx: ServerContext, by: Actor, id: string, roles: readonly string[]): Promise<User> {
  await assertRolesExist(ctx, roles);
  const unique = [...new Set(roles)];
  if (!(await ctx.store.users.update(id, { roles: unique }, ctx.now()))) throw new NotFoundError('user', id);
  await ctx.audit.record({ type: 'admin.user.roles_set', outcome: 'success', ...by, subject: id, data: { roles: unique } });
  return changed(ctx, id);
}

/** Adds one role to the user (it must exist); granting a role the user holds changes nothing. */
export async function grantRole(ctx: ServerContext, by: Actor, id: string, role: string): Promise<User> {
  await assertRolesExist(ctx, [role]);
  // Compare and set: a grant or revocation made meanwhile is kept, not overwritten with what was read.
  const granted = await untilUnchanged("the user's roles", async () => {
    const user = await findUser(ctx, { id });
    if (user.roles.includes(role)) return false;
    return (await ctx.store.users.replaceRoles(id, user.roles, [...user.roles, role], ctx.now())) ? true : undefined;
  });
  if (!granted) return changed(ctx, id);
  await ctx.audit.record({ type: 'admin.user.role_granted', outcome: 'success', ...by, subject: id, data: { role } });
  return changed(ctx, id);
}

/**
 * Takes one role from the user. Tokens already issued keep their scopes until they expire; revoke the
 * user's sessions to cut them off sooner.
 */
export async function revokeRole(ctx: ServerContext, by: Actor, id: string, role: string): Promise<User> {
  // Compare and set, as grantRole.
  await untilUnchanged("the user's roles", async () => {
    const user = await findUser(ctx, { id });
    if (!user.roles.includes(role))
      throw new AdminInputError(
        `${user.username} does not hold the role ${role}; roles held: ${user.roles.join(', ') || '(none)'}`,
      );
    const roles = user.roles.filter((r) => r !== role);
    return (await ctx.store.users.replaceRoles(id, user.roles, roles, ctx.now())) ? true : undefined;
  });
  await ctx.audit.record({ type: 'admin.user.role_revoked', outcome: 'success', ...by, subject: id, data: { role } });
  return changed(ctx, id);
}

/** Deletes a user after revoking every session and access token they hold. */
export async function deleteUser(ctx: ServerContext, by: Actor, id: string): Promise<{ revokedSessions: number }> {
  const user = await findUser(ctx, { id });
  const now = ctx.now();
  // The user removed and everything they held revoked, in one transaction; then announced.
  const cut = await ctx.store.users.deleteAndCutOff(id, now, cutOffRecord(now, 'user_deleted'));
  if (!cut) throw new NotFoundError('user', id);
  await announceCutOff(ctx, { kind: 'subject', id }, 'user_deleted', by, cut);
  await ctx.audit.record({
    type: 'admin.user.deleted',
    outcome: 'success',
    ...by,
    subject: id,
    data: { username: user.username },
  });
  return { revokedSessions: cut.families.length };
}

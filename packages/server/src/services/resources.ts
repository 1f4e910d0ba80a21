import type { ServerContext } from '../context.js';
import { parseResource, parseResourceKey, MAX_RESOURCE_KEYS, type Resource } from '../resources/resource.js';
import { StoreConflictError } from '../store/errors.js';
import type { Actor } from './actor.js';
import { untilUnchanged } from './compare-and-set.js';
import { AdminInputError, ConflictError, NotFoundError } from './errors.js';
import { isObject } from './wire-object.js';

/**
 * Resource servers as the admin service manages them (the admin API, the CLI). Each change is seen at once by this
 * instance's token endpoint and by the others within STORED_DIRECTORY_REFRESH_MS.
 */

function conflict(r: { name: string; resource: string }): ConflictError {
  return new ConflictError(`a resource named ${r.name} or with the identifier ${r.resource} exists`);
}

export function listResources(ctx: ServerContext): Promise<Resource[]> {
  return ctx.store.resources.list();
}

export async function getResource(ctx: ServerContext, name: string): Promise<Resource> {
  const r = await ctx.store.resources.get(name);
  if (r === undefined) throw new NotFoundError('resource', name);
  return r;
}

/** Adds a resource given in its wire form (parseResource). */
export async function addResource(ctx: ServerContext, by: Actor, input: unknown): Promise<Resource> {
  const parsed = parseResource(input);
  const now = ctx.now();
  const resource: Resource = { ...parsed, createdAt: now, updatedAt: now };
  try {
    await ctx.store.resources.create(resource);
  } catch (err) {
    if (err instanceof StoreConflictError) throw conflict(parsed);
    throw err;
  }
  ctx.resources.changed();
  await ctx.audit.record({ type: 'admin.resource.added', outcome: 'success', ...by, data: summary(resource) });
  return resource;
}

/** Writes `next` over `previous` if it is still the stored one; undefined when another change came first. */
async function swap(ctx: ServerContext, next: Resource, previous: Resource): Promise<Resource | undefined> {
  let replaced: boolean;
  try {
    replaced = await ctx.store.resources.replace(next, previous);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ConflictError(`another resource has the identifier ${next.resource}`);
    throw err;
  }
  if (!replaced) {
    if ((await ctx.store.resources.get(next.name)) === undefined) throw new NotFoundError('resource', next.name);
    return undefined;
  }
  ctx.resources.changed();
  return next;
}

/**
 * Replaces a resource with the one given (PUT: every field as given, the defaults for those left out); it keeps its
 * name and creation time. A `name` in the input, if any, must be the same.
 */
export async function replaceResource(ctx: ServerContext, by: Actor, name: string, input: unknown): Promise<Resource> {
  if (!isObject(input)) throw new AdminInputError('a resource must be an object');
  if (input.name !== undefined && input.name !== name)
    throw new AdminInputError(`name ${String(input.name)} is not the resource replaced (${name}); a resource is not renamed`);
  const parsed = parseResource({ ...input, name });
  const replaced = await untilUnchanged(`resource ${name}`, async () => {
    const existing = await getResource(ctx, name);
    return swap(ctx, { ...parsed, createdAt: existing.createdAt, updatedAt: ctx.now() }, existing);
  });
  await ctx.audit.record({ type: 'admin.resource.replaced', outcome: 'success', ...by, data: summary(replaced) });
  return replaced;
}

/**
 * Adds an encryption key (a public JWK) as the resource's newest: its tokens are encrypted to it from now on (on
 * the other instances within seconds); the older keys stay listed until removed.
 */
export async function addResourceKey(ctx: ServerContext, by: Actor, name: string, jwk: unknown): Promise<Resource> {
  const key = parseResourceKey(jwk);
  const changed = await untilUnchanged(`resource ${name}`, async () => {
    const existing = await getResource(ctx, name);
    if (existing.encryptionKeys.some((k) => k.kid === key.kid))
      throw new ConflictError(`resource ${name} already has a key ${key.kid}`);
    if (existing.encryptionKeys.length >= MAX_RESOURCE_KEYS)
      throw new AdminInputError(`resource ${name} holds ${MAX_RESOURCE_KEYS} keys: remove an old one first`);
    return swap(ctx, { ...existing, encryptionKeys: [...existing.encryptionKeys, key], updatedAt: ctx.now() }, existing);
  });
  await ctx.audit.record({
    type: 'admin.resource.key_added',
    outcome: 'success',
    ...by,
    data: { name, kid: key.kid, alg: key.alg },
  });
  return changed;
}

/** Removes an encryption key; the last key of a resource whose tokens are encrypted stays (turn encryption off first). */
export async function removeResourceKey(ctx: ServerContext, by: Actor, name: string, kid: string): Promise<Resource> {
  const changed = await untilUnchanged(`resource ${name}`, async () => {
    const existing = await getResource(ctx, name);
    if (!existing.encryptionKeys.some((k) => k.kid === kid)) throw new NotFoundError('encryption key', kid);
    const keys = existing.encryptionKeys.filter((k) => k.kid !== kid);
    if (keys.length === 0 && existing.encryptAccessTokens)
      throw new ConflictError(`${kid} is the last key of resource ${name}, whose tokens are encrypted: add another first`);
    return swap(ctx, { ...existing, encryptionKeys: keys, updatedAt: ctx.now() }, existing);
  });
  await ctx.audit.record({ type: 'admin.resource.key_removed', outcome: 'success', ...by, data: { name, kid } });
  return changed;
}

/** Removes a resource: its audience's tokens are issued signed only (if clients may still ask for it). */
export async function removeResource(ctx: ServerContext, by: Actor, name: string): Promise<void> {
  const removed = await ctx.store.resources.delete(name);
  ctx.resources.changed();
  if (!removed) throw new NotFoundError('resource', name);
  await ctx.audit.record({ type: 'admin.resource.removed', outcome: 'success', ...by, data: { name } });
}

function summary(r: Resource) {
  return {
    name: r.name,
    resource: r.resource,
    encrypt_access_tokens: r.encryptAccessTokens,
    kids: r.encryptionKeys.map((k) => k.kid),
    access_token_claims: r.accessTokenClaims,
  };
}

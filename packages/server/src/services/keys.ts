import type { Key } from '@tessera/core';

import type { ServerContext } from '../context.js';
import type { SigningKeyRecord } from '../store/types.js';
import type { Actor } from './actor.js';
import { epochSeconds } from './epoch.js';
import { AdminInputError, ConflictError, NotFoundError } from './errors.js';

/** A signing key as the admin API and `tessera keys ... --json` show it: never private material. */
export function keyView(k: SigningKeyRecord) {
  return {
    kid: k.kid,
    alg: k.alg,
    state: k.state,
    created_at: epochSeconds(k.createdAt),
    activates_at: epochSeconds(k.activatesAt),
    retired_at: epochSeconds(k.retiredAt),
    /** When a retired key leaves the JWKS. */
    remove_at: epochSeconds(k.removeAfter),
  };
}

/** The keys as they are in the store now (another instance or the CLI may have changed them). */
export async function listKeys(ctx: ServerContext): Promise<readonly SigningKeyRecord[]> {
  await ctx.keys.reload();
  return ctx.keys.list();
}

/** Rotates as soon as it is safe; returns the key that takes over and when. */
export async function rotateKeys(ctx: ServerContext, by: Actor): Promise<{ kid: string; activatesAt: number }> {
  const r = await ctx.keys.rotateNow(ctx.now());
  await ctx.audit.record({
    type: 'admin.keys.rotated',
    outcome: 'success',
    ...by,
    data: { kid: r.kid, activates_at: epochSeconds(r.activatesAt) },
  });
  return r;
}

/** Adds an existing private key as the next signing key. */
export async function importSigningKey(ctx: ServerContext, by: Actor, key: Key): Promise<SigningKeyRecord> {
  if (key.alg !== ctx.config.signingAlg)
    throw new AdminInputError(`the key is ${key.alg}; this server signs with ${ctx.config.signingAlg}`);
  if (key.kind === 'public') throw new AdminInputError('a public key cannot sign');
  const r = await ctx.keys.importKey(key, ctx.now());
  if (r.kind === 'exists') throw new ConflictError(`a key with kid ${key.kid} exists`);
  const rec = r.record;
  await ctx.audit.record({ type: 'admin.keys.imported', outcome: 'success', ...by, data: { kid: rec.kid, alg: rec.alg } });
  return rec;
}

/** Takes a next or active key out of service now (KeyManager.retire says how). */
export async function retireKey(ctx: ServerContext, by: Actor, kid: string): Promise<SigningKeyRecord> {
  const r = await ctx.keys.retire(kid, ctx.now());
  if (r.kind === 'unknown') throw new NotFoundError('key', kid);
  if (r.kind !== 'retired') throw new ConflictError(`key ${kid} is already retired`);
  await ctx.audit.record({
    type: 'admin.keys.retired',
    outcome: 'success',
    ...by,
    data: { kid, state: r.record.state },
  });
  return r.record;
}

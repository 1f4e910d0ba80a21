import type { ServerContext } from '../context.js';
import type { Revocation } from '../store/types.js';
import { REVOCATION_RECORD_SKEW_S } from './record-skew.js';

/**
 * Revokes a refresh-token family (a session) with its access tokens (`sid`): the family and the record that
 * announces it are one transaction in the store, so a crash leaves both or neither, and a retry of a revoke that an
 * older version left half done completes it. The record is then applied here and sent to the other instances.
 * Returns the record when this call wrote it (undefined: unknown, or revoked and announced before).
 */
export async function revokeSession(
  ctx: ServerContext,
  familyId: string,
  why: { family: string; record: string },
  accessTokenTtl: number,
  now: number,
): Promise<Revocation | undefined> {
  const r = await ctx.store.refreshFamilies.revoke(familyId, why.family, now, {
    expiresAt: now + (accessTokenTtl + REVOCATION_RECORD_SKEW_S) * 1000,
    reason: why.record,
  });
  if (r) await ctx.revocations.announce(r);
  return r;
}

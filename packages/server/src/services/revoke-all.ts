import { SETTINGS } from '../config/schema.js';
import type { ServerContext } from '../context.js';
import type { Actor } from './actor.js';
import { REVOCATION_RECORD_SKEW_S } from '../revocation/record-skew.js';

/** A cut-off record must outlive every token it can affect: the longest access-token lifetime, plus skew. */
const CUTOFF_LIFETIME_MS = (SETTINGS.accessTokenTtl.max + REVOCATION_RECORD_SKEW_S) * 1000;

/**
 * Revokes everything of a user (`subject`) or a client: every live refresh-token family, and every access
 * token issued before now (a cut-off pushed to verifiers through the revocation registry). A user's browser
 * sessions end first, so that no sign-in through them follows the cut-off.
 */
export async function revokeEverything(
  ctx: ServerContext,
  target: { kind: 'subject' | 'client'; id: string },
  reason: string,
  who: Actor,
): Promise<{ families: number; seq: number }> {
  const now = ctx.now();
  if (target.kind === 'subject') await ctx.store.browserSessions.deleteByUser(target.id);
  // The families and the cut-off in one transaction: a crash leaves both or neither.
  const { families, revocation: r } = await ctx.store.refreshFamilies.revokeAllOf(
    target.kind === 'subject' ? { userId: target.id } : { clientId: target.id },
    reason,
    now,
    { expiresAt: now + CUTOFF_LIFETIME_MS, reason },
  );
  await ctx.revocations.announce(r);
  await ctx.audit.record({
    type: 'revocation.cutoff',
    outcome: 'success',
    actor: who.actor,
    subject: target.kind === 'subject' ? target.id : null,
    clientId: target.kind === 'client' ? target.id : null,
    ip: who.ip,
    data: { reason, families: families.length, seq: r.seq },
  });
  return { families: families.length, seq: r.seq };
}

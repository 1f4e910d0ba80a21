import { SETTINGS } from '../config/schema.js';
import type { ServerContext } from '../context.js';
import type { CutOff, FamilyRevocation } from '../store/refresh-families.js';
import type { Actor } from './actor.js';
import { REVOCATION_RECORD_SKEW_S } from '../revocation/record-skew.js';

/** A cut-off record must outlive every token it can affect: the longest access-token lifetime, plus skew. */
const CUTOFF_LIFETIME_MS = (SETTINGS.accessTokenTtl.max + REVOCATION_RECORD_SKEW_S) * 1000;

/** Whose everything is revoked: a user (`subject`) or a client. */
export interface CutOffTarget {
  kind: 'subject' | 'client';
  id: string;
}

/** The record of a cut-off made at `now`: kept as long as a token it revokes can live. */
export function cutOffRecord(now: number, reason: string): FamilyRevocation {
  return { expiresAt: now + CUTOFF_LIFETIME_MS, reason };
}

/**
 * After the transaction that wrote a cut-off has committed: pushes its record to this instance's registry (and
 * through it the bus and the feed), and audits it.
 */
export async function announceCutOff(
  ctx: ServerContext,
  target: CutOffTarget,
  reason: string,
  who: Actor,
  { families, revocation: r }: CutOff,
): Promise<void> {
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
}

/**
 * Revokes everything of a user (`subject`) or a client: every live refresh-token family, and every access
 * token issued before now (a cut-off pushed to verifiers through the revocation registry). A change that implies
 * it (a user disabled, a client deleted) writes it in its own transaction (the repositories' `...AndCutOff`) and
 * announces it with announceCutOff.
 */
export async function revokeEverything(
  ctx: ServerContext,
  target: CutOffTarget,
  reason: string,
  who: Actor,
): Promise<{ families: number; seq: number }> {
  const now = ctx.now();
  // The families and the cut-off in one transaction: a crash leaves both or neither.
  const cut = await ctx.store.refreshFamilies.revokeAllOf(
    target.kind === 'subject' ? { userId: target.id } : { clientId: target.id },
    reason,
    now,
    cutOffRecord(now, reason),
  );
  await announceCutOff(ctx, target, reason, who, cut);
  return { families: cut.families.length, seq: cut.revocation.seq };
}

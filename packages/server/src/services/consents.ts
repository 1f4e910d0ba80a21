import type { ServerContext } from '../context.js';
import type { Consent } from '../store/types.js';
import type { Actor } from './actor.js';
import { epochSeconds } from './epoch.js';
import { NotFoundError } from './errors.js';
import { findUser } from './users.js';

/** A consent as the admin API shows it. */
export function consentView(c: Consent) {
  return { user_id: c.userId, client_id: c.clientId, scopes: [...c.scopes], granted_at: epochSeconds(c.grantedAt) };
}

/** The third-party clients a user has allowed, with the scopes allowed to each. */
export async function listConsents(ctx: ServerContext, userId: string): Promise<Consent[]> {
  await findUser(ctx, { id: userId });
  return ctx.store.consents.listByUser(userId);
}

/**
 * Withdraws a user's consent to a client: the next authorization of that client shows the consent page again.
 * Tokens already issued are not touched (revoke the user's sessions with that client for that).
 */
export async function revokeConsent(ctx: ServerContext, by: Actor, userId: string, clientId: string): Promise<void> {
  await findUser(ctx, { id: userId });
  if (!(await ctx.store.consents.delete(userId, clientId))) throw new NotFoundError('consent', `${userId}/${clientId}`);
  await ctx.audit.record({ type: 'admin.consent.revoked', outcome: 'success', ...by, subject: userId, clientId, data: {} });
}

import type { ServerContext } from '../context.js';
import { revokeSession as revokeFamily } from '../revocation/revoke-session.js';
import { endBrowserSession } from '../signin/session.js';
import type { BrowserSession, RefreshFamily } from '../store/types.js';
import type { Actor } from './actor.js';
import { epochSeconds } from './epoch.js';
import { NotFoundError } from './errors.js';
import { findUser } from './users.js';

/** A session (refresh-token family) as the admin API shows it. */
export function sessionView(f: RefreshFamily) {
  return {
    id: f.id,
    user_id: f.userId,
    client_id: f.clientId,
    scope: f.scope,
    audience: [...f.audience],
    created_at: epochSeconds(f.createdAt),
    expires_at: epochSeconds(f.absoluteExpiresAt),
    last_used_at: epochSeconds(f.lastUsedAt),
    revoked_at: epochSeconds(f.revokedAt),
    revoked_reason: f.revokedReason,
    browser_session_id: f.browserSessionId,
  };
}

/**
 * A browser session (hosted login) as the admin API shows it: its public id and times, never the cookie's id or
 * its digest. `idle_expires_at` is when it ends unless used again; `expires_at` when it ends however used.
 */
export function browserSessionView(s: BrowserSession) {
  return {
    id: s.id,
    user_id: s.userId,
    created_at: epochSeconds(s.createdAt),
    auth_time: epochSeconds(s.authTime),
    idle_expires_at: epochSeconds(s.idleExpiresAt),
    expires_at: epochSeconds(s.absoluteExpiresAt),
  };
}

export async function listSessions(ctx: ServerContext, userId: string): Promise<RefreshFamily[]> {
  await findUser(ctx, { id: userId });
  return ctx.store.refreshFamilies.list({ userId });
}

/** Ends one session: its refresh tokens and the access tokens issued from it. */
export async function revokeSession(ctx: ServerContext, by: Actor, id: string): Promise<void> {
  const now = ctx.now();
  const family = await ctx.store.refreshFamilies.get(id);
  if (!family) throw new NotFoundError('session', id);
  const ttl = (await ctx.store.clients.get(family.clientId))?.accessTokenTtl ?? ctx.config.accessTokenTtl;
  // The family and its revocation record in one transaction; a retry completes a revoke left half done.
  if (!(await revokeFamily(ctx, family.id, { family: 'admin', record: 'admin' }, ttl, now))) return;
  await ctx.audit.record({
    type: 'admin.session.revoked',
    outcome: 'success',
    ...by,
    subject: family.userId,
    clientId: family.clientId,
    data: { family: family.id },
  });
}

/** A user's live browser sessions, newest first. */
export async function listBrowserSessions(ctx: ServerContext, userId: string): Promise<BrowserSession[]> {
  await findUser(ctx, { id: userId });
  return ctx.store.browserSessions.listByUser(userId, ctx.now());
}

/**
 * Ends a browser session: the user must sign in again in that browser, and the refresh-token families started from
 * it without `offline_access` are revoked with their access tokens, pushed to every verifier (signin/session.ts).
 * Families granted `offline_access` outlive the session by design; revoke them as sessions (revokeSession) or cut
 * the user off. Returns the revoked families' ids.
 */
export async function revokeBrowserSession(ctx: ServerContext, by: Actor, id: string): Promise<{ families: string[] }> {
  const end = await endBrowserSession(ctx, { id }, 'admin');
  if (!end) throw new NotFoundError('browser session', id);
  const families = end.revocations.map((r) => r.value);
  await ctx.audit.record({
    type: 'admin.browser_session.revoked',
    outcome: 'success',
    ...by,
    subject: end.session.userId,
    data: { browser_session: id, families },
  });
  return { families };
}

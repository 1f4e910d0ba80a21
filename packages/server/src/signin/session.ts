import type { ServerContext } from '../context.js';
import type { Authentication } from '../oauth/issue-code.js';
import { cookieValue, hostCookie } from '../http/cookies.js';
import { newId, newSessionId } from '../security/random.js';
import { cutOffRecord } from '../services/revoke-all.js';
import type { SessionEnd } from '../store/browser-sessions.js';
import type { BrowserSession, User } from '../store/types.js';

/**
 * The hosted login's browser session cookie. `__Host-` (RFC 6265bis): Secure, Path=/, no Domain, so no
 * subdomain or plain-http page can set or overwrite it; HttpOnly keeps it from scripts; SameSite=Lax sends it
 * on the top-level navigation back from a client to /authorize, not on cross-site subrequests. It holds a
 * random id only; the store keeps the id's keyed digest.
 */
/**
 * How a browser session's user authenticated: the password on the login page, the one method the hosted login
 * offers (RFC 8176 `pwd`); stated as `amr` in the ID tokens of codes issued in that session.
 */
export const PASSWORD_SIGN_IN: Authentication = { amr: ['pwd'] };

export const SESSION_COOKIE = '__Host-tessera-session';

/** The Set-Cookie value that hands the browser a session id, living as long as the session may. */
export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return hostCookie(SESSION_COOKIE, id, maxAgeSeconds);
}

/** The Set-Cookie value that removes the session cookie. */
export function clearedSessionCookie(): string {
  return hostCookie(SESSION_COOKIE, '', 0);
}

/** The session id the request's Cookie header carries (the first `__Host-tessera-session`), if it has the shape of one. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  return cookieValue(cookieHeader, SESSION_COOKIE, /^tsb_[A-Za-z0-9_-]{43}$/);
}

/**
 * Starts the session of a user who has just entered their password. A new id every time, and the session the
 * browser came with (`previousId`, whoever it belonged to) deleted in the same store transaction: an id
 * planted in the browser before the login never names the signed-in session (session fixation). Returns the
 * cookie's id (`id`, secret: only its digest is stored) and the session, whose own `session.id` is public.
 */
export async function startBrowserSession(
  ctx: ServerContext,
  userId: string,
  previousId: string | undefined,
): Promise<{ id: string; session: BrowserSession; cookie: string }> {
  const now = ctx.now();
  const id = newSessionId();
  const session: BrowserSession = {
    id: newId(),
    digest: ctx.master.secretDigest(id),
    userId,
    authTime: now,
    createdAt: now,
    idleExpiresAt: now + ctx.config.sessionIdleTtl * 1000,
    absoluteExpiresAt: now + ctx.config.sessionAbsoluteTtl * 1000,
  };
  // The session the browser came with ends here as at a logout: its bound refresh families are revoked too.
  const revocations = await ctx.store.browserSessions.create(
    session,
    previousId === undefined
      ? undefined
      : { digest: ctx.master.secretDigest(previousId), reason: 'replaced', now, record: cutOffRecord(now, 'replaced') },
  );
  for (const r of revocations) await ctx.revocations.announce(r);
  return { id, session, cookie: sessionCookie(id, ctx.config.sessionAbsoluteTtl) };
}

/**
 * The live session the id names and its user, its idle lifetime renewed; undefined when the id names no live
 * session, or its user is gone or disabled (fail closed: the user signs in again).
 */
export async function currentBrowserSession(
  ctx: ServerContext,
  id: string | undefined,
): Promise<{ session: BrowserSession; user: User } | undefined> {
  if (id === undefined) return undefined;
  const now = ctx.now();
  const session = await ctx.store.browserSessions.touch(ctx.master.secretDigest(id), now, now + ctx.config.sessionIdleTtl * 1000);
  if (!session) return undefined;
  const user = await ctx.store.users.getById(session.userId);
  return user && !user.disabled ? { session, user } : undefined;
}

/**
 * Ends a browser session, named by the cookie's id (logout) or by its public id (an administrator): the session
 * deleted and the refresh families bound to it revoked, with the records announcing them, in one store
 * transaction (families granted `offline_access` are not bound, and live on); then the records are pushed through
 * the revocation registry, so the families' access tokens (`sid`) are refused everywhere. Undefined when there
 * was no such session.
 */
export async function endBrowserSession(
  ctx: ServerContext,
  ref: { cookieId: string } | { id: string },
  reason: string,
): Promise<SessionEnd | undefined> {
  const now = ctx.now();
  const end = await ctx.store.browserSessions.end(
    'id' in ref ? { id: ref.id } : { digest: ctx.master.secretDigest(ref.cookieId) },
    reason,
    now,
    // Each record is kept as long as an access token of any client can live.
    cutOffRecord(now, reason),
  );
  for (const r of end?.revocations ?? []) await ctx.revocations.announce(r);
  return end;
}

import type { ServerContext } from '../context.js';
import { cookieValue, hostCookie } from '../http/cookies.js';
import { newSessionId } from '../security/random.js';
import type { BrowserSession, User } from '../store/types.js';

/**
 * The hosted login's browser session cookie. `__Host-` (RFC 6265bis): Secure, Path=/, no Domain, so no
 * subdomain or plain-http page can set or overwrite it; HttpOnly keeps it from scripts; SameSite=Lax sends it
 * on the top-level navigation back from a client to /authorize, not on cross-site subrequests. It holds a
 * random id only; the store keeps the id's keyed digest.
 */
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
 * planted in the browser before the login never names the signed-in session (session fixation).
 */
export async function startBrowserSession(
  ctx: ServerContext,
  userId: string,
  previousId: string | undefined,
): Promise<{ id: string; session: BrowserSession; cookie: string }> {
  const now = ctx.now();
  const id = newSessionId();
  const session: BrowserSession = {
    digest: ctx.master.secretDigest(id),
    userId,
    authTime: now,
    createdAt: now,
    idleExpiresAt: now + ctx.config.sessionIdleTtl * 1000,
    absoluteExpiresAt: now + ctx.config.sessionAbsoluteTtl * 1000,
  };
  await ctx.store.browserSessions.create(session, previousId === undefined ? undefined : ctx.master.secretDigest(previousId));
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

/** `refresh`: a new access token on the live connection, for the same user and the same key binding (verify.ts). */
import { Disconnect, stringParam, Unsubscribe } from '../protocol.js';
import type { Params, SessionContext } from './context.js';
import { DisconnectError, NO_REPLY } from './outcome.js';
import { tokenTtl } from './params.js';
import { dpopProof, verifyAccessToken } from './verify.js';

export async function refresh(session: SessionContext, p: Params): Promise<unknown> {
  const token = stringParam(p, 'token');
  if (!token) throw new DisconnectError(Disconnect.invalidToken);
  const principal = await verifyAccessToken(session, token, dpopProof(p.data));
  if (session.closed) return NO_REPLY;
  // A connection belongs to one user for its whole life.
  if (principal.sub !== session.principal!.sub) throw new DisconnectError(Disconnect.invalidToken);
  session.setPrincipal(principal);
  // Rights are the new token's: subscriptions it no longer grants end now.
  for (const sub of [...session.subs.values()]) {
    if (sub.viaToken) continue;
    if (!session.rights!.allows(sub.channel, sub.info, 'subscribe'))
      session.serverUnsubscribe(sub.channel, Unsubscribe.permissionLost);
  }
  return { client: session.id, version: session.hub.version, expires: true, ttl: tokenTtl(session, principal) };
}

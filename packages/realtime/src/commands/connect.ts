/** `connect`: the first command of every connection, with the access token. */
import { Disconnect, stringParam } from '../protocol.js';
import type { Params, SessionContext } from './context.js';
import { DisconnectError, NO_REPLY } from './outcome.js';
import { tokenTtl } from './params.js';
import { dpopProof, verifyAccessToken } from './verify.js';

export async function connect(session: SessionContext, p: Params): Promise<unknown> {
  if (session.principal) throw new DisconnectError(Disconnect.badRequest);
  const token = stringParam(p, 'token');
  if (!token) throw new DisconnectError(Disconnect.invalidToken);
  const principal = await verifyAccessToken(session, token, dpopProof(p.data));
  if (session.closed) return NO_REPLY;
  if (principal.sub === undefined) throw new DisconnectError(Disconnect.invalidToken);
  const hub = session.hub;
  if (!hub.admit(principal)) throw new DisconnectError(Disconnect.connectionLimit);
  session.authenticated(principal);
  return {
    client: session.id,
    version: hub.version,
    expires: true,
    ttl: tokenTtl(session, principal),
    ping: Math.round(hub.limits.pingIntervalMs / 1000),
    pong: true,
    node: hub.nodeId,
  };
}

/** `sub_refresh`: a new subscription token for a subscription granted by one. */
import { ErrorCode, stringParam } from '../protocol.js';
import type { Params, SessionContext } from './context.js';
import { refuse } from './outcome.js';
import { requireChannel, ttlSeconds } from './params.js';
import { verifySubscriptionToken } from './verify.js';

export async function subRefresh(session: SessionContext, p: Params): Promise<unknown> {
  const channel = requireChannel(p);
  const token = stringParam(p, 'token');
  const sub = session.subs.get(channel);
  if (!sub || !sub.viaToken) throw refuse(ErrorCode.badRequest);
  if (!token) throw refuse(ErrorCode.badRequest);
  const expiresAt = await verifySubscriptionToken(session, token, channel);
  if (session.subs.get(channel) !== sub) throw refuse(ErrorCode.badRequest);
  sub.expiresAt = expiresAt;
  session.armSubscriptionExpiry(sub);
  return { expires: true, ttl: ttlSeconds(session, expiresAt) };
}

/**
 * `subscribe`: rights from the connection's scopes or a subscription token, the broker subscription, the
 * history position and recovery, then presence. Pushes for the channel that arrive meanwhile wait for the
 * reply (the session flushes them after it).
 */
import { hasHistory, type ChannelInfo } from '../channels.js';
import { ErrorCode, fitPublications, stringParam } from '../protocol.js';
import type { Subscription } from '../subscription.js';
import type { Params, SessionContext } from './context.js';
import { NO_REPLY, refuse } from './outcome.js';
import { describeChannel, parsePosition, requireChannel, ttlSeconds } from './params.js';
import { verifySubscriptionToken } from './verify.js';

export async function subscribe(session: SessionContext, p: Params): Promise<unknown> {
  const channel = requireChannel(p);
  const info = describeChannel(session, channel);
  if (session.subs.has(channel)) throw refuse(ErrorCode.alreadySubscribed);
  if (session.subs.size >= session.hub.limits.maxSubscriptions) throw refuse(ErrorCode.limitExceeded);
  const token = stringParam(p, 'token');
  let expiresAt: number | undefined;
  let viaToken = false;
  if (token) {
    expiresAt = await verifySubscriptionToken(session, token, channel);
    viaToken = true;
  } else if (info.options.subscriptionTokenRequired || !session.rights!.allows(channel, info, 'subscribe')) {
    throw refuse(ErrorCode.permissionDenied);
  }
  if (session.closed) return NO_REPLY;
  if (session.subs.has(channel)) throw refuse(ErrorCode.alreadySubscribed);
  const sub: Subscription = {
    channel,
    info,
    viaToken,
    expiresAt,
    timer: undefined,
    pending: [],
    joined: false,
    epoch: '',
    offset: 0,
  };
  const result: Record<string, unknown> = {};
  session.afterReply(() => session.flushPending(sub, result));
  if (expiresAt !== undefined) {
    Object.assign(result, { expires: true, ttl: ttlSeconds(session, expiresAt) });
    session.armSubscriptionExpiry(sub);
  }
  session.subs.set(channel, sub);
  // After each wait: the connection may have closed, or the server ended the subscription meanwhile (its
  // unsubscribe push then follows this reply).
  const gone = () => session.closed || session.subs.get(channel) !== sub;
  const hub = session.hub;
  try {
    await hub.addSubscriber(channel, session);
    if (gone()) return session.closed ? NO_REPLY : result;
    await subscribeState(session, p, channel, info, result);
    if (gone()) return session.closed ? NO_REPLY : result;
    if (info.options.presence) {
      sub.joined = true;
      await hub.enterPresence(channel, session);
    }
  } catch (err) {
    // The client hears the error: it must not stay subscribed here either.
    if (session.subs.get(channel) === sub) session.removeSubscription(sub);
    throw err;
  }
  return session.closed ? NO_REPLY : result;
}

/** History position, and recovery of what a reconnecting client missed. */
async function subscribeState(
  session: SessionContext,
  p: Params,
  channel: string,
  info: ChannelInfo & { ok: true },
  result: Record<string, unknown>,
): Promise<void> {
  if (!hasHistory(info.options)) return;
  const hub = session.hub;
  const bounds = hub.historyBounds(info.options)!;
  const recover = p.recover === true;
  const since = recover ? parsePosition(p) : undefined;
  const h = await hub.broker.history(channel, since ? { limit: bounds.size, since } : { limit: 0 }, bounds);
  Object.assign(result, { recoverable: true, positioned: true, epoch: h.position.epoch, offset: h.position.offset });
  if (!since) return;
  // What the client missed, if it fits one reply; else it is told it was not recovered.
  const fit = fitPublications(h.publications, hub.limits.maxBufferedBytes);
  const recovered = h.complete && !fit.truncated;
  // The SDK's rejectUnrecovered flag (2) asks for an error rather than a gap.
  if (!recovered && typeof p.flag === 'number' && (p.flag & 2) !== 0) throw refuse(ErrorCode.unrecoverablePosition);
  Object.assign(result, { was_recovering: true, recovered, publications: recovered ? fit.publications : [] });
}

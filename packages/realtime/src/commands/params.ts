/** Reading and checking a command's parameters; a bad one is error 107 bad request. */
import type { StreamPosition } from '../broker.js';
import type { ChannelAction, ChannelInfo } from '../channels.js';
import { ErrorCode, stringParam } from '../protocol.js';
import type { Params, SessionContext } from './context.js';
import { channelRefusal, refuse } from './outcome.js';

export function requireChannel(p: Params): string {
  const channel = stringParam(p, 'channel');
  if (!channel) throw refuse(ErrorCode.badRequest);
  return channel;
}

/** The channel's namespace options; 102 or 107 when it has none. */
export function describeChannel(session: SessionContext, channel: string): ChannelInfo & { ok: true } {
  const info = session.hub.channels.describe(channel);
  if (!info.ok) throw channelRefusal(info.reason);
  return info;
}

/** A stream position `{epoch, offset}`; undefined when it is not one (the client has none yet). */
export function parsePosition(p: Params): StreamPosition | undefined {
  if (typeof p !== 'object' || p === null) throw refuse(ErrorCode.badRequest);
  const epoch = p.epoch;
  const offset = p.offset ?? 0;
  if (typeof epoch !== 'string' || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { epoch, offset };
}

/** Presence and history: the right from the connection's scopes (a subscription token grants neither). */
export function authorizeRead(
  session: SessionContext,
  channel: string,
  action: ChannelAction,
  presence: boolean,
): ChannelInfo & { ok: true } {
  const info = describeChannel(session, channel);
  if (!session.rights!.allows(channel, info, action)) throw refuse(ErrorCode.permissionDenied);
  if (presence && !info.options.presence) throw refuse(ErrorCode.notAvailable);
  return info;
}

/** Seconds left until `expiresAtMs`, at least 1, as the protocol's `ttl`. */
export function ttlSeconds(session: SessionContext, expiresAtMs: number): number {
  return Math.max(1, Math.floor((expiresAtMs - session.hub.clock.now()) / 1000));
}

/** Seconds left of a connection token (its `exp` is in seconds), at least 1. */
export function tokenTtl(session: SessionContext, principal: { readonly expiresAt: number }): number {
  return Math.max(1, Math.floor(principal.expiresAt - session.hub.clock.now() / 1000));
}

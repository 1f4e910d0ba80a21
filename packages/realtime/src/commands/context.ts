/**
 * What a command handler may use of its connection. The session implements it; handlers depend on this
 * interface only, so the session can import them without an import cycle.
 */
import type { Principal } from '@tessera/verifier';

import type { ChannelRights } from '../channels.js';
import type { Hub } from '../hub.js';
import type { Member } from '../member.js';
import type { RateBucket } from '../rate-bucket.js';
import type { Subscription } from '../subscription.js';

export type Params = Readonly<Record<string, unknown>>;

/**
 * The WebSocket URL as the client addressed it, from its upgrade request: the target (path and query), the
 * Host header and whether it came over TLS. A DPoP proof names it (`htu`, with the verifier's `externalOrigin`
 * in place of scheme and Host when set). And the client certificate of the connection's mutual TLS, which a
 * certificate-bound token (RFC 8705) needs.
 */
export interface Handshake {
  readonly url: string;
  readonly host: string | undefined;
  readonly secure: boolean;
  /** The DER of the connection's TLS client certificate, undefined without one; read only for a bound token. */
  readonly certificate: () => Uint8Array | undefined;
}

export interface SessionContext extends Member {
  readonly hub: Hub;
  /** The upgrade request the connection came with. */
  readonly handshake: Handshake;
  /** The socket has closed: a handler that waited drops its result. */
  readonly closed: boolean;
  /** The channel rights of the current principal's scopes. */
  readonly rights: ChannelRights | undefined;
  readonly subs: Map<string, Subscription>;
  /** Publications per second (publishRate, publishBurst). */
  readonly publishBucket: RateBucket;
  /** Token verifications per second (connect, refresh, subscription tokens): each costs a signature check. */
  readonly verifyBucket: RateBucket;
  /** Runs `f` once the current command's reply (or error) has been sent. */
  afterReply(f: () => void): void;
  /** The first principal: the connect timeout ends and pings start. */
  authenticated(principal: Principal): void;
  /** A refreshed principal: new rights and a new expiry. */
  setPrincipal(principal: Principal): void;
  /** (Re)arms the timer that ends a token-granted subscription at its expiry (plus grace). */
  armSubscriptionExpiry(sub: Subscription): void;
  removeSubscription(sub: Subscription): void;
  /** Once the subscribe reply is out: its position, then the pushes that waited for it. */
  flushPending(sub: Subscription, result: Record<string, unknown>): void;
}

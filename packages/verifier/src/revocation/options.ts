import type { Key } from '@tessera/core';

/** The scope a client needs to read revocations. */
export const REVOCATIONS_SCOPE = 'tessera:revocations';
/** The Redis channel the auth server publishes revocations and heartbeats on. */
export const REVOCATIONS_CHANNEL = 'tessera:revocations';

/** The part of an ioredis client (in subscriber mode) the list uses. */
export interface RedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ioredis types listeners this loosely
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

export interface RevocationListOptions {
  /** The auth server's base URL (its issuer): the list reads `<issuer>/revocations` and `.../stream`. */
  issuer: string | URL;
  /**
   * Credentials for those endpoints: a function returning a bearer token (scope `tessera:revocations`,
   * audience `<issuer>/revocations`), called at each connection; or the client's id with its secret or
   * private key, from which the list gets such tokens itself.
   */
  token?: () => string | Promise<string>;
  clientId?: string;
  clientSecret?: string;
  privateKey?: Key;
  /**
   * Updates from Redis directly instead of the server's event stream: an ioredis client dedicated to
   * subscribing. The snapshot still comes from the server (at start, and to resync after a gap).
   */
  redis?: { subscriber: RedisSubscriber; channel?: string };
  /**
   * How long the list keeps answering after it last heard from the server (an event, a heartbeat, a
   * snapshot). Default 30,000 ms. Past it, `whenStale` decides.
   */
  maxStaleMs?: number;
  /**
   * `reject` (default): every verification fails with ERR_REVOCATIONS_UNAVAILABLE (503) until the list is
   * current again: nothing revoked can slip through, at the price of availability. `accept`: tokens keep
   * being accepted on the revocations known so far.
   */
  whenStale?: 'reject' | 'accept';
  /** A stream that delivers nothing (not even a heartbeat) for this long is dropped and reopened. Default 15,000 ms. */
  idleTimeoutMs?: number;
  /** Reconnection backoff: first delay and cap, ms (jittered). Defaults 250 and 10,000. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Abort a snapshot or report request after this many ms. Default 5,000. */
  timeoutMs?: number;
  /** Largest snapshot accepted, in bytes, declared or streamed (a chunked body is counted as it arrives). Default 64 MiB. */
  maxSnapshotBytes?: number;
  /** Report each revoked token presented (at most once per token) to the server as an anomaly event. */
  reportRevokedUse?: boolean;
  /** Told of failures (stream lost, snapshot refused, ...); the list recovers by itself. */
  onError?: (err: unknown) => void;
  fetch?: typeof fetch;
  /** Clock in ms. */
  now?: () => number;
}

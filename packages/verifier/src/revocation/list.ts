import { ConfigError, type Key } from '@tessera/core';

import { RevocationsUnavailableError, TokenRequestError } from '../errors.js';
import type { Principal } from '../principal.js';
import { readCapped } from '../read-capped.js';
import { ServiceTokenSource } from '../token-source.js';
import { parseRevocationEntry, RevocationSet, type RevocableClaims, type RevocationEntry } from './set.js';
import { SseParser, type SseEvent } from './sse.js';

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

type Listener = (entry: RevocationEntry) => void;

const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;
const REPORTED_MEMORY = 10_000;

/**
 * The revocations of one auth server, held in memory: filled from the server's snapshot, kept current from
 * its event stream (reconnecting with backoff, resuming from the last sequence number, resyncing from the
 * snapshot when the server says the gap is too large or a heartbeat shows a missed event) or from Redis.
 * An entry leaves when the last token it can affect has expired. Plug it into a Verifier with the
 * `revocations` option: every verification (cached or not) consults it, and each new entry drops the
 * verified-token cache entries it revokes.
 */
export class RevocationList {
  private readonly set = new RevocationSet();
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly tokenFn: () => string | Promise<string>;
  private readonly tokenSource: ServiceTokenSource | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly o: Required<
    Pick<
      RevocationListOptions,
      'maxStaleMs' | 'whenStale' | 'idleTimeoutMs' | 'backoffMs' | 'maxBackoffMs' | 'timeoutMs' | 'maxSnapshotBytes'
    >
  >;
  private readonly reported = new Set<string>();
  private lastContact = -Infinity;
  private loaded = false;
  private closed = false;
  private abort: AbortController | undefined;
  private readyWaiters: (() => void)[] = [];
  private pruneTimer: NodeJS.Timeout;
  private redisHandlers: { message: (c: string, m: string) => void; ready: () => void; close: () => void } | undefined;
  private resyncing: Promise<void> | undefined;
  private connectedFlag = false;

  constructor(private readonly options: RevocationListOptions) {
    this.base = new URL(options.issuer).toString().replace(/\/$/, '');
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.o = {
      maxStaleMs: options.maxStaleMs ?? 30_000,
      whenStale: options.whenStale ?? 'reject',
      idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
      backoffMs: options.backoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      timeoutMs: options.timeoutMs ?? 5_000,
      maxSnapshotBytes: options.maxSnapshotBytes ?? MAX_SNAPSHOT_BYTES,
    };
    const max = this.o.maxSnapshotBytes;
    if (!Number.isInteger(max) || max < 1) throw new ConfigError('maxSnapshotBytes', 'must be a positive integer');
    if (this.o.whenStale !== 'reject' && this.o.whenStale !== 'accept')
      throw new ConfigError('whenStale', 'must be reject or accept');
    if (options.token !== undefined) {
      if (options.clientId !== undefined) throw new ConfigError('token', 'give either token or client credentials');
      this.tokenFn = options.token;
    } else if (options.clientId !== undefined) {
      const source = new ServiceTokenSource({
        tokenEndpoint: `${this.base}/oauth/token`,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        privateKey: options.privateKey,
        fetch: options.fetch,
        now: options.now,
      });
      this.tokenSource = source;
      this.tokenFn = () => source.getToken({ audience: `${this.base}/revocations`, scope: REVOCATIONS_SCOPE });
    } else {
      throw new ConfigError('token', 'give a token function or client credentials');
    }
    this.pruneTimer = setInterval(() => this.set.prune(this.now()), 30_000);
    this.pruneTimer.unref();
    if (options.redis) this.startRedis(options.redis.subscriber, options.redis.channel ?? REVOCATIONS_CHANNEL);
    else void this.runStream();
  }

  /** Resolves once the first snapshot is loaded; rejects after `timeoutMs` (default: wait for ever). */
  ready(timeoutMs?: number): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => reject(new RevocationsUnavailableError('the revocation list did not load in time')), timeoutMs);
      this.readyWaiters.push(() => {
        if (timer) clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The highest sequence number applied. */
  get sequence(): number {
    return this.set.sequence;
  }

  /** Entries held. */
  get size(): number {
    return this.set.size;
  }

  /** True while the list is current (loaded, and heard from the server within `maxStaleMs`). */
  get current(): boolean {
    return this.loaded && this.now() - this.lastContact <= this.o.maxStaleMs;
  }

  /** True while the event stream (or the Redis subscription) is open. */
  get connected(): boolean {
    return this.connectedFlag;
  }

  /**
   * True when the token with these claims (or this Principal) is revoked. While the list is not current,
   * throws RevocationsUnavailableError (`whenStale: 'reject'`, the default).
   */
  isRevoked(token: Principal | RevocableClaims): boolean {
    const claims: RevocableClaims =
      'claims' in token && typeof token.claims === 'object' ? (token.claims as RevocableClaims) : (token as RevocableClaims);
    const now = this.now();
    if (this.o.whenStale === 'reject' && (!this.loaded || now - this.lastContact > this.o.maxStaleMs))
      throw new RevocationsUnavailableError(this.loaded ? 'the revocation list is stale' : 'the revocation list has not loaded');
    const hit = this.set.match(claims, now);
    if (hit === undefined) return false;
    if (this.options.reportRevokedUse) this.report(claims, hit);
    return true;
  }

  /** Calls `listener` with every new entry; returns a function that stops it. */
  onRevocation(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the stream (or the Redis subscription) and the timers. */
  close(): void {
    this.closed = true;
    this.connectedFlag = false;
    clearInterval(this.pruneTimer);
    this.abort?.abort();
    if (this.options.redis && this.redisHandlers) {
      const { subscriber, channel } = this.options.redis;
      subscriber.removeListener('message', this.redisHandlers.message);
      subscriber.removeListener('ready', this.redisHandlers.ready);
      subscriber.removeListener('close', this.redisHandlers.close);
      void subscriber.unsubscribe(channel ?? REVOCATIONS_CHANNEL).catch(() => undefined);
    }
  }

  // Updates

  private accept(entry: RevocationEntry, advance = true): void {
    if (!this.set.apply(entry, advance)) return;
    for (const l of this.listeners) {
      try {
        l(entry);
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }

  private contact(): void {
    this.lastContact = this.now();
  }

  private async authorization(): Promise<string> {
    return `Bearer ${await this.tokenFn()}`;
  }

  /** Loads the snapshot and merges it (entries never disappear but by expiry: merging fails closed). */
  private async loadSnapshot(): Promise<void> {
    const started = this.now();
    const res = await this.fetchImpl(`${this.base}/revocations`, {
      headers: { authorization: await this.authorization(), accept: 'application/json' },
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      this.refusedCredentials(res.status);
      throw new RevocationsUnavailableError(`the revocation snapshot was refused (${res.status})`);
    }
    const text = await readCapped(
      res,
      this.o.maxSnapshotBytes,
      this.o.timeoutMs,
      () => new RevocationsUnavailableError('the revocation snapshot is too large'),
    );
    let body: { sequence?: unknown; revocations?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new RevocationsUnavailableError('the revocation snapshot is not JSON');
    }
    if (typeof body?.sequence !== 'number' || !Array.isArray(body.revocations))
      throw new RevocationsUnavailableError('the revocation snapshot is malformed');
    const entries = body.revocations.map(parseRevocationEntry);
    for (const e of entries) this.accept(e);
    this.set.advanceTo(body.sequence);
    this.lastContact = started;
    if (!this.loaded) {
      this.loaded = true;
      for (const w of this.readyWaiters.splice(0)) w();
    }
  }

  /** One resync at a time; callers share it. */
  private resync(): Promise<void> {
    this.resyncing ??= this.loadSnapshot().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private refusedCredentials(status: number): void {
    // A refused token may be expired or revoked: get a fresh one next time.
    if ((status === 401 || status === 403) && this.tokenSource) this.tokenSource.clear();
  }

  // The event stream

  private async runStream(): Promise<void> {
    let delay = this.o.backoffMs;
    while (!this.closed) {
      let healthy = false;
      try {
        if (!this.loaded) await this.resync();
        healthy = await this.consumeStream();
      } catch (err) {
        if (!this.closed) this.options.onError?.(err);
      }
      this.connectedFlag = false;
      if (this.closed) break;
      if (healthy) delay = this.o.backoffMs;
      await sleep(delay / 2 + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, this.o.maxBackoffMs);
    }
  }

  /** Reads the stream until it ends; true when it delivered anything (the backoff starts over). */
  private async consumeStream(): Promise<boolean> {
    const abort = new AbortController();
    this.abort = abort;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(
        () => abort.abort(new RevocationsUnavailableError('the revocation stream went silent')),
        this.o.idleTimeoutMs,
      );
    };
    arm();
    try {
      const res = await this.fetchImpl(`${this.base}/revocations/stream`, {
        headers: {
          authorization: await this.authorization(),
          accept: 'text/event-stream',
          'last-event-id': String(this.set.sequence),
        },
        signal: abort.signal,
      });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        this.refusedCredentials(res.status);
        throw new RevocationsUnavailableError(`the revocation stream was refused (${res.status})`);
      }
      this.connectedFlag = true;
      let delivered = false;
      let resync = false;
      const parser = new SseParser({
        onEvent: (e) => {
          delivered = true;
          if (this.handleEvent(e)) resync = true;
        },
        onComment: () => this.contact(),
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (resync) {
          resync = false;
          await this.resync();
        }
      }
      return delivered;
    } finally {
      if (idle) clearTimeout(idle);
      this.abort = undefined;
    }
  }

  /** Applies one stream event; true when the list must resync from the snapshot. */
  private handleEvent(e: SseEvent): boolean {
    switch (e.event) {
      case 'revocation': {
        this.accept(parseRevocationEntry(JSON.parse(e.data)));
        this.contact();
        return false;
      }
      case 'heartbeat': {
        this.contact();
        const seq = (JSON.parse(e.data) as { seq?: unknown }).seq;
        // The server has recorded more than this list holds: an event was missed.
        return typeof seq === 'number' && seq > this.set.sequence;
      }
      case 'reset':
        return true;
      default:
        return false;
    }
  }

  // Redis

  private startRedis(subscriber: RedisSubscriber, channel: string): void {
    const resync = () => {
      this.resync().catch((err: unknown) => {
        this.options.onError?.(err);
        if (!this.closed) setTimeout(resync, this.o.backoffMs).unref();
      });
    };
    const message = (c: string, m: string) => {
      if (c !== channel) return;
      try {
        const msg = JSON.parse(m) as { type?: unknown; revocation?: unknown; seq?: unknown };
        if (msg.type === 'revocation') {
          const entry = parseRevocationEntry(msg.revocation);
          // Only the next number moves the sequence on; anything else is applied (a revocation errs on the safe
          // side) and the snapshot settles the sequence: a message out of order, lost, or forged by whoever can
          // publish on the channel cannot make the list believe it holds records it never saw.
          const next = entry.seq === this.set.sequence + 1;
          this.accept(entry, next);
          this.contact();
          if (!next && entry.seq > this.set.sequence) resync();
        } else if (msg.type === 'heartbeat') {
          this.contact();
          if (typeof msg.seq === 'number' && msg.seq > this.set.sequence) resync();
        }
      } catch (err) {
        this.options.onError?.(err);
      }
    };
    // Messages published while the subscription was down are lost: resync at every (re)connection.
    const ready = () => {
      this.connectedFlag = true;
      resync();
    };
    // The connection is gone (ioredis reconnects by itself and says `ready` again).
    const close = () => {
      this.connectedFlag = false;
    };
    this.redisHandlers = { message, ready, close };
    subscriber.on('message', message);
    subscriber.on('ready', ready);
    subscriber.on('close', close);
    subscriber.subscribe(channel).then(
      () => {
        this.connectedFlag = true;
        resync();
      },
      (err: unknown) => this.options.onError?.(err),
    );
  }

  // Reports

  private report(claims: RevocableClaims, entry: RevocationEntry): void {
    const id = typeof claims.jti === 'string' ? claims.jti : `${String(claims.sub)}:${String(claims.iat)}`;
    if (this.reported.has(id)) return;
    if (this.reported.size >= REPORTED_MEMORY) this.reported.clear();
    this.reported.add(id);
    const body = JSON.stringify({
      jti: typeof claims.jti === 'string' ? claims.jti : undefined,
      sub: typeof claims.sub === 'string' ? claims.sub : undefined,
      client_id: typeof claims.client_id === 'string' ? claims.client_id : undefined,
      seq: entry.seq,
    });
    void (async () => {
      const res = await this.fetchImpl(`${this.base}/revocations/reports`, {
        method: 'POST',
        headers: { authorization: await this.authorization(), 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) throw new TokenRequestError(`the revocation report was refused (${res.status})`, { status: res.status });
    })().catch((err: unknown) => this.options.onError?.(err));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export function createRevocationList(options: RevocationListOptions): RevocationList {
  return new RevocationList(options);
}

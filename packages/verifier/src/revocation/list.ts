import { ConfigError } from '@tessera/core';

import { RevocationsUnavailableError, TokenRequestError } from '../errors.js';
import type { Principal } from '../principal.js';
import { readCapped } from '../read-capped.js';
import { ServiceTokenSource } from '../token-source.js';
import { REVOCATIONS_CHANNEL, REVOCATIONS_SCOPE, type RevocationListOptions } from './options.js';
import { subscribeRedis, type FeedTarget } from './redis-feed.js';
import { parseRevocationEntry, RevocationSet, type RevocableClaims, type RevocationEntry } from './set.js';
import { SseParser, type SseEvent } from './sse.js';

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
  /** Stops the Redis subscription, when the list is fed from Redis. */
  private stopRedis: (() => void) | undefined;
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
    if (options.redis)
      this.stopRedis = subscribeRedis(
        options.redis.subscriber,
        options.redis.channel ?? REVOCATIONS_CHANNEL,
        this.feedTarget(),
        this.o.backoffMs,
      );
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
    this.stopRedis?.();
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

  /** This list as a feed (the Redis subscription) sees it. */
  private feedTarget(): FeedTarget {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters read the list's current state
    const list = this;
    return {
      get sequence() {
        return list.set.sequence;
      },
      get closed() {
        return list.closed;
      },
      accept: (entry, advance) => this.accept(entry, advance),
      contact: () => this.contact(),
      resync: () => this.resync(),
      connected: (open) => (this.connectedFlag = open),
      onError: (err) => this.options.onError?.(err),
    };
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

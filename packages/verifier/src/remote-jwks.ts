import { context, SpanKind, trace, type Span, type SpanOptions } from '@opentelemetry/api';
import { ConfigError, JwksInvalidError, parseJwks, spiffeBundleJwks, type Algorithm, type KeySet } from '@tessera/core';

import { maxAgeMs } from './cache-control.js';
import { JwksFetchError, KeysUnavailableError } from './errors.js';
import { readCapped } from './read-capped.js';
import { endFailed, endOk, JWKS_FETCH_SPAN, verifierTracer } from './telemetry.js';

export interface RemoteJwksOptions {
  /** Abort a fetch after this many ms. Default 5,000. */
  timeoutMs?: number;
  /** An unknown kid triggers at most one refetch per this many ms. Default 30,000. */
  cooldownMs?: number;
  /** Cache lifetime bounds applied to the server's Cache-Control max-age. Defaults 30 s and 10 min. */
  minCacheMs?: number;
  maxCacheMs?: number;
  /** Lifetime when the response has no Cache-Control max-age. Default 5 min. */
  defaultCacheMs?: number;
  /**
   * How long past its cache lifetime the last good key set keeps serving while the endpoint cannot be
   * reached. After that the verifier fails closed. Default 1 hour.
   */
  maxStaleMs?: number;
  /** Largest JWKS body accepted, in bytes. Default 256 KiB. */
  maxBytes?: number;
  /** Background refresh starts at this fraction of the cache lifetime. Default 0.8. */
  refreshAt?: number;
  /**
   * What the URL serves: a JWKS (default), or a SPIFFE bundle (SPIFFE Trust Domain and Bundle, section 4), whose
   * `use: jwt-svid` keys are taken and whose `spiffe_refresh_hint` stands in for a missing Cache-Control max-age.
   */
  format?: 'jwks' | 'spiffe-bundle';
  /** Extra request headers (e.g. a User-Agent). */
  headers?: Record<string, string>;
  /** The fetch implementation; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Clock in ms; defaults to Date.now. */
  now?: () => number;
}

const DEFAULTS = {
  timeoutMs: 5_000,
  cooldownMs: 30_000,
  minCacheMs: 30_000,
  maxCacheMs: 600_000,
  defaultCacheMs: 300_000,
  maxStaleMs: 3_600_000,
  maxBytes: 256 * 1024,
  refreshAt: 0.8,
};

/** Backoff after a failed fetch: 1 s doubling, capped at the cooldown. */
const FIRST_BACKOFF_MS = 1_000;

/**
 * A JWKS fetched from a URL and kept current: cached by Cache-Control within bounds, refreshed in the
 * background before it expires, refetched at most once per cooldown for an unknown kid, one fetch shared
 * by every concurrent caller, and the last good set served while the endpoint is down, up to a maximum
 * stale age; then every verification fails closed.
 */
export class RemoteJwks {
  readonly url: URL;
  private readonly o: typeof DEFAULTS;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly algorithms: readonly Algorithm[];
  private readonly format: 'jwks' | 'spiffe-bundle';

  private keys: KeySet | undefined;
  private fetchedAt = 0;
  private expiresAt = 0;
  private lastAttemptAt = -Infinity;
  private nextAttemptAt = 0;
  private backoffMs = FIRST_BACKOFF_MS;
  private lastError: unknown;
  private inflight: Promise<KeySet> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Options of the fetch span: a client span naming the URL (without its query or credentials). */
  private readonly spanOptions: SpanOptions;
  private readonly backgroundSpanOptions: SpanOptions;

  constructor(url: string | URL, algorithms: readonly Algorithm[], options: RemoteJwksOptions = {}) {
    try {
      this.url = new URL(url);
    } catch {
      throw new ConfigError('jwksUri', 'not a valid URL');
    }
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:')
      throw new ConfigError('jwksUri', 'must be an http(s) URL');
    const o = { ...DEFAULTS };
    for (const name of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const v = options[name];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw new ConfigError(`jwks.${name}`, 'must be a non-negative number');
      o[name] = v;
    }
    if (o.minCacheMs > o.maxCacheMs) throw new ConfigError('jwks.minCacheMs', 'must not exceed maxCacheMs');
    if (o.refreshAt <= 0 || o.refreshAt > 1) throw new ConfigError('jwks.refreshAt', 'must be in (0, 1]');
    this.o = o;
    this.headers = { accept: 'application/jwk-set+json, application/json', ...options.headers };
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.algorithms = algorithms;
    if (options.format !== undefined && options.format !== 'jwks' && options.format !== 'spiffe-bundle')
      throw new ConfigError('jwks.format', 'must be jwks or spiffe-bundle');
    this.format = options.format ?? 'jwks';
    const shown = new URL(this.url);
    shown.search = '';
    shown.hash = '';
    shown.username = '';
    shown.password = '';
    this.spanOptions = { kind: SpanKind.CLIENT, attributes: { 'url.full': shown.href, 'http.request.method': 'GET' } };
    // A background refresh belongs to no request: its span starts a trace of its own.
    this.backgroundSpanOptions = { ...this.spanOptions, root: true };
  }

  /** When the current key set was fetched (ms), or 0 if never. */
  get lastFetchedAt(): number {
    return this.fetchedAt;
  }

  /**
   * The key set to verify with now. Fresh keys come back at once; stale keys too (a refresh starts in the
   * background) until they pass the maximum stale age; with no usable keys this waits for a fetch, and
   * fails closed with KeysUnavailableError if there is none.
   */
  async getKeySet(): Promise<KeySet> {
    const now = this.now();
    const keys = this.keys;
    if (keys !== undefined && now < this.expiresAt) return keys;
    if (keys !== undefined && now < this.expiresAt + this.o.maxStaleMs) {
      this.refreshInBackground();
      return keys;
    }
    return this.refresh('keys').catch((err: unknown) => {
      throw err instanceof KeysUnavailableError
        ? err
        : new KeysUnavailableError('no usable JWKS: the endpoint could not be read', { cause: err });
    });
  }

  /**
   * For a token whose kid is unknown: refetch, unless a fetch happened within the cooldown. Returns the
   * key set to retry with (the same object when nothing new was fetched).
   */
  async refreshForUnknownKid(): Promise<KeySet | undefined> {
    if (this.inflight) return this.inflight.catch(() => this.keys);
    if (this.now() - this.lastAttemptAt < this.o.cooldownMs) return this.keys;
    return this.refresh('kid').catch(() => this.keys);
  }

  /** Stops the background refresh timer. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refreshInBackground(): void {
    if (this.inflight || this.now() < this.nextAttemptAt) return;
    this.refresh('background').catch(() => {
      /* recorded in lastError; stale keys keep serving */
    });
  }

  private refresh(why: 'keys' | 'kid' | 'background'): Promise<KeySet> {
    if (this.inflight) return this.inflight;
    const now = this.now();
    if (why === 'keys' && now < this.nextAttemptAt) {
      return Promise.reject(
        new KeysUnavailableError('JWKS endpoint unavailable; retrying after backoff', { cause: this.lastError }),
      );
    }
    this.lastAttemptAt = now;
    const p = this.tracedFetch(why).then(
      ({ set, lifetimeMs }) => {
        const t = this.now();
        this.keys = set;
        this.fetchedAt = t;
        this.expiresAt = t + lifetimeMs;
        this.backoffMs = FIRST_BACKOFF_MS;
        this.nextAttemptAt = 0;
        this.lastError = undefined;
        this.schedule(lifetimeMs * this.o.refreshAt);
        return set;
      },
      (err: unknown) => {
        this.lastError = err;
        this.nextAttemptAt = this.now() + this.backoffMs;
        this.schedule(this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, Math.max(this.o.cooldownMs, FIRST_BACKOFF_MS));
        if (why !== 'keys') throw err;
        throw new KeysUnavailableError('no usable JWKS: the endpoint could not be read', { cause: err });
      },
    );
    const shared = p.finally(() => {
      this.inflight = undefined;
    });
    this.inflight = shared;
    return shared;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.refresh('background').catch(() => {});
      },
      Math.max(delayMs, 0),
    );
    this.timer.unref();
  }

  /** A SPIFFE bundle's `spiffe_refresh_hint` (seconds) in ms, or undefined. */
  private refreshHintMs(json: unknown): number | undefined {
    if (this.format !== 'spiffe-bundle') return undefined;
    const hint = (json as Record<string, unknown>).spiffe_refresh_hint;
    return typeof hint === 'number' && Number.isFinite(hint) && hint >= 0 ? hint * 1000 : undefined;
  }

  /** One fetch in its `tessera.jwks.fetch` span (the parent of an instrumented fetch's own span). */
  private async tracedFetch(why: 'keys' | 'kid' | 'background'): Promise<{ set: KeySet; lifetimeMs: number }> {
    const span = verifierTracer().startSpan(
      JWKS_FETCH_SPAN,
      why === 'background' ? this.backgroundSpanOptions : this.spanOptions,
    );
    try {
      const fetched = await context.with(trace.setSpan(context.active(), span), () => this.fetchOnce(span));
      endOk(span);
      return fetched;
    } catch (err) {
      span.setAttribute('error.type', err instanceof JwksFetchError ? err.reason : 'error');
      endFailed(span, err);
      throw err;
    }
  }

  private async fetchOnce(span: Span): Promise<{ set: KeySet; lifetimeMs: number }> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        headers: this.headers,
        signal: AbortSignal.timeout(this.o.timeoutMs),
        // A redirect is not followed (as jose does not): the configured URL is the one trusted for keys.
        redirect: 'manual',
      });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new JwksFetchError(timeout ? 'timeout' : 'network', timeout ? 'JWKS fetch timed out' : 'JWKS fetch failed', {
        cause: err,
      });
    }
    span.setAttribute('http.response.status_code', res.status);
    try {
      if (res.status >= 300 && res.status < 400)
        throw new JwksFetchError('status', `JWKS endpoint answered a redirect (HTTP ${res.status}); redirects are not followed`);
      if (res.status !== 200) throw new JwksFetchError('status', `JWKS endpoint answered HTTP ${res.status}`);
      const body = await readCapped(
        res,
        this.o.maxBytes,
        this.o.timeoutMs,
        () => new JwksFetchError('too_large', 'JWKS response is too large'),
      );
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw new JwksFetchError('invalid', 'JWKS response is not JSON');
      }
      let set: KeySet;
      try {
        set = parseJwks(this.format === 'spiffe-bundle' ? spiffeBundleJwks(json) : json, { algorithms: this.algorithms });
      } catch (err) {
        if (err instanceof JwksInvalidError)
          throw new JwksFetchError('invalid', `JWKS response refused: ${err.message}`, { cause: err });
        throw err;
      }
      const declared = maxAgeMs(res.headers.get('cache-control')) ?? this.refreshHintMs(json);
      const lifetimeMs = Math.min(Math.max(declared ?? this.o.defaultCacheMs, this.o.minCacheMs), this.o.maxCacheMs);
      return { set, lifetimeMs };
    } finally {
      if (!res.bodyUsed) await res.body?.cancel().catch(() => {});
    }
  }
}

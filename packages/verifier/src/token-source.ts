import { context, propagation } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';

import { ConfigError, signJwt, type Key } from '@tessera/core';

import { createDpopProof, DpopKey } from './dpop-key.js';
import { TokenRequestError } from './errors.js';
import { clientSecretBasic } from './client-secret-basic.js';

/** The client assertion type a workload token is sent as. */
export type WorkloadAssertionType = 'jwt-bearer' | 'jwt-spiffe';

const ASSERTION_TYPES: Record<WorkloadAssertionType, string> = {
  'jwt-bearer': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  'jwt-spiffe': 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe',
};

/** A workload token file larger than this is refused unread (platform tokens are a few kilobytes). */
const MAX_WORKLOAD_TOKEN_BYTES = 16 * 1024;

export interface ServiceTokenSourceOptions {
  /** The token endpoint, e.g. `https://auth.example.com/oauth/token`; or `issuer`: exactly one. */
  tokenEndpoint?: string | URL;
  /** The auth server's issuer URL: the token endpoint is `${issuer}/oauth/token`. */
  issuer?: string | URL;
  clientId: string;
  /**
   * How the client authenticates, exactly one: client_secret_basic with `clientSecret`, private_key_jwt with
   * `privateKey`, or a workload token of a trusted workload issuer read from `workloadTokenFile`.
   */
  clientSecret?: string;
  /** private_key_jwt (RFC 7523): the client's signing key; the assertion's aud is the token endpoint. */
  privateKey?: Key;
  /**
   * The path of the token the platform gives the workload: a Kubernetes projected service-account token, a
   * spiffe-helper JWT-SVID file, a CI job's identity token. Read afresh for every token request, so a token the
   * platform rotates (kubelet swaps the file's `..data` symlink) is sent at the next renewal. The client must be
   * a `workload_identity` client, named by one of its issuer's rules.
   */
  workloadTokenFile?: string;
  /** How the workload token is sent: `jwt-bearer` (default), or `jwt-spiffe` for a SPIFFE JWT-SVID. */
  assertionType?: WorkloadAssertionType;
  /**
   * Sender-constrained tokens (DPoP, RFC 9449): every token request carries a proof signed by this key, so the
   * tokens handed out are bound to it (token_type DPoP, `cnf.jkt`) and are used with a proof of the same key.
   * A `use_dpop_nonce` refusal is retried once with the nonce it gave; the latest `DPoP-Nonce` is remembered.
   */
  dpopKey?: DpopKey;
  /** Refresh when this fraction of the lifetime has passed (jittered by up to 10% of the lifetime). Default 0.8. */
  refreshAt?: number;
  /** Abort a token request after this many ms. Default 5,000. */
  timeoutMs?: number;
  /** First retry delay after a failure; doubles up to `maxBackoffMs`. Defaults 500 ms and 30 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof fetch;
  /** Clock in ms. */
  now?: () => number;
  /** Source of randomness for jitter, in [0, 1). */
  random?: () => number;
}

export interface TokenRequest {
  /** The resource (RFC 8707) the token is for. */
  audience?: string;
  /** Scopes, space-separated or a list. */
  scope?: string | readonly string[];
}

/** A token endpoint's successful answer (RFC 6749 section 5.1), every field it sent kept. */
export interface TokenResponse {
  access_token: string;
  /** Seconds. */
  expires_in: number;
  [field: string]: unknown;
}

interface Entry {
  token: string | undefined;
  expiresAt: number;
  refreshAt: number;
  inflight: Promise<string> | undefined;
  failures: number;
  retryAt: number;
}

/**
 * Access tokens for a service, by client credentials (a secret, a private key, or the workload token its
 * platform gives it): one cache entry per audience and scope set, renewed
 * ahead of expiry (with jitter, so a fleet does not renew at once), one request in flight per entry, the
 * cached token served while a background renewal runs, backoff after a failure, and never a token past
 * its expiry.
 */
export class ServiceTokenSource {
  private readonly entries = new Map<string, Entry>();
  private readonly endpoint: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly refreshAt: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  /** The token endpoint's latest `DPoP-Nonce`. */
  private dpopNonce: string | undefined;

  constructor(private readonly options: ServiceTokenSourceOptions) {
    if (!options.clientId) throw new ConfigError('clientId', 'required');
    const methods = [options.clientSecret, options.privateKey, options.workloadTokenFile].filter((m) => m !== undefined);
    if (methods.length !== 1)
      throw new ConfigError('clientSecret', 'give exactly one of clientSecret, privateKey, workloadTokenFile');
    if (options.privateKey !== undefined && options.privateKey.signInput === undefined)
      throw new ConfigError('privateKey', 'must be a private key');
    if (
      options.workloadTokenFile !== undefined &&
      (typeof options.workloadTokenFile !== 'string' || options.workloadTokenFile === '')
    )
      throw new ConfigError('workloadTokenFile', 'must be a file path');
    if (options.assertionType !== undefined) {
      if (options.workloadTokenFile === undefined) throw new ConfigError('assertionType', 'applies only with workloadTokenFile');
      if (!Object.prototype.hasOwnProperty.call(ASSERTION_TYPES, options.assertionType))
        throw new ConfigError('assertionType', 'must be jwt-bearer or jwt-spiffe');
    }
    if (options.dpopKey !== undefined && !(options.dpopKey instanceof DpopKey))
      throw new ConfigError('dpopKey', 'must be a DpopKey (DpopKey.generate() or DpopKey.fromFile())');
    if ((options.tokenEndpoint === undefined) === (options.issuer === undefined))
      throw new ConfigError('tokenEndpoint', 'give exactly one of tokenEndpoint, issuer');
    this.endpoint =
      options.tokenEndpoint !== undefined ? new URL(options.tokenEndpoint).toString() : tokenEndpointOf(options.issuer!);
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.refreshAt = options.refreshAt ?? 0.8;
    if (!(this.refreshAt > 0 && this.refreshAt < 1)) throw new ConfigError('refreshAt', 'must be between 0 and 1');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** A valid access token for this audience and scope set. Throws TokenRequestError when none can be had. */
  async getToken(request: TokenRequest = {}): Promise<string> {
    const scope = normaliseScope(request.scope);
    const key = `${request.audience ?? ''}\u0000${scope}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { token: undefined, expiresAt: 0, refreshAt: 0, inflight: undefined, failures: 0, retryAt: 0 };
      this.entries.set(key, e);
    }
    const now = this.now();
    const valid = e.token !== undefined && e.expiresAt > now;
    if (valid && now < e.refreshAt) return e.token!;
    if (valid) {
      // Due for renewal: renew in the background, hand out the current token meanwhile.
      if (e.inflight === undefined && now >= e.retryAt) void this.renew(e, request.audience, scope).catch(() => undefined);
      return e.token!;
    }
    return e.inflight ?? this.renew(e, request.audience, scope);
  }

  /**
   * One token request, answered as the endpoint gave it, without the cache: for a one-shot caller (the
   * `tessera token get` command). Throws TokenRequestError when none can be had: `status` unset when the
   * endpoint could not be reached (the network error as `cause`), else the endpoint's status, `error` and
   * `error_description`.
   */
  requestToken(request: TokenRequest = {}): Promise<TokenResponse> {
    return this.request(request.audience, normaliseScope(request.scope));
  }

  /** Forgets cached tokens (e.g. after the server refused one as revoked). */
  clear(): void {
    this.entries.clear();
  }

  private renew(e: Entry, audience: string | undefined, scope: string): Promise<string> {
    // The token's lifetime runs from (at the latest) when it was requested, not from when the answer came.
    const requestedAt = this.now();
    const p = this.request(audience, scope).then(
      ({ access_token: token, expires_in: expiresIn }) => {
        const lifetimeMs = expiresIn * 1000;
        e.token = token;
        e.expiresAt = requestedAt + lifetimeMs;
        e.refreshAt = requestedAt + lifetimeMs * this.refreshAt - lifetimeMs * 0.1 * this.random();
        e.failures = 0;
        e.retryAt = 0;
        e.inflight = undefined;
        return token;
      },
      (err: unknown) => {
        e.failures++;
        e.retryAt = this.now() + Math.min(this.backoffMs * 2 ** (e.failures - 1), this.maxBackoffMs);
        e.inflight = undefined;
        throw err;
      },
    );
    e.inflight = p;
    return p;
  }

  /** The key the tokens are bound to, when `dpopKey` is set: resource requests need proofs by it. */
  get dpopKey(): DpopKey | undefined {
    return this.options.dpopKey;
  }

  private async request(audience: string | undefined, scope: string): Promise<TokenResponse> {
    const first = await this.send(audience, scope);
    // RFC 9449 section 8: a server that wants a nonce refuses with use_dpop_nonce and gives one; one retry with it.
    const res = first.nonceWanted ? await this.send(audience, scope) : first;
    return this.answer(res.res, res.json);
  }

  private async send(
    audience: string | undefined,
    scope: string,
  ): Promise<{ res: Response; json: Record<string, unknown>; nonceWanted: boolean }> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) body.set('scope', scope);
    if (audience !== undefined) body.set('resource', audience);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const o = this.options;
    if (o.clientSecret !== undefined) {
      headers.authorization = clientSecretBasic(o.clientId, o.clientSecret);
    } else if (o.workloadTokenFile !== undefined) {
      body.set('client_id', o.clientId);
      body.set('client_assertion_type', ASSERTION_TYPES[o.assertionType ?? 'jwt-bearer']);
      body.set('client_assertion', await readWorkloadToken(o.workloadTokenFile));
    } else {
      const iat = Math.floor(this.now() / 1000);
      const assertion = signJwt(
        { iss: o.clientId, sub: o.clientId, aud: this.endpoint, iat, exp: iat + 60, jti: randomUUID() },
        o.privateKey!,
      );
      body.set('client_id', o.clientId);
      body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      body.set('client_assertion', assertion);
    }
    // The nonce this request's proof carries: a refusal is retried when it gives another (even when a concurrent
    // request has remembered that one already).
    const sentNonce = this.dpopNonce;
    if (o.dpopKey !== undefined)
      headers.dpop = createDpopProof({
        key: o.dpopKey,
        method: 'POST',
        url: this.endpoint,
        nonce: sentNonce,
        now: this.now,
      });
    let res: Response;
    try {
      // The caller's trace (an rpc call fetching its token, say) continues at the auth server (W3C trace context).
      propagation.inject(context.active(), headers);
      res = await this.fetchImpl(this.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (cause) {
      throw new TokenRequestError('the token endpoint could not be reached', { cause });
    }
    let json: Record<string, unknown>;
    try {
      json = (await res.json()) as Record<string, unknown>;
    } catch (cause) {
      throw new TokenRequestError(`the token endpoint answered ${res.status} without JSON`, { status: res.status, cause });
    }
    let nonceWanted = false;
    if (o.dpopKey !== undefined) {
      const nonce = res.headers.get('dpop-nonce');
      if (nonce !== null && nonce !== '') this.dpopNonce = nonce;
      nonceWanted =
        nonce !== null && nonce !== '' && nonce !== sentNonce && res.status === 400 && json?.error === 'use_dpop_nonce';
    }
    return { res, json, nonceWanted };
  }

  private answer(res: Response, json: Record<string, unknown>): TokenResponse {
    if (!res.ok) {
      const error = typeof json?.error === 'string' ? json.error : undefined;
      const description = typeof json?.error_description === 'string' ? json.error_description : undefined;
      throw new TokenRequestError(`the token endpoint refused the request: ${error ?? res.status}`, {
        status: res.status,
        error,
        description,
      });
    }
    const token = json?.access_token;
    const expiresIn = json?.expires_in;
    if (typeof token !== 'string' || token.length === 0 || typeof expiresIn !== 'number' || !(expiresIn > 0))
      throw new TokenRequestError('the token endpoint answered without access_token and expires_in', { status: res.status });
    // Fail closed: with a DPoP key, a bearer token (a server that ignored the proof) is not what was asked for.
    if (this.options.dpopKey !== undefined && (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== 'dpop'))
      throw new TokenRequestError('the token endpoint did not bind the token to the DPoP key (token_type is not DPoP)', {
        status: res.status,
      });
    return json as TokenResponse;
  }
}

/** `${issuer}/oauth/token`, one slash between them. */
function tokenEndpointOf(issuer: string | URL): string {
  const url = new URL(issuer);
  if (url.search || url.hash) throw new ConfigError('issuer', 'must not hold a query or a fragment');
  // origin + path, never resolved: a path that starts with `//` must not name another host.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/oauth/token`;
}

/**
 * The workload token in `file`, read now (never kept past one request: the platform rotates it). Refusals
 * name the file and why, never what it holds.
 */
async function readWorkloadToken(file: string): Promise<string> {
  const fail = (why: string, cause?: unknown) =>
    new TokenRequestError(`the workload token file ${file} ${why}`, { file, ...(cause === undefined ? {} : { cause }) });
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_WORKLOAD_TOKEN_BYTES + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length === buffer.length) throw fail(`is larger than ${MAX_WORKLOAD_TOKEN_BYTES} bytes`);
      }
      text = buffer.toString('utf8', 0, length);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof TokenRequestError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'may not be read (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory'
            : `could not be read (${typeof code === 'string' ? code : 'error'})`;
    throw fail(why, err);
  }
  const token = text.trim();
  if (token === '') throw fail('is empty');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw fail('does not hold a JWT');
  return token;
}

function normaliseScope(scope: string | readonly string[] | undefined): string {
  const list = typeof scope === 'string' ? scope.split(' ') : (scope ?? []);
  return [...new Set(list.filter((s) => s !== ''))].sort().join(' ');
}

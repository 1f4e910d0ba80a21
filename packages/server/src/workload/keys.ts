import { KeyNotFoundError, parseJwks, WorkloadTokenVerifier, type KeySet, type VerifiedWorkloadToken } from '@tessera/core';
import { KeysUnavailableError, RemoteJwks } from '@tessera/verifier';
import { readCapped } from '@tessera/verifier/internal';

import { isLoopback, keysUrlProblem, type WorkloadIssuer } from './issuer.js';

/** How long a failed discovery waits before the next request tries again, in ms. */
const DISCOVERY_RETRY_MS = 5_000;
const MAX_DISCOVERY_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 5_000;
/** Issuers whose keys are kept at once; more (issuers added and removed over time) drops the oldest. */
const MAX_ENTRIES = 256;

interface Entry {
  /** What the entry was built from: a changed issuer record builds a new one. */
  fingerprint: string;
  verifier: WorkloadTokenVerifier;
  /** Remote keys (discovery, jwks_uri, SPIFFE bundle), once known; static keys otherwise. */
  remote: RemoteJwks | undefined;
  static: KeySet | undefined;
  discovery: Promise<RemoteJwks> | undefined;
  discoveryFailedAt: number;
}

export interface WorkloadKeysOptions {
  fetch?: typeof fetch;
  now: () => number;
}

/**
 * The keys of every trusted workload issuer, fetched with the verifier's RemoteJwks (cache by Cache-Control
 * within bounds, one refetch per cooldown for an unknown kid, no redirects, the last good set up to its maximum
 * stale age, then fail closed), and the strict verifier of each issuer's tokens. Keys come only from the issuer's
 * configured source, never from a URL or key in the presented token.
 */
export class WorkloadKeys {
  /** By the issuer's iss, what a token names (of two records with one iss, the config file's is the one used). */
  private readonly entries = new Map<string, Entry>();
  /** The entry last used for an issuer record: the directory hands out the same record until it changes. */
  private readonly byRecord = new WeakMap<WorkloadIssuer, Entry>();
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: WorkloadKeysOptions) {
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /**
   * Verifies a workload token against its issuer's keys: an unknown kid refetches once (within the cooldown).
   * Throws core's token errors for a bad token, KeysUnavailableError when the keys cannot be had.
   */
  async verify(issuer: WorkloadIssuer, token: string): Promise<VerifiedWorkloadToken> {
    const entry = this.entry(issuer);
    if (entry.static) return entry.verifier.verifyWorkloadToken(token, entry.static);
    const remote = await this.remote(entry, issuer);
    let keys: KeySet;
    try {
      keys = await remote.getKeySet();
    } catch (err) {
      // Keys found by discovery and now out of reach for good (past their stale age): the issuer may have moved
      // them; the next request (after a pause) reads the discovery document again.
      if (err instanceof KeysUnavailableError && entry.discovery !== undefined) {
        remote.close();
        entry.remote = undefined;
        entry.discovery = undefined;
        entry.discoveryFailedAt = this.options.now();
      }
      throw err;
    }
    try {
      return entry.verifier.verifyWorkloadToken(token, keys);
    } catch (err) {
      if (!(err instanceof KeyNotFoundError)) throw err;
      const next = await remote.refreshForUnknownKid();
      if (next === undefined || next === keys) throw err;
      return entry.verifier.verifyWorkloadToken(token, next);
    }
  }

  close(): void {
    for (const e of this.entries.values()) e.remote?.close();
    this.entries.clear();
  }

  private entry(issuer: WorkloadIssuer): Entry {
    const known = this.byRecord.get(issuer);
    if (known !== undefined && this.entries.get(issuer.issuer) === known) return known;
    const entry = this.entryOf(issuer);
    this.byRecord.set(issuer, entry);
    return entry;
  }

  private entryOf(issuer: WorkloadIssuer): Entry {
    const fingerprint = JSON.stringify([
      issuer.issuer,
      issuer.keys,
      issuer.audience,
      issuer.algorithms,
      issuer.maxTokenAge,
      issuer.singleUse,
    ]);
    const found = this.entries.get(issuer.issuer);
    if (found !== undefined && found.fingerprint === fingerprint) return found;
    found?.remote?.close();
    this.entries.delete(issuer.issuer);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.get(oldest)?.remote?.close();
      this.entries.delete(oldest);
    }
    const k = issuer.keys;
    const entry: Entry = {
      fingerprint,
      verifier: new WorkloadTokenVerifier({
        // A SPIFFE trust domain's JWT-SVIDs need not carry iss; its issuer is matched through the sub.
        issuer: issuer.issuer.startsWith('spiffe://') ? undefined : issuer.issuer,
        audience: issuer.audience,
        algorithms: issuer.algorithms,
        maxTokenAge: issuer.maxTokenAge,
        requireJti: issuer.singleUse,
        now: this.options.now,
      }),
      remote:
        k.kind === 'jwks_uri' || k.kind === 'spiffe_bundle'
          ? this.remoteJwks(k.url, issuer, k.kind === 'spiffe_bundle' ? 'spiffe-bundle' : 'jwks')
          : undefined,
      static: k.kind === 'static' ? parseJwks(k.jwks, { algorithms: issuer.algorithms }) : undefined,
      discovery: undefined,
      discoveryFailedAt: -Infinity,
    };
    this.entries.set(issuer.issuer, entry);
    return entry;
  }

  private remoteJwks(url: string, issuer: WorkloadIssuer, format: 'jwks' | 'spiffe-bundle'): RemoteJwks {
    return new RemoteJwks(url, issuer.algorithms, { fetch: this.fetchImpl, now: this.options.now, format });
  }

  /** The entry's remote key set; for discovery, found first (once; after a failure, again after a pause). */
  private async remote(entry: Entry, issuer: WorkloadIssuer): Promise<RemoteJwks> {
    if (entry.remote) return entry.remote;
    if (entry.discovery === undefined) {
      if (this.options.now() - entry.discoveryFailedAt < DISCOVERY_RETRY_MS)
        throw new KeysUnavailableError("the workload issuer's discovery document could not be read; retrying shortly");
      entry.discovery = this.discover(issuer).then(
        (jwksUri) => (entry.remote = this.remoteJwks(jwksUri, issuer, 'jwks')),
        (err: unknown) => {
          entry.discovery = undefined;
          entry.discoveryFailedAt = this.options.now();
          throw new KeysUnavailableError("the workload issuer's discovery document could not be read", { cause: err });
        },
      );
    }
    return entry.discovery;
  }

  /** OpenID Connect Discovery 1.0 section 4: the document at the issuer, its issuer exactly the configured one. */
  private async discover(issuer: WorkloadIssuer): Promise<string> {
    const url = `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await this.fetchImpl(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: 'manual',
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`discovery answered HTTP ${res.status}`);
    }
    const body = await readCapped(res, MAX_DISCOVERY_BYTES, FETCH_TIMEOUT_MS, () => new Error('discovery document too large'));
    const doc = JSON.parse(body) as Record<string, unknown>;
    if (doc.issuer !== issuer.issuer) throw new Error('the discovery document names another issuer');
    const jwksUri = doc.jwks_uri;
    if (typeof jwksUri !== 'string') throw new Error('the discovery document has no jwks_uri');
    const u = new URL(jwksUri);
    // An https issuer's document may not point Tessera at a local http service.
    const problem = keysUrlProblem(u, isLoopback(new URL(issuer.issuer)));
    if (problem !== undefined) throw new Error(`the discovered jwks_uri ${problem}`);
    return u.href;
  }
}

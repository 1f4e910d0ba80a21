/**
 * The revocations in force, as the auth server publishes them: one record per revoked access token (`jti`),
 * refresh-token family (`family`: its access tokens carry it as `sid`), or cut-off for a subject or a client
 * (every token issued before `cutoff`). The server's registry and every verifier's revocation list hold the
 * same set and answer with the same rules (this class), so a token refused by one is refused by all.
 */

export type RevocationKind = 'jti' | 'subject' | 'client' | 'family';

/** One revocation as it travels: snapshot, stream and Redis messages. Times are ms since the epoch. */
export interface RevocationEntry {
  /** Sequence number: increases with every revocation the server records. */
  readonly seq: number;
  readonly kind: RevocationKind;
  /** The jti, subject, client id or refresh-token family id. */
  readonly value: string;
  /** Subject and client cut-offs: tokens issued (`iat`) before this time are revoked. Null otherwise. */
  readonly cutoff: number | null;
  /** When the record can be forgotten: the last token it can affect has expired by then. */
  readonly expiresAt: number;
}

/** The claims a revocation can name. */
export interface RevocableClaims {
  readonly jti?: unknown;
  readonly sid?: unknown;
  readonly sub?: unknown;
  readonly client_id?: unknown;
  readonly iat?: unknown;
}

const KINDS: ReadonlySet<string> = new Set(['jti', 'subject', 'client', 'family']);
const MAX_VALUE_LENGTH = 1024;

/**
 * Checks a revocation received from the network; throws TypeError naming the bad field. Extra fields are
 * dropped.
 */
export function parseRevocationEntry(input: unknown): RevocationEntry {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('revocation must be an object');
  const o = input as Record<string, unknown>;
  const { seq, kind, value, cutoff, expiresAt } = o;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)
    throw new TypeError('revocation seq must be a positive integer');
  if (typeof kind !== 'string' || !KINDS.has(kind)) throw new TypeError('revocation kind must be jti, subject, client or family');
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE_LENGTH)
    throw new TypeError('revocation value must be a non-empty string');
  if (cutoff !== null && (typeof cutoff !== 'number' || !Number.isFinite(cutoff)))
    throw new TypeError('revocation cutoff must be a number or null');
  if ((kind === 'subject' || kind === 'client') && cutoff === null)
    throw new TypeError('a subject or client revocation needs a cutoff');
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw new TypeError('revocation expiresAt must be a number');
  return { seq, kind: kind as RevocationKind, value, cutoff: cutoff as number | null, expiresAt };
}

/** True when `entry` revokes the token with these claims at `now`. */
export function revokes(entry: RevocationEntry, claims: RevocableClaims, now: number): boolean {
  if (entry.expiresAt <= now) return false;
  switch (entry.kind) {
    case 'jti':
      return claims.jti === entry.value;
    case 'family':
      return claims.sid === entry.value;
    case 'subject':
      return claims.sub === entry.value && issuedBefore(claims, entry.cutoff);
    case 'client':
      return claims.client_id === entry.value && issuedBefore(claims, entry.cutoff);
  }
}

/** A token without a usable iat counts as issued before any cut-off (fail closed). */
function issuedBefore(claims: RevocableClaims, cutoff: number | null): boolean {
  if (cutoff === null) return false;
  const iat = claims.iat;
  return typeof iat !== 'number' || !Number.isFinite(iat) || iat * 1000 < cutoff;
}

export class RevocationSet {
  private readonly byKey = new Map<string, RevocationEntry>();
  private lastSeq = 0;

  /** The highest sequence number seen. */
  get sequence(): number {
    return this.lastSeq;
  }

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Records an entry; returns false when it changes nothing (already known, or superseded by a later record
   * for the same kind and value: a later cut-off replaces an earlier one). With `advance` false the sequence
   * stays where it is (an entry heard out of order: the snapshot, not the message, moves the sequence on).
   */
  apply(entry: RevocationEntry, advance = true): boolean {
    if (advance && entry.seq > this.lastSeq) this.lastSeq = entry.seq;
    const key = `${entry.kind}:${entry.value}`;
    const prev = this.byKey.get(key);
    if (prev !== undefined && prev.seq >= entry.seq) return false;
    // A cut-off only moves forward, and a record only lengthens: a later record written by an instance
    // whose clock is behind must not un-revoke tokens that the earlier one revoked.
    const merged =
      prev === undefined
        ? entry
        : {
            ...entry,
            cutoff: prev.cutoff !== null && entry.cutoff !== null ? Math.max(prev.cutoff, entry.cutoff) : entry.cutoff,
            expiresAt: Math.max(prev.expiresAt, entry.expiresAt),
          };
    this.byKey.set(key, merged);
    return true;
  }

  /** Raises the sequence without an entry (a snapshot's sequence covers records that already expired). */
  advanceTo(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** The entry that revokes a token with these claims at `now`, if any. */
  match(claims: RevocableClaims, now: number): RevocationEntry | undefined {
    if (this.byKey.size === 0) return undefined;
    for (const [kind, value] of [
      ['jti', claims.jti],
      ['family', claims.sid],
      ['subject', claims.sub],
      ['client', claims.client_id],
    ] as const) {
      if (typeof value !== 'string') continue;
      const e = this.byKey.get(`${kind}:${value}`);
      if (e !== undefined && revokes(e, claims, now)) return e;
    }
    return undefined;
  }

  isRevoked(claims: RevocableClaims, now: number): boolean {
    return this.match(claims, now) !== undefined;
  }

  /** The latest cut-off (ms) in force for this subject or client, if any. */
  latestCutoff(sub: string, clientId: string, now: number): number | undefined {
    let latest: number | undefined;
    for (const e of [this.byKey.get(`subject:${sub}`), this.byKey.get(`client:${clientId}`)]) {
      if (e && e.expiresAt > now && e.cutoff !== null && (latest === undefined || e.cutoff > latest)) latest = e.cutoff;
    }
    return latest;
  }

  /** Records in force at `now`, in sequence order. */
  active(now: number): RevocationEntry[] {
    return [...this.byKey.values()].filter((e) => e.expiresAt > now).sort((a, b) => a.seq - b.seq);
  }

  /** Forgets records whose tokens have all expired; returns how many. */
  prune(now: number): number {
    let n = 0;
    for (const [k, e] of this.byKey) {
      if (e.expiresAt <= now) {
        this.byKey.delete(k);
        n++;
      }
    }
    return n;
  }
}

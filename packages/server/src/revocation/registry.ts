import type { AccessTokenClaims } from '@tessera/core';

import type { Revocation, RevocationKind, Store } from '../store/types.js';

/**
 * Revocations in force, held in memory and backed by the store: a revoked access token (by jti, until its
 * exp), a cut-off for a subject or a client (every token issued before it), a revoked refresh-token family
 * (its access tokens carry it as `sid`). Every record has a sequence number for the revocation stream.
 */
export class RevocationRegistry {
  private readonly byKey = new Map<string, Revocation>();
  private lastSeq = 0;
  private listeners: ((r: Revocation) => void)[] = [];

  constructor(private readonly store: Store) {}

  async load(now: number): Promise<void> {
    for (const r of await this.store.listRevocations(now, this.lastSeq)) this.apply(r);
  }

  get sequence(): number {
    return this.lastSeq;
  }

  onRevocation(listener: (r: Revocation) => void): void {
    this.listeners.push(listener);
  }

  async revoke(kind: RevocationKind, value: string, options: { cutoff?: number; expiresAt: number; reason: string; now: number }): Promise<Revocation> {
    const r = await this.store.addRevocation({
      kind,
      value,
      cutoff: options.cutoff ?? null,
      expiresAt: options.expiresAt,
      createdAt: options.now,
      reason: options.reason,
    });
    this.apply(r);
    for (const l of this.listeners) l(r);
    return r;
  }

  /** True when the token named by these claims is revoked at `now`. */
  isRevoked(claims: AccessTokenClaims, now: number): boolean {
    if (this.byKey.size === 0) return false;
    const iatMs = typeof claims.iat === 'number' ? claims.iat * 1000 : 0;
    const hit = (kind: RevocationKind, value: unknown, cut: boolean) => {
      if (typeof value !== 'string') return false;
      const r = this.byKey.get(`${kind}:${value}`);
      if (!r || r.expiresAt <= now) return false;
      return !cut || (r.cutoff !== null && iatMs < r.cutoff);
    };
    return hit('jti', claims.jti, false) || hit('family', claims.sid, false) || hit('subject', claims.sub, true) || hit('client', claims.client_id, true);
  }

  /** The latest cut-off (ms) in force for this subject or client, if any. */
  latestCutoff(sub: string, clientId: string, now: number): number | undefined {
    let latest: number | undefined;
    for (const r of [this.byKey.get(`subject:${sub}`), this.byKey.get(`client:${clientId}`)]) {
      if (r && r.expiresAt > now && r.cutoff !== null && (latest === undefined || r.cutoff > latest)) latest = r.cutoff;
    }
    return latest;
  }

  active(now: number): Revocation[] {
    return [...this.byKey.values()].filter((r) => r.expiresAt > now).sort((a, b) => a.seq - b.seq);
  }

  private apply(r: Revocation): void {
    const key = `${r.kind}:${r.value}`;
    const prev = this.byKey.get(key);
    // A later cut-off for the same subject or client supersedes an earlier one.
    if (!prev || prev.seq < r.seq) this.byKey.set(key, r);
    if (r.seq > this.lastSeq) this.lastSeq = r.seq;
  }
}

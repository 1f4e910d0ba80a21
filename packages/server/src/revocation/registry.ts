import type { AccessTokenClaims } from '@tessera/core';
import type { RevocationEntry } from '@tessera/verifier';
import { RevocationSet } from '@tessera/verifier/internal';

import type { Revocation, RevocationKind, Store } from '../store/types.js';
import { inSpan } from '../telemetry.js';

/** Carries revocations between instances (see bus.ts); one instance alone needs none. */
export interface RevocationTransport {
  publish(r: RevocationEntry): Promise<void>;
}

/**
 * Revocations in force, held in memory and backed by the store: a revoked access token (by jti, until its
 * exp), a cut-off for a subject or a client (every token issued before it), a revoked refresh-token family
 * (its access tokens carry it as `sid`). The store numbers every record; this registry applies them strictly
 * in that order and tells its listeners (the revocation stream, the bus) of each exactly once.
 *
 * Records reach it two ways: made here (`revoke`), or read from the store (`catchUp`: on a timer, and when the
 * bus says another instance made one). Sequence numbers
 * are committed in order (the PostgreSQL store serialises them), so reading everything after the last number
 * applied never misses a record; a skipped number (an aborted insert) costs one read.
 */
export class RevocationRegistry {
  private readonly set = new RevocationSet();
  private listeners: ((r: RevocationEntry) => void)[] = [];
  private catching: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private transport: RevocationTransport | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads every record in force (at start). */
  async load(): Promise<void> {
    await this.catchUp();
  }

  get sequence(): number {
    return this.set.sequence;
  }

  /** Sends every revocation made on this instance to the others. */
  setTransport(transport: RevocationTransport | undefined): void {
    this.transport = transport;
  }

  /** Calls `listener` once for each record, in sequence order; returns a function that stops it. */
  onRevocation(listener: (r: RevocationEntry) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  async revoke(
    kind: RevocationKind,
    value: string,
    options: { cutoff?: number; expiresAt: number; reason: string; now: number },
  ): Promise<Revocation> {
    const r = await this.store.revocations.add({
      kind,
      value,
      cutoff: options.cutoff ?? null,
      expiresAt: options.expiresAt,
      createdAt: options.now,
      reason: options.reason,
    });
    await this.announce(r);
    return r;
  }

  /**
   * A record this instance has just written to the store (alone, or in the transaction of the state change it
   * announces): applied here and sent to the other instances. Every revocation made passes here: one
   * `tessera.revocation` span (its kind and sequence number; the value, a jti or a subject, is left out), with an
   * event once applied here (the revocation stream told) and a child span `tessera.revocation.publish` for the bus.
   */
  announce(r: Revocation): Promise<void> {
    const attributes = { 'tessera.revocation.kind': r.kind, 'tessera.revocation.seq': r.seq };
    return inSpan('tessera.revocation', { attributes }, async (span) => {
      await this.ingest(r);
      span.addEvent('tessera.revocation.applied', { 'tessera.revocation.sequence': this.set.sequence });
      const transport = this.transport;
      if (transport === undefined) return;
      // Durable already; a bus that is down delays the other instances until their next catch-up, no more.
      await inSpan('tessera.revocation.publish', { attributes }, () => transport.publish(r)).catch(() => undefined);
    });
  }

  /** A record read from the store: applied now if it is the next one, else caught up with whatever came before. */
  async ingest(r: RevocationEntry): Promise<void> {
    if (r.seq <= this.set.sequence) return;
    if (r.seq === this.set.sequence + 1) {
      this.apply(r);
      return;
    }
    await this.catchUp();
  }

  /**
   * Applies every record after the last one applied, from the store. One read at a time; calls made while
   * one is waiting to start share it.
   */
  catchUp(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.catching.then(async () => {
      this.queued = undefined;
      for (const r of await this.store.revocations.list(this.now(), this.set.sequence))
        if (r.seq > this.set.sequence) this.apply(r);
    });
    this.queued = run;
    this.catching = run.catch(() => undefined);
    return run;
  }

  /** True when the token named by these claims is revoked at `now`. */
  isRevoked(claims: AccessTokenClaims, now: number): boolean {
    return this.set.isRevoked(claims, now);
  }

  /** The latest cut-off (ms) in force for this subject or client, if any. */
  latestCutoff(sub: string, clientId: string, now: number): number | undefined {
    return this.set.latestCutoff(sub, clientId, now);
  }

  /** Records in force at `now`, in sequence order. */
  active(now: number): RevocationEntry[] {
    return this.set.active(now);
  }

  /** Forgets records whose tokens have all expired. */
  prune(now: number): number {
    return this.set.prune(now);
  }

  private apply(r: RevocationEntry): void {
    this.set.apply(r);
    for (const l of this.listeners) l(r);
  }
}

/** The wire form of a revocation (snapshot, stream, bus): no reason or creation time. */
export function wireRevocation(r: RevocationEntry): RevocationEntry {
  return { seq: r.seq, kind: r.kind, value: r.value, cutoff: r.cutoff, expiresAt: r.expiresAt };
}

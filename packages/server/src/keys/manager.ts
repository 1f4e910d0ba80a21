import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { buildJwks, generateKey, importJwk, KeySet, type Algorithm, type JsonWebKeySet, type Key } from '@tessera/core';

import type { MasterKey } from '../security/master-key.js';
import type { SigningKeyRecord, Store } from '../store/types.js';
import { KeysBusyError } from './errors.js';

export interface KeySchedule {
  /** The algorithm of the main keys: they sign access tokens (and ID tokens unless a client asks for another). */
  alg: Algorithm;
  /**
   * Further algorithms, each with keys of its own on the same schedule (next, active, retired), published in the
   * same JWKS: RS256 beside an ES256 or EdDSA main key, for the ID tokens of clients that ask for it.
   */
  also?: readonly Algorithm[];
  /** Seconds a key signs before the next takes over. */
  rotationInterval: number;
  /** Seconds: the JWKS cache lifetime; a next key is published at least this long before it signs. */
  jwksMaxAge: number;
  /** Seconds: the longest lifetime of a token a key signs; a retired key stays published this long (plus skew). */
  maxAccessTokenTtl: () => Promise<number>;
}

/** Seconds added to a retired key's life for verifiers' clock tolerance. */
const RETIRE_SKEW_S = 60;

/** The lease of the instance that runs the periodic schedule (see runSchedule). */
export const SCHEDULE_LEASE = 'key-schedule';
/**
 * The lease every change to the keys holds, whichever instance (or CLI) makes it, so that two never decide from
 * the same state: each reloads the keys under it. Held for milliseconds; the TTL only matters if a holder dies.
 */
export const KEY_CHANGE_LEASE = 'signing-keys';
const CHANGE_LEASE_TTL_MS = 15_000;
/**
 * A change waits this long, by the manager's clock, for another instance's to finish (past the TTL, so a dead
 * holder's lease lapses), trying the lease again every CHANGE_POLL_MS of real time.
 */
const CHANGE_WAIT_MS = 20_000;
const CHANGE_POLL_MS = 20;

/**
 * Signing keys through their states: next (published, not signing) -> active (signing) -> retired
 * (published until the last token it signed has expired) -> removed. Private keys live encrypted in the
 * store and decrypted in memory. `tick()` applies the schedule; the server calls it periodically. The changes
 * take the time they are made at as `now`; `clock` (the server's) times the change lease and the wait for it.
 *
 * Keys come in tracks, one per algorithm (the main `alg`, then `also`): each track has its own next, active and
 * retired keys and the schedule applies to each alike; a key's track is its `alg`. Access tokens are signed and
 * verified with the main track only.
 */
export class KeyManager {
  private records: SigningKeyRecord[] = [];
  /** Per track, the active key of the last load that had one: signs on if a load finds none (see activeKey). */
  private readonly lastActive = new Map<string, SigningKeyRecord>();
  private readonly decrypted = new Map<string, Key>();
  private jwksCache: JsonWebKeySet | undefined;
  private keySetCache: KeySet | undefined;
  /** The kids of keySetCache, in order. */
  private keySetKids = '';
  /** Schedule changes run one at a time: two overlapping ticks would both promote and leave two next keys. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Bumped on every change; lets callers notice rotations. */
  version = 0;
  /** This instance, as the holder of leases. */
  readonly instanceId: string = randomUUID();

  constructor(
    private readonly store: Store,
    private readonly master: MasterKey,
    private readonly schedule: KeySchedule,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Loads the keys; on a fresh store creates the first active key and its successor. */
  async init(now: number): Promise<void> {
    await this.tick(now);
  }

  /** Re-reads the keys from the store (another instance or the CLI may have changed them). */
  reload(): Promise<void> {
    return this.serially(() => this.load());
  }

  private async load(): Promise<void> {
    this.records = await this.store.keys.list();
    for (const r of this.records) if (r.state === 'active') this.lastActive.set(r.alg, r);
    this.jwksCache = undefined;
    // The same verifying keys as before (the periodic reload mostly finds nothing changed): the same KeySet
    // object, so that the verifications cached against it (the server's own Verifier) stay valid.
    const kids = this.verifying()
      .map((r) => r.kid)
      .join(' ');
    if (kids !== this.keySetKids) this.keySetCache = undefined;
    this.keySetKids = kids;
    this.version++;
  }

  /** Every key, the main track's first, each track by activation time. */
  list(): readonly SigningKeyRecord[] {
    const main = this.schedule.alg;
    return [...this.records.filter((r) => r.alg === main), ...this.records.filter((r) => r.alg !== main)];
  }

  /** The algorithms of the tracks: the main one first. */
  algorithms(): readonly Algorithm[] {
    return [this.schedule.alg, ...(this.schedule.also ?? []).filter((a) => a !== this.schedule.alg)];
  }

  /**
   * The key that signs now in the track of `alg` (default: the main track). Should the store show no active key
   * (changed by hand, or by an older version between the two writes of a promotion), the one that signed last
   * goes on signing: tokens keep being issued, by a key the verifiers know, until the store has an active key again.
   */
  activeKey(alg: Algorithm = this.schedule.alg): Key {
    const rec = this.records.find((r) => r.state === 'active' && r.alg === alg) ?? this.lastActive.get(alg);
    // Plain Error, not coded: only a program that skipped init() meets it, never a user or an operator.
    if (!rec) throw new Error('no active signing key (KeyManager.init() has not run)');
    return this.key(rec);
  }

  /** The published JWKS: next, active and retired keys. Empty in single-app (HMAC) mode. */
  jwks(): JsonWebKeySet {
    if (!this.jwksCache) {
      const published = this.records.filter((r) => r.state !== 'removed' && r.publicJwk !== null);
      this.jwksCache = buildJwks(published.map((r) => this.key(r).publicKey()));
    }
    return this.jwksCache;
  }

  private verifying(): SigningKeyRecord[] {
    return this.records.filter((r) => (r.state === 'active' || r.state === 'retired') && r.alg === this.schedule.alg);
  }

  /** Every key of the main track that may have signed a live access token (for introspection and revocation). */
  verificationKeys(): KeySet {
    this.keySetCache ??= new KeySet(this.verifying().map((r) => this.key(r)));
    return this.keySetCache;
  }

  /**
   * Every key of every track that may have signed an ID token still presented (active and retired): for
   * `id_token_hint` at logout, which OpenID Connect lets be expired. Built per call: logout is rare.
   */
  idTokenKeys(): KeySet {
    return new KeySet(this.records.filter((r) => r.state === 'active' || r.state === 'retired').map((r) => this.key(r)));
  }

  /**
   * The periodic job of every instance: reloads the keys (another instance or the CLI may have changed them), and
   * applies the schedule only while this instance holds the schedule lease, taking or renewing it for `leaseTtlMs`.
   * Returns whether this instance applied the schedule.
   */
  async runSchedule(now: number, leaseTtlMs: number): Promise<boolean> {
    await this.reload();
    if (!(await this.store.leases.acquire(SCHEDULE_LEASE, this.instanceId, leaseTtlMs, now))) return false;
    await this.tick(now);
    return true;
  }

  /** Applies the schedule at `now`: creates a next key, promotes it when due, retires and removes old ones. */
  tick(now: number): Promise<boolean> {
    return this.exclusively(() => this.applySchedule(now));
  }

  private async applySchedule(now: number): Promise<boolean> {
    let changed = false;
    for (const alg of this.algorithms()) if (await this.applyTrack(alg, now)) changed = true;
    for (const r of this.records) {
      if (r.state === 'retired' && r.removeAfter !== null && r.removeAfter <= now) {
        await this.store.keys.update(r.kid, { state: 'removed' });
        this.decrypted.delete(r.kid);
        changed = true;
      }
    }
    if (changed) await this.load();
    return changed;
  }

  /** The schedule of one track: an active and a next key, the next one promoted when due. */
  private async applyTrack(alg: Algorithm, now: number): Promise<boolean> {
    const s = this.schedule;
    let changed = false;
    let active = this.records.find((r) => r.state === 'active' && r.alg === alg);
    if (!active) {
      active = await this.create(alg, 'active', now, now);
      changed = true;
    }
    let next = this.records.find((r) => r.state === 'next' && r.alg === alg);
    if (!next) {
      const activatesAt = Math.max(active.activatesAt + s.rotationInterval * 1000, now + s.jwksMaxAge * 1000);
      next = await this.create(alg, 'next', now, activatesAt);
      changed = true;
    }
    if (next.activatesAt <= now && next.createdAt + s.jwksMaxAge * 1000 <= now) {
      const removeAfter = now + ((await s.maxAccessTokenTtl()) + RETIRE_SKEW_S) * 1000;
      // One transaction: an instance that reloads the keys meanwhile sees the old active key or the new one.
      await this.store.keys.promote({ kid: active.kid, retiredAt: now, removeAfter }, { kid: next.kid, activatesAt: now });
      await this.load();
      await this.create(alg, 'next', now, now + s.rotationInterval * 1000);
      changed = true;
    }
    return changed;
  }

  /**
   * Rotates every track as soon as it is safe: each next key signs once it has been published for one JWKS cache
   * lifetime (at once if it already has). Returns the main track's next key's kid and when it takes over.
   */
  rotateNow(now: number): Promise<{ kid: string; activatesAt: number }> {
    return this.exclusively(async () => {
      await this.applySchedule(now);
      const nexts = this.algorithms().map((alg) => this.records.find((r) => r.state === 'next' && r.alg === alg)!);
      for (const next of nexts)
        await this.store.keys.update(next.kid, { activatesAt: Math.max(now, next.createdAt + this.schedule.jwksMaxAge * 1000) });
      await this.load();
      await this.applySchedule(now);
      const main = nexts[0]!;
      return { kid: main.kid, activatesAt: Math.max(now, main.createdAt + this.schedule.jwksMaxAge * 1000) };
    });
  }

  /**
   * Takes a key out of service now. The next key (never used) is dropped and a new one is made; the active
   * key hands over to the next key at once and stays published, retired, until the last token it signed has
   * expired (verifiers that have not yet fetched the next key refetch the JWKS once when they meet its kid).
   * A retired or removed key is refused: it no longer signs.
   */
  retire(kid: string, now: number): Promise<{ kind: 'retired'; record: SigningKeyRecord } | { kind: 'unknown' | 'not_signing' }> {
    return this.exclusively(async () => {
      const rec = this.records.find((r) => r.kid === kid);
      if (!rec) return { kind: 'unknown' as const };
      if (rec.state === 'retired' || rec.state === 'removed') return { kind: 'not_signing' as const };
      if (rec.state === 'next') {
        await this.store.keys.update(kid, { state: 'removed' });
        this.decrypted.delete(kid);
      } else {
        const next = this.records.find((r) => r.state === 'next' && r.alg === rec.alg);
        const removeAfter = now + ((await this.schedule.maxAccessTokenTtl()) + RETIRE_SKEW_S) * 1000;
        // One transaction either way (as the schedule's promotion): a reader sees one active key, old or new.
        const retirement = { kid, retiredAt: now, removeAfter };
        if (next) await this.store.keys.promote(retirement, { kid: next.kid, activatesAt: now });
        else await this.store.keys.replaceActive(retirement, this.record(generateKey(rec.alg as Algorithm), 'active', now, now));
      }
      await this.load();
      await this.applySchedule(now);
      await this.load();
      return { kind: 'retired' as const, record: this.records.find((r) => r.kid === kid)! };
    });
  }

  /**
   * Adds an existing private key (e.g. from ssh-keygen) as the next key of its algorithm's track: published now, signing after the lead
   * time. A key whose kid the store holds already (another instance may have imported it a moment ago) is not
   * added: `exists`.
   */
  importKey(key: Key, now: number): Promise<{ kind: 'imported'; record: SigningKeyRecord } | { kind: 'exists' }> {
    return this.exclusively(async () => {
      // Plain Error, not coded: the admin service refuses a public key first (AdminInputError); only a program calling this directly meets it.
      if (key.kind === 'public') throw new Error('a public key cannot sign');
      if (this.records.some((r) => r.kid === key.kid)) return { kind: 'exists' as const };
      // The next key replaced in one transaction: the JWKS never shows neither of them, nor two next keys.
      const rec = this.record(key, 'next', now, now + this.schedule.jwksMaxAge * 1000);
      await this.store.keys.replaceNext(this.records.find((r) => r.state === 'next' && r.alg === key.alg)?.kid, rec);
      await this.load();
      return { kind: 'imported' as const, record: rec };
    });
  }

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change, change);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * A change to the keys: one at a time in this instance (serially) and across instances (the change lease), made
   * on the keys as they are in the store now, so that two instances never both create a key for one rotation.
   */
  private exclusively<T>(change: () => Promise<T>): Promise<T> {
    return this.serially(async () => {
      const deadline = this.clock() + CHANGE_WAIT_MS;
      while (!(await this.store.leases.acquire(KEY_CHANGE_LEASE, this.instanceId, CHANGE_LEASE_TTL_MS, this.clock()))) {
        if (this.clock() > deadline) throw new KeysBusyError();
        await sleep(CHANGE_POLL_MS);
      }
      try {
        await this.load();
        return await change();
      } finally {
        await this.store.leases.release(KEY_CHANGE_LEASE, this.instanceId);
      }
    });
  }

  private async create(alg: Algorithm, state: 'active' | 'next', now: number, activatesAt: number): Promise<SigningKeyRecord> {
    const rec = this.record(generateKey(alg), state, now, activatesAt);
    await this.store.keys.insert(rec);
    this.records.push(rec);
    this.jwksCache = undefined;
    this.keySetCache = undefined;
    return rec;
  }

  private record(key: Key, state: 'active' | 'next', now: number, activatesAt: number): SigningKeyRecord {
    this.decrypted.set(key.kid, key);
    return {
      kid: key.kid,
      alg: key.alg,
      state,
      encryptedPrivateKey: this.master.encrypt(JSON.stringify(key.toJwk({ private: true })), key.kid),
      publicJwk: key.kind === 'secret' ? null : key.toJwk(),
      createdAt: now,
      activatesAt,
      retiredAt: null,
      removeAfter: null,
    };
  }

  private key(rec: SigningKeyRecord): Key {
    let k = this.decrypted.get(rec.kid);
    if (!k) {
      k = importJwk(JSON.parse(this.master.decrypt(rec.encryptedPrivateKey, rec.kid)), { kid: rec.kid });
      this.decrypted.set(rec.kid, k);
    }
    return k;
  }
}

import type { Store } from '../store/types.js';

/** The lease of the instance that deletes old audit events (see AuditRetention). */
export const AUDIT_RETENTION_LEASE = 'audit-retention';
/** Events deleted per statement: short statements, so that no delete holds the table for long. */
const BATCH = 1_000;
/** Batches per run at most: a backlog (the first run on an old database) is worked off over several runs. */
const MAX_BATCHES = 50;

/**
 * The audit log's retention: events older than `retentionMs` are deleted, in batches, by one instance at a time,
 * the one holding the `audit-retention` lease (taken or renewed at each run, lapsing if its holder dies).
 */
export class AuditRetention {
  constructor(
    private readonly store: Store,
    private readonly retentionMs: number,
    private readonly holder: string,
  ) {}

  /** Deletes what has expired at `now` if this instance holds the lease: how many, or undefined when another holds it. */
  async run(now: number, leaseTtlMs: number): Promise<number | undefined> {
    if (!(await this.store.leases.acquire(AUDIT_RETENTION_LEASE, this.holder, leaseTtlMs, now))) return undefined;
    let deleted = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await this.store.audit.prune(now - this.retentionMs, BATCH);
      deleted += n;
      if (n < BATCH) break;
    }
    return deleted;
  }

  /** Hands the lease over at once (on shutdown) rather than after it lapses. */
  release(): Promise<void> {
    return this.store.leases.release(AUDIT_RETENTION_LEASE, this.holder);
  }
}

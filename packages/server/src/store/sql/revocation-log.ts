import { sql, type Kysely } from 'kysely';

import type { CutOff, FamilyRevocation } from '../refresh-families.js';
import type { Revocation, RevocationKind } from '../revocations.js';
import type { Database } from '../schema.js';
import { RowReader } from './row.js';

/** PostgreSQL advisory lock class under which revocations are numbered (the second key is the schema's hash). */
const REVOCATION_LOCK = 0x74726576; // 'trev'

const KINDS: readonly RevocationKind[] = ['jti', 'subject', 'client', 'family'];

export function toRevocation(row: object): Revocation {
  const r = new RowReader('revocations', row);
  return {
    seq: r.int('seq'),
    kind: r.oneOf('kind', KINDS),
    value: r.text('value'),
    cutoff: r.intOrNull('cutoff'),
    expiresAt: r.int('expires_at'),
    createdAt: r.int('created_at'),
    reason: r.text('reason'),
  };
}

/**
 * The part of a transaction that writes a revocation record, shared by every transaction that writes one: the
 * revocation repository's own (a record alone) and the refresh families' (a family or cut-off with its record).
 *
 * Sequence numbers are committed in sequence order, so that a reader resuming after seq N never misses a lower seq
 * committed later. SQLite has one writer at a time; on PostgreSQL a sequence hands out numbers before the commit,
 * so every transaction that inserts a record takes a transaction-scoped advisory lock first, before any row lock,
 * so that two of them never wait for each other.
 */
export class RevocationLog {
  constructor(private readonly dialect: 'sqlite' | 'postgres') {}

  /** Takes the lock (PostgreSQL) in the transaction `tx`: call it first in the transaction. */
  async lock(tx: Kysely<Database>): Promise<void> {
    if (this.dialect === 'postgres')
      await sql`select pg_advisory_xact_lock(${sql.lit(REVOCATION_LOCK)}, hashtext(current_schema()))`.execute(tx);
  }

  /** Inserts the record in `db` (a transaction that holds the lock, or SQLite's single writer). */
  async append(db: Kysely<Database>, r: Omit<Revocation, 'seq'>): Promise<Revocation> {
    const row = await db
      .insertInto('revocations')
      .values({
        kind: r.kind,
        value: r.value,
        cutoff: r.cutoff,
        expires_at: r.expiresAt,
        created_at: r.createdAt,
        reason: r.reason,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRevocation(row);
  }

  /**
   * In `tx` (which holds the lock): the cut-off record of a user (`subject`) or a client (cutoff = now) and every
   * live family of theirs revoked, announced by that record (and a user's browser sessions deleted). The callers' transactions put it beside the change
   * that implies it (a user disabled, a client deleted).
   */
  async cutOff(
    tx: Kysely<Database>,
    owner: { kind: 'subject' | 'client'; id: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<CutOff> {
    const revocation = await this.append(tx, {
      kind: owner.kind,
      value: owner.id,
      cutoff: now,
      expiresAt: record.expiresAt,
      createdAt: now,
      reason: record.reason,
    });
    // A user's browser sessions end with the rest, so that no sign-in through them follows the cut-off.
    if (owner.kind === 'subject') await tx.deleteFrom('browser_sessions').where('user_id', '=', owner.id).execute();
    const families = await tx
      .updateTable('refresh_families')
      .set({ revoked_at: now, revoked_reason: reason, revocation_seq: revocation.seq })
      .where('revoked_at', 'is', null)
      .where(owner.kind === 'subject' ? 'user_id' : 'client_id', '=', owner.id)
      .returning('id')
      .execute();
    return { families: families.map((r) => new RowReader('refresh_families', r).text('id')), revocation };
  }

  /**
   * In `tx` (which holds the lock): the refresh family `id`, or every family bound to the browser session
   * `browserSessionId`, not yet announced, revoked, each with the `family` record that announces it (a family
   * revoked without its record, by an older version's crash, keeps its revocation and gets the record now).
   * Returns the records written, in sequence order: none for unknown families or ones announced before.
   */
  async revokeFamilies(
    tx: Kysely<Database>,
    which: { id: string } | { browserSessionId: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<Revocation[]> {
    const update = tx.updateTable('refresh_families').set((eb) => ({
      revoked_at: eb.fn.coalesce('revoked_at', eb.val(now)),
      revoked_reason: eb.fn.coalesce('revoked_reason', eb.val(reason)),
    }));
    const rows = await (
      'id' in which ? update.where('id', '=', which.id) : update.where('browser_session_id', '=', which.browserSessionId)
    )
      .where('revocation_seq', 'is', null)
      .returning('id')
      .execute();
    const records: Revocation[] = [];
    for (const id of rows.map((r) => new RowReader('refresh_families', r).text('id')).sort()) {
      const r = await this.append(tx, {
        kind: 'family',
        value: id,
        cutoff: null,
        expiresAt: record.expiresAt,
        createdAt: now,
        reason: record.reason,
      });
      await tx.updateTable('refresh_families').set({ revocation_seq: r.seq }).where('id', '=', id).execute();
      records.push(r);
    }
    return records;
  }

  /**
   * One transaction: `change` (a write of the user's or client's row, first, so that SQLite takes its write lock at
   * once; false when there is no such row), then the cut-off of that owner. Undefined, nothing written, when the
   * change found no row.
   */
  withCutOff(
    db: Kysely<Database>,
    owner: { kind: 'subject' | 'client'; id: string },
    now: number,
    record: FamilyRevocation,
    change: (tx: Kysely<Database>) => Promise<boolean>,
  ): Promise<CutOff | undefined> {
    return db.transaction().execute(async (tx) => {
      await this.lock(tx);
      if (!(await change(tx))) return undefined;
      return this.cutOff(tx, owner, record.reason, now, record);
    });
  }
}

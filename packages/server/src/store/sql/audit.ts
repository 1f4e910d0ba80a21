import { sql, type Insertable, type Kysely } from 'kysely';

import type { AuditEvent, AuditFilter, AuditRepository, NewAuditEvent } from '../audit.js';
import { StoreRowError } from '../errors.js';
import type { Database } from '../schema.js';
import { AuditBatch } from './audit-batch.js';
import { object, RowReader } from './row.js';

const OUTCOMES: readonly AuditEvent['outcome'][] = ['success', 'failure', 'info'];

function toEvent(row: object): AuditEvent {
  const r = new RowReader('audit_events', row);
  return {
    id: r.int('id'),
    time: r.int('time'),
    type: r.text('type'),
    outcome: r.oneOf('outcome', OUTCOMES),
    actor: r.textOrNull('actor'),
    subject: r.textOrNull('subject'),
    clientId: r.textOrNull('client_id'),
    ip: r.textOrNull('ip'),
    data: r.json('data', 'a JSON object', object),
  };
}

type AuditRow = Insertable<Database['audit_events']>;

/** Inserts the rows and returns their ids; StoreRowError if the database did not write each (a trigger skipped one). */
async function insertEvents(db: Kysely<Database>, rows: AuditRow[]): Promise<number[]> {
  const ids = (await db.insertInto('audit_events').values(rows).returning('id').execute()).map((r) =>
    new RowReader('audit_events', r).int('id'),
  );
  if (ids.length !== rows.length)
    throw new StoreRowError('audit_events', 'id', `one id for each of the ${rows.length} rows inserted`);
  return ids;
}

export class SqlAuditRepository implements AuditRepository {
  /** Audit events are written in groups: one INSERT per turn of the event loop (see audit-batch.ts). */
  private readonly batch = new AuditBatch<AuditRow>((rows) =>
    // Several rows in a transaction: one the database skipped rolls the others back, so that their retry one by
    // one does not write them twice.
    rows.length === 1 ? insertEvents(this.db, rows) : this.db.transaction().execute((tx) => insertEvents(tx, rows)),
  );

  constructor(private readonly db: Kysely<Database>) {}

  append(e: NewAuditEvent): Promise<number> {
    const { time, type, outcome, actor, subject, clientId, ip, data } = e;
    return this.batch.append({ time, type, outcome, actor, subject, client_id: clientId, ip, data: JSON.stringify(data) });
  }

  /** Resolves once every event appended so far is written: before the database closes. */
  drain(): Promise<void> {
    return this.batch.drain();
  }

  async query(f: AuditFilter): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(f.limit);
    // `prefix.*` compares the leading characters, not LIKE: LIKE folds case in SQLite (not in PostgreSQL) and reads
    // `_` and `%` in the prefix as wildcards.
    if (f.type !== undefined) {
      const prefix = f.type.endsWith('.*') ? f.type.slice(0, -1) : undefined;
      q =
        prefix === undefined
          ? q.where('type', '=', f.type)
          : q.where(sql<string>`substr(${sql.ref('type')}, 1, ${sql.lit(prefix.length)})`, '=', prefix);
    }
    if (f.subject !== undefined) q = q.where('subject', '=', f.subject);
    if (f.from !== undefined) q = q.where('time', '>=', f.from);
    if (f.to !== undefined) q = q.where('time', '<', f.to);
    if (f.before !== undefined) q = q.where('id', '<', f.before);
    return (await q.execute()).map(toEvent);
  }

  async prune(before: number, limit: number): Promise<number> {
    // By id, a batch at a time: one short statement, not a delete of millions of rows holding locks for minutes.
    const r = await this.db
      .deleteFrom('audit_events')
      .where('id', 'in', this.db.selectFrom('audit_events').select('id').where('time', '<', before).orderBy('id').limit(limit))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

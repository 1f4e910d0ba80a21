import type { Kysely } from 'kysely';

import { parseWorkloadIssuer, workloadIssuerView, type WorkloadIssuer } from '../../workload/issuer.js';
import { StoreConflictError, StoreRowError } from '../errors.js';
import type { Database } from '../schema.js';
import type { WorkloadIssuerRepository } from '../workload-issuers.js';
import { RowReader } from './row.js';
import { isUniqueViolation } from './unique-violation.js';

/** A row: name and issuer as columns (looked up, unique), the rest as the issuer's wire form, checked when read. */
function toIssuer(row: object): WorkloadIssuer {
  const r = new RowReader('workload_issuers', row);
  const document = r.json('document', 'a workload issuer', (v) => v);
  let parsed;
  try {
    parsed = parseWorkloadIssuer(document);
  } catch {
    throw new StoreRowError('workload_issuers', 'document', 'a workload issuer');
  }
  if (parsed.name !== r.text('name') || parsed.issuer !== r.text('issuer'))
    throw new StoreRowError('workload_issuers', 'document', 'the issuer its row names');
  return { ...parsed, createdAt: r.int('created_at'), updatedAt: r.int('updated_at') };
}

function toRow(i: WorkloadIssuer) {
  // The view of the record without its times (they are columns of their own).
  const document = workloadIssuerView({ ...i, createdAt: undefined, updatedAt: undefined });
  return { name: i.name, issuer: i.issuer, document: JSON.stringify(document), created_at: i.createdAt, updated_at: i.updatedAt };
}

export class SqlWorkloadIssuerRepository implements WorkloadIssuerRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<WorkloadIssuer[]> {
    const rows = await this.db.selectFrom('workload_issuers').selectAll().orderBy('name').execute();
    return rows.map(toIssuer);
  }

  async get(name: string): Promise<WorkloadIssuer | undefined> {
    const row = await this.db.selectFrom('workload_issuers').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toIssuer(row);
  }

  async byIssuer(issuer: string): Promise<WorkloadIssuer | undefined> {
    const row = await this.db.selectFrom('workload_issuers').selectAll().where('issuer', '=', issuer).executeTakeFirst();
    return row && toIssuer(row);
  }

  async create(issuer: WorkloadIssuer): Promise<void> {
    try {
      await this.db.insertInto('workload_issuers').values(toRow(issuer)).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError('workload issuer');
      throw err;
    }
  }

  async replace(issuer: WorkloadIssuer): Promise<boolean> {
    const row = toRow(issuer);
    const change = { issuer: row.issuer, document: row.document, updated_at: row.updated_at };
    try {
      const r = await this.db.updateTable('workload_issuers').set(change).where('name', '=', row.name).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError('workload issuer');
      throw err;
    }
  }

  async delete(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('workload_issuers').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

import type { Kysely } from 'kysely';

import { StoreConflictError, StoreRowError } from '../errors.js';
import type { Database } from '../schema.js';
import { RowReader } from './row.js';
import { isUniqueViolation } from './unique-violation.js';

/** The tables of records kept as their checked wire form: a name, one unique identifier, the document, two times. */
type DocumentTable = 'workload_issuers' | 'resources';

/** How one kind of record maps to its table: its identifier column, and its wire form's parser and writer. */
export interface DocumentKind<T extends { name: string; createdAt: number; updatedAt: number }> {
  table: DocumentTable;
  /** The second unique column (`issuer`, `resource`) and its value in a record. */
  column: 'issuer' | 'resource';
  identifier: (record: Omit<T, 'createdAt' | 'updatedAt'>) => string;
  /** What StoreRowError and StoreConflictError name. */
  entity: 'workload issuer' | 'resource';
  /** The record of a stored wire form; throws for a document that is not one. */
  parse: (document: unknown) => Omit<T, 'createdAt' | 'updatedAt'>;
  /** The wire form of a record, without its times (they are columns of their own). */
  view: (record: T) => unknown;
}

/**
 * Records kept as one checked document per row (workload issuers, resources): name and identifier as columns
 * (looked up, unique), the rest as the record's wire form, parsed again when read (a row that is not one throws
 * StoreRowError). Creates and replaces map a unique violation to StoreConflictError.
 */
export class DocumentRows<T extends { name: string; createdAt: number; updatedAt: number }> {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: DocumentKind<T>,
  ) {}

  private toRecord(row: object): T {
    const { table, column, entity } = this.kind;
    const r = new RowReader(table, row);
    const document = r.json('document', `a ${entity}`, (v) => v);
    let parsed;
    try {
      parsed = this.kind.parse(document);
    } catch {
      throw new StoreRowError(table, 'document', `a ${entity}`);
    }
    if (parsed.name !== r.text('name') || this.kind.identifier(parsed) !== r.text(column))
      throw new StoreRowError(table, 'document', `the ${entity} its row names`);
    return { ...parsed, createdAt: r.int('created_at'), updatedAt: r.int('updated_at') } as T;
  }

  private toRow(x: T) {
    return {
      name: x.name,
      [this.kind.column]: this.kind.identifier(x),
      document: JSON.stringify(this.kind.view(x)),
      created_at: x.createdAt,
      updated_at: x.updatedAt,
    } as { name: string; issuer: string; resource: string; document: string; created_at: number; updated_at: number };
  }

  async list(): Promise<T[]> {
    const rows = await this.db.selectFrom(this.kind.table).selectAll().orderBy('name').execute();
    return rows.map((row) => this.toRecord(row));
  }

  async get(name: string): Promise<T | undefined> {
    const row = await this.db.selectFrom(this.kind.table).selectAll().where('name', '=', name).executeTakeFirst();
    return row && this.toRecord(row);
  }

  async by(identifier: string): Promise<T | undefined> {
    const row = await this.db
      .selectFrom(this.kind.table)
      .selectAll()
      .where(this.kind.column as 'name', '=', identifier)
      .executeTakeFirst();
    return row && this.toRecord(row);
  }

  async create(record: T): Promise<void> {
    try {
      await this.db.insertInto(this.kind.table).values(this.toRow(record)).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(this.kind.entity);
      throw err;
    }
  }

  /** Replaces the record of the same name; with `previous`, only if the stored one is still it (compare and set). */
  async replace(record: T, previous?: T): Promise<boolean> {
    const row = this.toRow(record);
    const change = { [this.kind.column]: row[this.kind.column], document: row.document, updated_at: row.updated_at };
    try {
      let update = this.db.updateTable(this.kind.table).set(change).where('name', '=', row.name);
      if (previous !== undefined) {
        const was = this.toRow(previous);
        update = update.where('document', '=', was.document).where('updated_at', '=', was.updated_at);
      }
      const r = await update.executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(this.kind.entity);
      throw err;
    }
  }

  async delete(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom(this.kind.table).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

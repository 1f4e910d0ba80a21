import type { Kysely } from 'kysely';

import type { Revocation, RevocationRepository } from '../revocations.js';
import type { Database } from '../schema.js';
import { toRevocation, type RevocationLog } from './revocation-log.js';

export class SqlRevocationRepository implements RevocationRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
    private readonly log: RevocationLog,
  ) {}

  /** On PostgreSQL in a transaction of its own, under the lock that orders commits (revocation-log.ts). */
  async add(r: Omit<Revocation, 'seq'>): Promise<Revocation> {
    if (this.dialect === 'sqlite') return this.log.append(this.db, r);
    return this.db.transaction().execute(async (tx) => {
      await this.log.lock(tx);
      return this.log.append(tx, r);
    });
  }

  async list(now: number, afterSeq = 0): Promise<Revocation[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .selectAll()
      .where('expires_at', '>', now)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .execute();
    return rows.map(toRevocation);
  }

  async prune(now: number): Promise<number> {
    const r = await this.db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

import { sql, type Kysely } from 'kysely';

import type { BrowserSession, BrowserSessionRepository } from '../browser-sessions.js';
import type { Database } from '../schema.js';
import { RowReader } from './row.js';

function toSession(row: object): BrowserSession {
  const r = new RowReader('browser_sessions', row);
  return {
    digest: r.text('digest'),
    userId: r.text('user_id'),
    authTime: r.int('auth_time'),
    createdAt: r.int('created_at'),
    idleExpiresAt: r.int('idle_expires_at'),
    absoluteExpiresAt: r.int('absolute_expires_at'),
  };
}

export class SqlBrowserSessionRepository implements BrowserSessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(s: BrowserSession, replacing?: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (replacing !== undefined) await tx.deleteFrom('browser_sessions').where('digest', '=', replacing).execute();
      await tx
        .insertInto('browser_sessions')
        .values({
          digest: s.digest,
          user_id: s.userId,
          auth_time: s.authTime,
          created_at: s.createdAt,
          idle_expires_at: Math.min(s.idleExpiresAt, s.absoluteExpiresAt),
          absolute_expires_at: s.absoluteExpiresAt,
        })
        .execute();
    });
  }

  async touch(digest: string, now: number, idleExpiresAt: number): Promise<BrowserSession | undefined> {
    const row = await this.db
      .updateTable('browser_sessions')
      .set({
        idle_expires_at: sql<number>`case when absolute_expires_at < ${idleExpiresAt} then absolute_expires_at else ${idleExpiresAt} end`,
      })
      .where('digest', '=', digest)
      .where('idle_expires_at', '>', now)
      .where('absolute_expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row && toSession(row);
  }

  async delete(digest: string): Promise<boolean> {
    const r = await this.db.deleteFrom('browser_sessions').where('digest', '=', digest).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteByUser(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('browser_sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async prune(now: number, limit: number): Promise<number> {
    const expired = this.db
      .selectFrom('browser_sessions')
      .select('digest')
      .where((eb) => eb.or([eb('idle_expires_at', '<=', now), eb('absolute_expires_at', '<=', now)]))
      .limit(limit);
    const r = await this.db.deleteFrom('browser_sessions').where('digest', 'in', expired).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

import { sql, type ExpressionBuilder, type Kysely } from 'kysely';

import type { BrowserSession, BrowserSessionRepository, SessionEnd } from '../browser-sessions.js';
import type { FamilyRevocation } from '../refresh-families.js';
import type { Revocation } from '../revocations.js';
import type { Database } from '../schema.js';
import type { RevocationLog } from './revocation-log.js';
import { RowReader } from './row.js';

function toSession(row: object): BrowserSession {
  const r = new RowReader('browser_sessions', row);
  return {
    id: r.text('id'),
    digest: r.text('digest'),
    userId: r.text('user_id'),
    authTime: r.int('auth_time'),
    createdAt: r.int('created_at'),
    idleExpiresAt: r.int('idle_expires_at'),
    absoluteExpiresAt: r.int('absolute_expires_at'),
  };
}

/** The condition of a session live at `now`: neither its idle nor its absolute lifetime over. */
const liveAt = (now: number) => (eb: ExpressionBuilder<Database, 'browser_sessions'>) =>
  eb.and([eb('idle_expires_at', '>', now), eb('absolute_expires_at', '>', now)]);

export class SqlBrowserSessionRepository implements BrowserSessionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: RevocationLog,
  ) {}

  async create(
    s: BrowserSession,
    replacing?: { digest: string; reason: string; now: number; record: FamilyRevocation },
  ): Promise<Revocation[]> {
    return this.db.transaction().execute(async (tx) => {
      const ended =
        replacing && (await this.endIn(tx, { digest: replacing.digest }, replacing.reason, replacing.now, replacing.record));
      await tx
        .insertInto('browser_sessions')
        .values({
          id: s.id,
          digest: s.digest,
          user_id: s.userId,
          auth_time: s.authTime,
          created_at: s.createdAt,
          idle_expires_at: Math.min(s.idleExpiresAt, s.absoluteExpiresAt),
          absolute_expires_at: s.absoluteExpiresAt,
        })
        .execute();
      return ended?.revocations ?? [];
    });
  }

  async touch(digest: string, now: number, idleExpiresAt: number): Promise<BrowserSession | undefined> {
    const row = await this.db
      .updateTable('browser_sessions')
      .set({
        idle_expires_at: sql<number>`case when absolute_expires_at < ${idleExpiresAt} then absolute_expires_at else ${idleExpiresAt} end`,
      })
      .where('digest', '=', digest)
      .where(liveAt(now))
      .returningAll()
      .executeTakeFirst();
    return row && toSession(row);
  }

  async get(id: string, now: number): Promise<BrowserSession | undefined> {
    const row = await this.db
      .selectFrom('browser_sessions')
      .selectAll()
      .where('id', '=', id)
      .where(liveAt(now))
      .executeTakeFirst();
    return row && toSession(row);
  }

  async listByUser(userId: string, now: number): Promise<BrowserSession[]> {
    const rows = await this.db
      .selectFrom('browser_sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where(liveAt(now))
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toSession);
  }

  /**
   * The revocation lock first (PostgreSQL), then the delete (SQLite's write lock at once), then the bound families. A
   * redemption that binds a new family to the session locks the session's row in its transaction
   * (authorization-codes.ts), so it either commits before this delete, and its family is revoked here, or finds
   * the session gone and binds nothing.
   */
  async end(
    ref: { digest: string } | { id: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<SessionEnd | undefined> {
    return this.db.transaction().execute((tx) => this.endIn(tx, ref, reason, now, record));
  }

  /** `end` in the caller's transaction. */
  private async endIn(
    tx: Kysely<Database>,
    ref: { digest: string } | { id: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<SessionEnd | undefined> {
    await this.log.lock(tx);
    const del = tx.deleteFrom('browser_sessions');
    const row = await ('id' in ref ? del.where('id', '=', ref.id) : del.where('digest', '=', ref.digest))
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    const session = toSession(row);
    return { session, revocations: await this.log.revokeFamilies(tx, { browserSessionId: session.id }, reason, now, record) };
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

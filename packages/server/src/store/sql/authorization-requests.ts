import type { Kysely } from 'kysely';

import type { AuthorizationRequestRepository, PendingAuthorization } from '../authorization-requests.js';
import type { Database } from '../schema.js';
import { object, RowReader } from './row.js';

function params(v: unknown): Record<string, string> | undefined {
  const o = object(v);
  return o && Object.values(o).every((x) => typeof x === 'string') ? (o as Record<string, string>) : undefined;
}

function toRequest(row: object): PendingAuthorization {
  const r = new RowReader('authorization_requests', row);
  return {
    digest: r.text('digest'),
    clientId: r.text('client_id'),
    params: r.json('params', 'a JSON object of strings', params),
    createdAt: r.int('created_at'),
    expiresAt: r.int('expires_at'),
  };
}

export class SqlAuthorizationRequestRepository implements AuthorizationRequestRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(p: PendingAuthorization): Promise<void> {
    await this.db
      .insertInto('authorization_requests')
      .values({
        digest: p.digest,
        client_id: p.clientId,
        params: JSON.stringify(p.params),
        created_at: p.createdAt,
        expires_at: p.expiresAt,
      })
      .execute();
  }

  async get(digest: string, now: number): Promise<PendingAuthorization | undefined> {
    const row = await this.db
      .selectFrom('authorization_requests')
      .selectAll()
      .where('digest', '=', digest)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row && toRequest(row);
  }

  /** One delete returning the row, so that of concurrent takes exactly one gets it. */
  async take(digest: string, now: number): Promise<PendingAuthorization | undefined> {
    const row = await this.db
      .deleteFrom('authorization_requests')
      .where('digest', '=', digest)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row && toRequest(row);
  }

  async prune(now: number, limit: number): Promise<number> {
    const expired = this.db.selectFrom('authorization_requests').select('digest').where('expires_at', '<=', now).limit(limit);
    const r = await this.db.deleteFrom('authorization_requests').where('digest', 'in', expired).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

import type { Kysely } from 'kysely';

import type { Consent, ConsentRepository } from '../consents.js';
import type { Database } from '../schema.js';
import { RowReader } from './row.js';

function toConsent(row: object): Consent {
  const r = new RowReader('consents', row);
  return {
    userId: r.text('user_id'),
    clientId: r.text('client_id'),
    scopes: r.strings('scopes'),
    grantedAt: r.int('granted_at'),
  };
}

export class SqlConsentRepository implements ConsentRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(userId: string, clientId: string): Promise<Consent | undefined> {
    const row = await this.db
      .selectFrom('consents')
      .selectAll()
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && toConsent(row);
  }

  async put(c: Consent): Promise<void> {
    const values = { user_id: c.userId, client_id: c.clientId, scopes: JSON.stringify(c.scopes), granted_at: c.grantedAt };
    await this.db
      .insertInto('consents')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes: values.scopes, granted_at: values.granted_at }),
      )
      .execute();
  }

  async listByUser(userId: string): Promise<Consent[]> {
    const rows = await this.db.selectFrom('consents').selectAll().where('user_id', '=', userId).orderBy('client_id').execute();
    return rows.map(toConsent);
  }

  async delete(userId: string, clientId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('consents')
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

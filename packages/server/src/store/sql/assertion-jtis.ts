import type { Kysely } from 'kysely';

import type { AssertionJtiRepository } from '../assertion-jtis.js';
import type { Database } from '../schema.js';

export class SqlAssertionJtiRepository implements AssertionJtiRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** One conditional insert, so that of concurrent uses of one jti (on any instance) exactly one succeeds. */
  async use(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    await this.db.deleteFrom('assertion_jtis').where('expires_at', '<=', now).execute();
    const r = await this.db
      .insertInto('assertion_jtis')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
}

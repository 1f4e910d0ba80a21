import type { Kysely } from 'kysely';

import type { LeaseRepository } from '../leases.js';
import type { Database } from '../schema.js';

export class SqlLeaseRepository implements LeaseRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async acquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    // One statement: insert, or take over an expired lease, or renew one's own; a lease held by another is left
    // alone and no row comes back.
    const rows = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), expires_at: eb.ref('excluded.expires_at') }))
          .where((eb) => eb.or([eb('leases.holder', '=', eb.ref('excluded.holder')), eb('leases.expires_at', '<=', now)])),
      )
      .returning('holder')
      .execute();
    return rows.length > 0;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }
}

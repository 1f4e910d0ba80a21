import type { Kysely } from 'kysely';

import { parseWorkloadIssuer, workloadIssuerView, type WorkloadIssuer } from '../../workload/issuer.js';
import type { Database } from '../schema.js';
import type { WorkloadIssuerRepository } from '../workload-issuers.js';
import { DocumentRows } from './document-rows.js';

/** A row: name and issuer as columns (looked up, unique), the rest as the issuer's wire form, checked when read. */
export class SqlWorkloadIssuerRepository extends DocumentRows<WorkloadIssuer> implements WorkloadIssuerRepository {
  constructor(db: Kysely<Database>) {
    super(db, {
      table: 'workload_issuers',
      column: 'issuer',
      identifier: (i) => i.issuer,
      entity: 'workload issuer',
      parse: parseWorkloadIssuer,
      view: (i) => workloadIssuerView({ ...i, createdAt: undefined, updatedAt: undefined }),
    });
  }

  byIssuer(issuer: string): Promise<WorkloadIssuer | undefined> {
    return this.by(issuer);
  }
}

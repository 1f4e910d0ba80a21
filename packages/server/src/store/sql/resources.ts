import type { Kysely } from 'kysely';

import { parseResource, resourceView, type Resource } from '../../resources/resource.js';
import type { EncryptedTokenRepository, ResourceRepository } from '../resources.js';
import type { Database } from '../schema.js';
import { DocumentRows } from './document-rows.js';
import { RowReader } from './row.js';

/** A row: name and resource identifier as columns (looked up, unique), the rest as the wire form, checked when read. */
export class SqlResourceRepository extends DocumentRows<Resource> implements ResourceRepository {
  constructor(db: Kysely<Database>) {
    super(db, {
      table: 'resources',
      column: 'resource',
      identifier: (r) => r.resource,
      entity: 'resource',
      parse: parseResource,
      view: (r) => resourceView({ ...r, createdAt: undefined, updatedAt: undefined }),
    });
  }
}

export class SqlEncryptedTokenRepository implements EncryptedTokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(digest: string, inner: string, expiresAt: number): Promise<void> {
    await this.db.insertInto('encrypted_access_tokens').values({ digest, inner, expires_at: expiresAt }).execute();
  }

  async inner(digest: string, now: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('encrypted_access_tokens')
      .select(['inner', 'expires_at'])
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const r = new RowReader('encrypted_access_tokens', row);
    return r.int('expires_at') > now ? r.text('inner') : undefined;
  }

  async prune(now: number, limit: number): Promise<number> {
    const doomed = this.db.selectFrom('encrypted_access_tokens').select('digest').where('expires_at', '<=', now).limit(limit);
    const r = await this.db.deleteFrom('encrypted_access_tokens').where('digest', 'in', doomed).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

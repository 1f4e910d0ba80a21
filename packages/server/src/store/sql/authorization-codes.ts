import type { Kysely } from 'kysely';

import type { AuthorizationCode, AuthorizationCodeRepository } from '../authorization-codes.js';
import type { RefreshFamily, RefreshToken } from '../refresh-families.js';
import type { Database } from '../schema.js';
import { insertFamily } from './refresh-rows.js';
import { RowReader } from './row.js';

function toCode(row: object): AuthorizationCode {
  const r = new RowReader('authorization_codes', row);
  return {
    digest: r.text('digest'),
    clientId: r.text('client_id'),
    userId: r.text('user_id'),
    redirectUri: r.text('redirect_uri'),
    codeChallenge: r.text('code_challenge'),
    scope: r.text('scope'),
    audience: r.strings('audience'),
    authTime: r.int('auth_time'),
    createdAt: r.int('created_at'),
    expiresAt: r.int('expires_at'),
    usedAt: r.intOrNull('used_at'),
    familyId: r.textOrNull('family_id'),
    nonce: r.textOrNull('nonce'),
    acr: r.textOrNull('acr'),
    amr: r.strings('amr'),
  };
}

export class SqlAuthorizationCodeRepository implements AuthorizationCodeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(c: AuthorizationCode): Promise<void> {
    await this.db
      .insertInto('authorization_codes')
      .values({
        digest: c.digest,
        client_id: c.clientId,
        user_id: c.userId,
        redirect_uri: c.redirectUri,
        code_challenge: c.codeChallenge,
        scope: c.scope,
        audience: JSON.stringify(c.audience),
        auth_time: c.authTime,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        used_at: c.usedAt,
        family_id: c.familyId,
        nonce: c.nonce,
        acr: c.acr,
        amr: JSON.stringify(c.amr),
      })
      .execute();
  }

  async get(digest: string): Promise<AuthorizationCode | undefined> {
    const row = await this.db.selectFrom('authorization_codes').selectAll().where('digest', '=', digest).executeTakeFirst();
    return row && toCode(row);
  }

  /** A conditional update spends the code (one winner across connections); the family joins it in the transaction. */
  async redeem(digest: string, now: number, family: RefreshFamily, first: RefreshToken | undefined): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const spent = await tx
        .updateTable('authorization_codes')
        .set({ used_at: now, family_id: family.id })
        .where('digest', '=', digest)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(spent.numUpdatedRows) !== 1) return false;
      await insertFamily(tx, family, first);
      return true;
    });
  }

  async prune(before: number, limit: number): Promise<number> {
    const old = this.db.selectFrom('authorization_codes').select('digest').where('expires_at', '<', before).limit(limit);
    const r = await this.db.deleteFrom('authorization_codes').where('digest', 'in', old).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

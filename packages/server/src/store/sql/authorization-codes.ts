import type { Kysely } from 'kysely';

import type { AuthorizationCode, AuthorizationCodeRepository } from '../authorization-codes.js';
import type { RefreshFamily, RefreshToken } from '../refresh-families.js';
import type { Database } from '../schema.js';
import { Prepared } from './prepared.js';
import { insertFamily } from './refresh-rows.js';
import { RowReader } from './row.js';

/** Thrown inside a redemption to roll it back: the code's browser session has ended. */
class SessionEnded extends Error {}

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
    browserSessionId: r.textOrNull('browser_session_id'),
    nonce: r.textOrNull('nonce'),
    acr: r.textOrNull('acr'),
    amr: r.strings('amr'),
    ...(r.textOrNull('dpop_jkt') === null ? {} : { dpopJkt: r.text('dpop_jkt') }),
  };
}

const BY_DIGEST = new Prepared<'digest'>((db, v) =>
  db.selectFrom('authorization_codes').selectAll().where('digest', '=', v('digest')),
);
/** Spends the code if unspent and unexpired at `now`; returns its browser session, no row when it was not spent. */
const SPEND = new Prepared<'digest' | 'now' | 'familyId'>((db, v) =>
  db
    .updateTable('authorization_codes')
    .set({ used_at: v('now'), family_id: v('familyId') })
    .where('digest', '=', v('digest'))
    .where('used_at', 'is', null)
    .where('expires_at', '>', v('now'))
    .returning('browser_session_id'),
);
/** Holds a live browser session (a row lock on PostgreSQL) for the rest of the transaction; one row when it is live. */
const HOLD_SESSION = new Prepared<'sessionId' | 'now'>((db, v) =>
  db
    .updateTable('browser_sessions')
    .set((eb) => ({ idle_expires_at: eb.ref('idle_expires_at') }))
    .where('id', '=', v('sessionId'))
    .where('idle_expires_at', '>', v('now'))
    .where('absolute_expires_at', '>', v('now')),
);

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
        browser_session_id: c.browserSessionId,
        nonce: c.nonce,
        acr: c.acr,
        amr: JSON.stringify(c.amr),
        dpop_jkt: c.dpopJkt ?? null,
      })
      .execute();
  }

  async get(digest: string): Promise<AuthorizationCode | undefined> {
    const row = (await BY_DIGEST.run(this.db, { digest })).rows[0];
    return row && toCode(row);
  }

  /**
   * A conditional update spends the code (one winner across connections); a no-op update of the code's browser
   * session, if live, locks its row until the commit (a session gone rolls the spending back); the family joins
   * them in the transaction.
   */
  async redeem(digest: string, now: number, family: RefreshFamily, first: RefreshToken | undefined): Promise<boolean> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const spent = (await SPEND.run(tx, { digest, now, familyId: family.id })).rows[0];
        if (!spent) return false;
        const sessionId = new RowReader('authorization_codes', spent).textOrNull('browser_session_id');
        if (sessionId !== null) {
          const live = await HOLD_SESSION.run(tx, { sessionId, now });
          if (Number(live.numAffectedRows) !== 1) throw new SessionEnded();
        }
        await insertFamily(tx, family, first);
        return true;
      });
    } catch (err) {
      if (err instanceof SessionEnded) return false;
      throw err;
    }
  }

  async prune(before: number, limit: number): Promise<number> {
    const old = this.db.selectFrom('authorization_codes').select('digest').where('expires_at', '<', before).limit(limit);
    const r = await this.db.deleteFrom('authorization_codes').where('digest', 'in', old).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

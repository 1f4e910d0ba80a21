import type { Kysely } from 'kysely';

import type {
  CutOff,
  FamilyFilter,
  FamilyRevocation,
  RefreshFamily,
  RefreshFamilyRepository,
  RefreshToken,
  RotateResult,
} from '../refresh-families.js';
import type { Revocation } from '../revocations.js';
import type { Database } from '../schema.js';
import { Prepared } from './prepared.js';
import { INSERT_TOKEN, insertFamily, toFamily, toPresentedToken, toToken } from './refresh-rows.js';
import type { RevocationLog } from './revocation-log.js';

/**
 * Refresh-token families. A revocation of families and the record that announces it are written in one
 * transaction, through the revocation log (revocation-log.ts) that orders every record.
 */
/** Spends the token if unspent, unexpired and of a live family at `now`: the statement that picks the one winner. */
const SPEND_TOKEN = new Prepared<'digest' | 'now'>((db, v) =>
  db
    .updateTable('refresh_tokens')
    .set({ used_at: v('now') })
    .where('digest', '=', v('digest'))
    .where('used_at', 'is', null)
    .where('expires_at', '>', v('now'))
    .where(
      'family_id',
      'in',
      db.selectFrom('refresh_families').select('id').where('revoked_at', 'is', null).where('absolute_expires_at', '>', v('now')),
    ),
);
const TOKEN_AND_FAMILY = new Prepared<'digest'>((db, v) =>
  db
    .selectFrom('refresh_tokens')
    .innerJoin('refresh_families', 'refresh_families.id', 'refresh_tokens.family_id')
    .selectAll('refresh_families')
    .select(['refresh_tokens.expires_at as token_expires_at', 'refresh_tokens.used_at as token_used_at'])
    .where('refresh_tokens.digest', '=', v('digest')),
);
const TOUCH_FAMILY = new Prepared<'id' | 'now'>((db, v) =>
  db
    .updateTable('refresh_families')
    .set({ last_used_at: v('now') })
    .where('id', '=', v('id'))
    .where('revoked_at', 'is', null),
);

/** Thrown inside a rotation's transaction to undo it: its family was revoked after its token was checked. */
class FamilyRevokedMeanwhile extends Error {}

export class SqlRefreshFamilyRepository implements RefreshFamilyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: RevocationLog,
  ) {}

  async create(f: RefreshFamily, first: RefreshToken): Promise<void> {
    await this.db.transaction().execute((tx) => insertFamily(tx, f, first));
  }

  async rotate(
    digest: string,
    next: Omit<RefreshToken, 'familyId'>,
    now: number,
    reuse: FamilyRevocation,
  ): Promise<RotateResult> {
    try {
      return await this.rotateIn(digest, next, now, reuse);
    } catch (err) {
      // The family was revoked (a cut-off, a logout) after the token was spent: nothing of the rotation stays.
      if (err instanceof FamilyRevokedMeanwhile) return { kind: 'invalid', reason: 'revoked' };
      throw err;
    }
  }

  private rotateIn(
    digest: string,
    next: Omit<RefreshToken, 'familyId'>,
    now: number,
    reuse: FamilyRevocation,
  ): Promise<RotateResult> {
    return this.db.transaction().execute(async (tx): Promise<RotateResult> => {
      // The single statement that decides the winner: only one caller flips used_at from null, in a live family.
      // It comes first so that on SQLite the transaction takes the write lock at once; one that read first could
      // not upgrade (SQLITE_BUSY) after another connection's write.
      const spent = await SPEND_TOKEN.run(tx, { digest, now });
      const row = (await TOKEN_AND_FAMILY.run(tx, { digest })).rows[0];
      if (!row) return { kind: 'invalid', reason: 'unknown' };
      const family = toFamily(row);
      const presented = toPresentedToken(row);
      if (Number(spent.numAffectedRows) === 0) {
        // Unused, so not spent because it expired or its family is revoked; an expired token stays unspent, so
        // presenting it again is not mistaken for a reuse.
        if (presented.usedAt === null) {
          const expired = presented.expiresAt <= now || family.absoluteExpiresAt <= now;
          return { kind: 'invalid', reason: family.revokedAt === null && expired ? 'expired' : 'revoked' };
        }
        // Spent before: a reuse, even once the family is revoked (by an earlier reuse, say), so that every loser
        // of a race sees `reused`. The family is revoked and announced in this transaction, once: a replay of a
        // family already announced writes nothing.
        const revocation = await this.revokeIn(tx, family.id, 'reuse', now, reuse);
        return {
          kind: 'reused',
          family: family.revokedAt === null ? { ...family, revokedAt: now, revokedReason: 'reuse' } : family,
          ...(revocation ? { revocation } : {}),
        };
      }
      // The family still live, and held (a row lock on PostgreSQL) until commit: a cut-off or a session's end that
      // revoked it after the token's check above wins, and this rotation is undone.
      const touched = await TOUCH_FAMILY.run(tx, { id: family.id, now });
      if (Number(touched.numAffectedRows) !== 1) throw new FamilyRevokedMeanwhile();
      await INSERT_TOKEN.run(tx, {
        ...next,
        familyId: family.id,
        expiresAt: Math.min(next.expiresAt, family.absoluteExpiresAt),
        usedAt: null,
      });
      return { kind: 'rotated', family: { ...family, lastUsedAt: now } };
    });
  }

  async findToken(digest: string): Promise<{ token: RefreshToken; family: RefreshFamily } | undefined> {
    const t = await this.db.selectFrom('refresh_tokens').selectAll().where('digest', '=', digest).executeTakeFirst();
    if (!t) return undefined;
    const token = toToken(t);
    const f = await this.db.selectFrom('refresh_families').selectAll().where('id', '=', token.familyId).executeTakeFirst();
    return f && { token, family: toFamily(f) };
  }

  async bindDpopKey(id: string, jkt: string): Promise<boolean> {
    const r = await this.db
      .updateTable('refresh_families')
      .set({ dpop_jkt: jkt })
      .where('id', '=', id)
      .where('dpop_jkt', 'is', null)
      // One binding per family: one bound to a client certificate stays bound to it alone.
      .where('x5t_s256', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async get(id: string): Promise<RefreshFamily | undefined> {
    const f = await this.db.selectFrom('refresh_families').selectAll().where('id', '=', id).executeTakeFirst();
    return f && toFamily(f);
  }

  async list(filter: FamilyFilter): Promise<RefreshFamily[]> {
    let q = this.db.selectFrom('refresh_families').selectAll().orderBy('created_at', 'desc');
    if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
    if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
    if (filter.activeAt !== undefined) q = q.where('revoked_at', 'is', null).where('absolute_expires_at', '>', filter.activeAt);
    return (await q.execute()).map(toFamily);
  }

  async revoke(familyId: string, reason: string, now: number, record: FamilyRevocation): Promise<Revocation | undefined> {
    return this.db.transaction().execute((tx) => this.revokeIn(tx, familyId, reason, now, record));
  }

  /**
   * Revokes a family and writes the record that announces it, in the caller's transaction: both or neither. A family
   * revoked without its record (by an older version that crashed between the two writes) gets its record now; a
   * family already announced gets nothing. The revocation lock comes first, before the family's row lock.
   */
  private async revokeIn(
    tx: Kysely<Database>,
    familyId: string,
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<Revocation | undefined> {
    await this.log.lock(tx);
    return (await this.log.revokeFamilies(tx, { id: familyId }, reason, now, record))[0];
  }

  async revokeAllOf(
    owner: { userId: string } | { clientId: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<CutOff> {
    const whose =
      'userId' in owner ? { kind: 'subject' as const, id: owner.userId } : { kind: 'client' as const, id: owner.clientId };
    return this.db.transaction().execute(async (tx) => {
      await this.log.lock(tx);
      // The cut-off record is its first write: on SQLite the transaction's first statement is a write, so it takes
      // the write lock at once (one that read first could not upgrade after another connection's write).
      return this.log.cutOff(tx, whose, reason, now, record);
    });
  }
}

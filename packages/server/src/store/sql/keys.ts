import type { Kysely } from 'kysely';

import { StoreStateError } from '../errors.js';
import type { KeyPatch, KeyRepository, KeyRetirement, KeyState, SigningKeyRecord } from '../keys.js';
import type { Database } from '../schema.js';
import { object, RowReader } from './row.js';

const STATES: readonly KeyState[] = ['next', 'active', 'retired', 'removed'];

function toKey(row: object): SigningKeyRecord {
  const r = new RowReader('signing_keys', row);
  return {
    kid: r.text('kid'),
    alg: r.text('alg'),
    state: r.oneOf('state', STATES),
    encryptedPrivateKey: r.text('encrypted_private_key'),
    publicJwk: r.jsonOrNull('public_jwk', 'a JWK object', object),
    createdAt: r.int('created_at'),
    activatesAt: r.int('activates_at'),
    retiredAt: r.intOrNull('retired_at'),
    removeAfter: r.intOrNull('remove_after'),
  };
}

export class SqlKeyRepository implements KeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<SigningKeyRecord[]> {
    return (await this.db.selectFrom('signing_keys').selectAll().orderBy('activates_at').execute()).map(toKey);
  }

  async insert(k: SigningKeyRecord): Promise<void> {
    await insertKey(this.db, k);
  }

  async update(kid: string, p: KeyPatch): Promise<void> {
    const set: Partial<Database['signing_keys']> = {};
    if (p.state !== undefined) set.state = p.state;
    if (p.activatesAt !== undefined) set.activates_at = p.activatesAt;
    if (p.retiredAt !== undefined) set.retired_at = p.retiredAt;
    if (p.removeAfter !== undefined) set.remove_after = p.removeAfter;
    await this.db.updateTable('signing_keys').set(set).where('kid', '=', kid).execute();
  }

  async promote(retire: KeyRetirement, activate: { kid: string; activatesAt: number }): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await retireActive(tx, retire);
      const r = await tx
        .updateTable('signing_keys')
        .set({ state: 'active', activates_at: activate.activatesAt })
        .where('kid', '=', activate.kid)
        .where('state', '=', 'next')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new StoreStateError('signing key', activate.kid, 'next');
    });
  }

  async replaceActive(retire: KeyRetirement, active: SigningKeyRecord): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await retireActive(tx, retire);
      await insertKey(tx, active);
    });
  }

  async replaceNext(removeKid: string | undefined, next: SigningKeyRecord): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (removeKid !== undefined) {
        const r = await tx
          .updateTable('signing_keys')
          .set({ state: 'removed' })
          .where('kid', '=', removeKid)
          .where('state', '=', 'next')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new StoreStateError('signing key', removeKid, 'next');
      }
      await insertKey(tx, next);
    });
  }
}

/** Retires the active key `kid`, in the caller's transaction; StoreStateError (the transaction rolls back) if it is not active. */
async function retireActive(tx: Kysely<Database>, retire: KeyRetirement): Promise<void> {
  const r = await tx
    .updateTable('signing_keys')
    .set({ state: 'retired', retired_at: retire.retiredAt, remove_after: retire.removeAfter })
    .where('kid', '=', retire.kid)
    .where('state', '=', 'active')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new StoreStateError('signing key', retire.kid, 'active');
}

async function insertKey(db: Kysely<Database>, k: SigningKeyRecord): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: k.kid,
      alg: k.alg,
      state: k.state,
      encrypted_private_key: k.encryptedPrivateKey,
      public_jwk: k.publicJwk ? JSON.stringify(k.publicJwk) : null,
      created_at: k.createdAt,
      activates_at: k.activatesAt,
      retired_at: k.retiredAt,
      remove_after: k.removeAfter,
    })
    .execute();
}

import type { Kysely } from 'kysely';

import type { CutOff, FamilyRevocation } from '../refresh-families.js';
import type { Database } from '../schema.js';
import { StoreConflictError } from '../errors.js';
import type { User, UserPatch, UserProfilePatch, UserRepository } from '../users.js';
import type { RevocationLog } from './revocation-log.js';
import { Prepared } from './prepared.js';
import { RowReader } from './row.js';
import { isUniqueViolation } from './unique-violation.js';

const BY_ID = new Prepared<'id'>((db, v) => db.selectFrom('users').selectAll().where('id', '=', v('id')));
const BY_USERNAME = new Prepared<'username'>((db, v) => db.selectFrom('users').selectAll().where('username', '=', v('username')));

export function toUser(row: object): User {
  const r = new RowReader('users', row);
  const user: User = {
    id: r.text('id'),
    username: r.text('username'),
    passwordHash: r.text('password_hash'),
    disabled: r.flag('disabled'),
    roles: r.strings('roles'),
    createdAt: r.int('created_at'),
    updatedAt: r.int('updated_at'),
  };
  // Absent unless set, so that a user stored without them reads back as it was written.
  const name = r.textOrNull('name');
  const givenName = r.textOrNull('given_name');
  const familyName = r.textOrNull('family_name');
  const email = r.textOrNull('email');
  if (name !== null) user.name = name;
  if (givenName !== null) user.givenName = givenName;
  if (familyName !== null) user.familyName = familyName;
  if (email !== null) user.email = email;
  if (r.flag('email_verified')) user.emailVerified = true;
  return user;
}

/** The profile columns a patch sets (undefined: left as they are; null: cleared). */
function profileColumns(p: UserProfilePatch): Partial<Database['users']> {
  const set: Partial<Database['users']> = {};
  if (p.name !== undefined) set.name = p.name;
  if (p.givenName !== undefined) set.given_name = p.givenName;
  if (p.familyName !== undefined) set.family_name = p.familyName;
  if (p.email !== undefined) set.email = p.email;
  if (p.emailVerified !== undefined) set.email_verified = p.emailVerified ? 1 : 0;
  return set;
}

export class SqlUserRepository implements UserRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: RevocationLog,
  ) {}

  async create(u: User): Promise<void> {
    try {
      await this.db
        .insertInto('users')
        .values({
          id: u.id,
          username: u.username,
          password_hash: u.passwordHash,
          disabled: u.disabled ? 1 : 0,
          roles: JSON.stringify(u.roles),
          name: u.name ?? null,
          given_name: u.givenName ?? null,
          family_name: u.familyName ?? null,
          email: u.email ?? null,
          email_verified: u.emailVerified ? 1 : 0,
          created_at: u.createdAt,
          updated_at: u.updatedAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError('user');
      throw err;
    }
  }

  async getById(id: string): Promise<User | undefined> {
    const r = (await BY_ID.run(this.db, { id })).rows[0];
    return r && toUser(r);
  }

  async getByUsername(username: string): Promise<User | undefined> {
    const r = (await BY_USERNAME.run(this.db, { username })).rows[0];
    return r && toUser(r);
  }

  async list(limit: number, after?: string): Promise<User[]> {
    let q = this.db.selectFrom('users').selectAll().orderBy('username').limit(limit);
    if (after !== undefined) q = q.where('username', '>', after);
    return (await q.execute()).map(toUser);
  }

  async update(id: string, patch: UserPatch, now: number): Promise<boolean> {
    return this.updateIn(this.db, id, patch, now);
  }

  private async updateIn(db: Kysely<Database>, id: string, patch: UserPatch, now: number): Promise<boolean> {
    const r = await db
      .updateTable('users')
      .set({
        ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
        ...(patch.disabled !== undefined ? { disabled: patch.disabled ? 1 : 0 } : {}),
        ...(patch.roles !== undefined ? { roles: JSON.stringify(patch.roles) } : {}),
        ...profileColumns(patch),
        updated_at: now,
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute((tx) => this.deleteIn(tx, id));
  }

  /** Deletes the row and the consents that name it (a later user of the same id inherits none). */
  private async deleteIn(tx: Kysely<Database>, id: string): Promise<boolean> {
    await tx.deleteFrom('consents').where('user_id', '=', id).execute();
    const r = await tx.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async replaceRoles(id: string, expected: readonly string[], roles: readonly string[], now: number): Promise<boolean> {
    // The roles column holds exactly what update wrote (JSON.stringify of the array): equal text, equal roles.
    const r = await this.db
      .updateTable('users')
      .set({ roles: JSON.stringify(roles), updated_at: now })
      .where('id', '=', id)
      .where('roles', '=', JSON.stringify(expected))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  updateAndCutOff(id: string, patch: UserPatch, now: number, record: FamilyRevocation): Promise<CutOff | undefined> {
    return this.log.withCutOff(this.db, { kind: 'subject', id }, now, record, (tx) => this.updateIn(tx, id, patch, now));
  }

  deleteAndCutOff(id: string, now: number, record: FamilyRevocation): Promise<CutOff | undefined> {
    return this.log.withCutOff(this.db, { kind: 'subject', id }, now, record, (tx) => this.deleteIn(tx, id));
  }
}

import { CompiledQuery, Migrator, sql, type Insertable, type Kysely, type MigrationProvider, type Selectable } from 'kysely';

import { AuditBatch } from './audit-batch.js';
import { StoreConflictError, StoreMigrationError } from './errors.js';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';
import {
  type AuditEvent,
  type AuditFilter,
  type Client,
  type FamilyRevocation,
  type NewAuditEvent,
  type RefreshFamily,
  type RefreshToken,
  type Revocation,
  type Role,
  type RotateResult,
  type SigningKeyRecord,
  type Store,
  type User,
} from './types.js';

const json = (v: unknown) => JSON.stringify(v);
const parse = <T>(s: string | null): T => (s === null ? null : JSON.parse(s)) as T;
const num = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v));
const bool = (v: number | boolean) => (typeof v === 'boolean' ? v : v !== 0);

function toUser(r: Selectable<Database['users']>): User {
  return {
    id: r.id,
    username: r.username,
    passwordHash: r.password_hash,
    disabled: bool(r.disabled),
    roles: parse<string[]>(r.roles),
    createdAt: num(r.created_at)!,
    updatedAt: num(r.updated_at)!,
  };
}

function toClient(r: Selectable<Database['clients']>): Client {
  return {
    id: r.id,
    name: r.name,
    authMethod: r.auth_method as Client['authMethod'],
    secrets: parse(r.secrets),
    jwks: parse(r.jwks),
    grantTypes: parse(r.grant_types),
    scopes: parse(r.scopes),
    audiences: parse(r.audiences),
    firstParty: bool(r.first_party),
    // Absent unless granted, so that a client stored without it reads back as it was written.
    ...(bool(r.may_impersonate) ? { mayImpersonate: true } : {}),
    accessTokenTtl: num(r.access_token_ttl),
    refreshTokenTtl: num(r.refresh_token_ttl),
    disabled: bool(r.disabled),
    createdAt: num(r.created_at)!,
    updatedAt: num(r.updated_at)!,
  };
}

function toFamily(r: Selectable<Database['refresh_families']>): RefreshFamily {
  return {
    id: r.id,
    userId: r.user_id,
    clientId: r.client_id,
    scope: r.scope,
    audience: parse(r.audience),
    createdAt: num(r.created_at)!,
    absoluteExpiresAt: num(r.absolute_expires_at)!,
    lastUsedAt: num(r.last_used_at)!,
    revokedAt: num(r.revoked_at),
    revokedReason: r.revoked_reason,
  };
}

function toToken(r: Selectable<Database['refresh_tokens']>): RefreshToken {
  return {
    digest: r.digest,
    familyId: r.family_id,
    createdAt: num(r.created_at)!,
    expiresAt: num(r.expires_at)!,
    usedAt: num(r.used_at),
  };
}

function toRevocation(r: Selectable<Database['revocations']>): Revocation {
  return {
    seq: num(r.seq)!,
    kind: r.kind as Revocation['kind'],
    value: r.value,
    cutoff: num(r.cutoff),
    expiresAt: num(r.expires_at)!,
    createdAt: num(r.created_at)!,
    reason: r.reason,
  };
}

function toKey(r: Selectable<Database['signing_keys']>): SigningKeyRecord {
  return {
    kid: r.kid,
    alg: r.alg,
    state: r.state as SigningKeyRecord['state'],
    encryptedPrivateKey: r.encrypted_private_key,
    publicJwk: parse(r.public_jwk),
    createdAt: num(r.created_at)!,
    activatesAt: num(r.activates_at)!,
    retiredAt: num(r.retired_at),
    removeAfter: num(r.remove_after),
  };
}

/** PostgreSQL advisory lock classes (the second key is the hash of the schema, so schemas do not contend). */
const MIGRATION_LOCK = 0x746d6967; // 'tmig'
const REVOCATION_LOCK = 0x74726576; // 'trev'

/** The one place the drivers' own error codes are read: callers meet StoreConflictError instead. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null | undefined;
  return e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === '23505';
}

export interface SqlStoreOptions {
  /** PostgreSQL: the schema of the tables, as the connections' search_path names it (default: their current schema). */
  schema?: string;
}

/**
 * The Store on any Kysely database: SQLite (the embedded default) and PostgreSQL share this code. Writes that
 * must happen once (refresh rotation, assertion jtis, leases) are single conditional statements, not a read then a
 * write, so they hold across connections and instances.
 */
export class SqlStore implements Store {
  /** Audit events are written in groups: one INSERT per turn of the event loop (see audit-batch.ts). */
  private readonly auditBatch = new AuditBatch<Insertable<Database['audit_events']>>(async (rows) =>
    (await this.db.insertInto('audit_events').values(rows).returning('id').execute()).map((r) => num(r.id)!),
  );

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
    private readonly options: SqlStoreOptions = {},
  ) {}

  /**
   * Brings the schema up to date. On PostgreSQL several instances may start at once on one empty database:
   * they take turns under an advisory lock (Kysely's own lock comes only after it has created its bookkeeping
   * tables, which could race), and the bookkeeping tables live in the store's schema.
   */
  async migrate(): Promise<void> {
    if (this.dialect === 'sqlite') return this.migrateOn(this.db, undefined);
    await this.db.connection().execute(async (conn) => {
      const schema =
        this.options.schema ??
        (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(conn)).rows[0]?.schema;
      if (!schema)
        throw new StoreMigrationError(undefined, 'database migration: no schema (the search_path names none that exists)');
      await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK)}, hashtext(${schema}))`.execute(conn);
      try {
        // Looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
        const exists = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(conn);
        if (exists.rows.length === 0) await sql`create schema ${sql.id(schema)}`.execute(conn);
        await this.migrateOn(conn, schema);
      } finally {
        await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK)}, hashtext(${schema}))`.execute(conn);
      }
    });
  }

  private async migrateOn(db: Kysely<Database>, migrationTableSchema: string | undefined): Promise<void> {
    const all = migrations(this.dialect);
    const provider: MigrationProvider = { getMigrations: async () => all };
    const { error, results } = await new Migrator({
      db,
      provider,
      ...(migrationTableSchema ? { migrationTableSchema } : {}),
    }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new StoreMigrationError(failed, `database migration ${failed ?? 'unknown'} failed`, { cause: error });
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.auditBatch.drain();
    await this.db.destroy();
  }

  // Users

  async createUser(u: User): Promise<void> {
    try {
      await this.db
        .insertInto('users')
        .values({
          id: u.id,
          username: u.username,
          password_hash: u.passwordHash,
          disabled: u.disabled ? 1 : 0,
          roles: json(u.roles),
          created_at: u.createdAt,
          updated_at: u.updatedAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError('user');
      throw err;
    }
  }

  async getUserById(id: string): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUser(r);
  }

  async getUserByUsername(username: string): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return r && toUser(r);
  }

  async listUsers(limit: number, after?: string): Promise<User[]> {
    let q = this.db.selectFrom('users').selectAll().orderBy('username').limit(limit);
    if (after !== undefined) q = q.where('username', '>', after);
    return (await q.execute()).map(toUser);
  }

  async updateUser(id: string, patch: Partial<Pick<User, 'passwordHash' | 'disabled' | 'roles'>>, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({
        ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
        ...(patch.disabled !== undefined ? { disabled: patch.disabled ? 1 : 0 } : {}),
        ...(patch.roles !== undefined ? { roles: json(patch.roles) } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  // Roles

  async putRole(role: Role): Promise<void> {
    await this.db
      .insertInto('roles')
      .values({ name: role.name, permissions: json(role.permissions) })
      .onConflict((oc) => oc.column('name').doUpdateSet({ permissions: json(role.permissions) }))
      .execute();
  }

  async deleteUser(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteRole(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('roles').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listRoles(): Promise<Role[]> {
    return (await this.db.selectFrom('roles').selectAll().orderBy('name').execute()).map((r) => ({
      name: r.name,
      permissions: parse(r.permissions),
    }));
  }

  async permissionsOf(roleNames: readonly string[]): Promise<string[]> {
    if (roleNames.length === 0) return [];
    const rows = await this.db
      .selectFrom('roles')
      .select('permissions')
      .where('name', 'in', [...roleNames])
      .execute();
    return [...new Set(rows.flatMap((r) => parse<string[]>(r.permissions)))];
  }

  // Clients

  async createClient(c: Client): Promise<void> {
    try {
      await this.db
        .insertInto('clients')
        .values({
          id: c.id,
          name: c.name,
          auth_method: c.authMethod,
          secrets: json(c.secrets),
          jwks: c.jwks ? json(c.jwks) : null,
          grant_types: json(c.grantTypes),
          scopes: json(c.scopes),
          audiences: json(c.audiences),
          first_party: c.firstParty ? 1 : 0,
          may_impersonate: c.mayImpersonate ? 1 : 0,
          access_token_ttl: c.accessTokenTtl,
          refresh_token_ttl: c.refreshTokenTtl,
          disabled: c.disabled ? 1 : 0,
          created_at: c.createdAt,
          updated_at: c.updatedAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError('client');
      throw err;
    }
  }

  /** Every token request reads its client: SQL compiled once, not built by the query builder each time. */
  private readonly clientById = (id: string) =>
    CompiledQuery.raw(
      this.dialect === 'postgres' ? 'select * from "clients" where "id" = $1' : 'select * from "clients" where "id" = ?',
      [id],
    );

  async getClient(id: string): Promise<Client | undefined> {
    const r = (await this.db.executeQuery<Selectable<Database['clients']>>(this.clientById(id))).rows[0];
    return r && toClient(r);
  }

  async listClients(): Promise<Client[]> {
    return (await this.db.selectFrom('clients').selectAll().orderBy('id').execute()).map(toClient);
  }

  async updateClient(id: string, p: Partial<Omit<Client, 'id' | 'createdAt'>>, now: number): Promise<boolean> {
    const set: Partial<Database['clients']> = { updated_at: now };
    if (p.name !== undefined) set.name = p.name;
    if (p.authMethod !== undefined) set.auth_method = p.authMethod;
    if (p.secrets !== undefined) set.secrets = json(p.secrets);
    if (p.jwks !== undefined) set.jwks = p.jwks ? json(p.jwks) : null;
    if (p.grantTypes !== undefined) set.grant_types = json(p.grantTypes);
    if (p.scopes !== undefined) set.scopes = json(p.scopes);
    if (p.audiences !== undefined) set.audiences = json(p.audiences);
    if (p.firstParty !== undefined) set.first_party = p.firstParty ? 1 : 0;
    if (p.mayImpersonate !== undefined) set.may_impersonate = p.mayImpersonate ? 1 : 0;
    if (p.accessTokenTtl !== undefined) set.access_token_ttl = p.accessTokenTtl;
    if (p.refreshTokenTtl !== undefined) set.refresh_token_ttl = p.refreshTokenTtl;
    if (p.disabled !== undefined) set.disabled = p.disabled ? 1 : 0;
    const r = await this.db.updateTable('clients').set(set).where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteClient(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // Refresh tokens

  async createRefreshFamily(f: RefreshFamily, first: RefreshToken): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('refresh_families')
        .values({
          id: f.id,
          user_id: f.userId,
          client_id: f.clientId,
          scope: f.scope,
          audience: json(f.audience),
          created_at: f.createdAt,
          absolute_expires_at: f.absoluteExpiresAt,
          last_used_at: f.lastUsedAt,
          revoked_at: f.revokedAt,
          revoked_reason: f.revokedReason,
          revocation_seq: null,
        })
        .execute();
      await tx
        .insertInto('refresh_tokens')
        .values({
          digest: first.digest,
          family_id: f.id,
          created_at: first.createdAt,
          expires_at: first.expiresAt,
          used_at: null,
        })
        .execute();
    });
  }

  async rotateRefreshToken(
    digest: string,
    next: Omit<RefreshToken, 'familyId'>,
    now: number,
    reuse: FamilyRevocation,
  ): Promise<RotateResult> {
    return this.db.transaction().execute(async (tx): Promise<RotateResult> => {
      // The single statement that decides the winner: only one caller flips used_at from null, in a live family.
      // It comes first so that on SQLite the transaction takes the write lock at once; one that read first could
      // not upgrade (SQLITE_BUSY) after another connection's write.
      const spent = await tx
        .updateTable('refresh_tokens')
        .set({ used_at: now })
        .where('digest', '=', digest)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .where(
          'family_id',
          'in',
          tx.selectFrom('refresh_families').select('id').where('revoked_at', 'is', null).where('absolute_expires_at', '>', now),
        )
        .executeTakeFirst();
      const row = await tx
        .selectFrom('refresh_tokens')
        .innerJoin('refresh_families', 'refresh_families.id', 'refresh_tokens.family_id')
        .selectAll('refresh_families')
        .select(['refresh_tokens.expires_at as token_expires_at', 'refresh_tokens.used_at as token_used_at'])
        .where('refresh_tokens.digest', '=', digest)
        .executeTakeFirst();
      if (!row) return { kind: 'invalid', reason: 'unknown' };
      const family = toFamily(row);
      if (Number(spent.numUpdatedRows) === 0) {
        // Unused, so not spent because it expired or its family is revoked; an expired token stays unspent, so
        // presenting it again is not mistaken for a reuse.
        if (row.token_used_at === null) {
          const expired = num(row.token_expires_at)! <= now || family.absoluteExpiresAt <= now;
          return { kind: 'invalid', reason: family.revokedAt === null && expired ? 'expired' : 'revoked' };
        }
        // Spent before: a reuse, even once the family is revoked (by an earlier reuse, say), so that every loser
        // of a race sees `reused`. The family is revoked and announced in this transaction, once: a replay of a
        // family already announced writes nothing.
        const revocation = await this.revokeFamilyIn(tx, family.id, 'reuse', now, reuse);
        return {
          kind: 'reused',
          family: family.revokedAt === null ? { ...family, revokedAt: now, revokedReason: 'reuse' } : family,
          ...(revocation ? { revocation } : {}),
        };
      }
      await tx
        .insertInto('refresh_tokens')
        .values({
          digest: next.digest,
          family_id: family.id,
          created_at: next.createdAt,
          expires_at: Math.min(next.expiresAt, family.absoluteExpiresAt),
          used_at: null,
        })
        .execute();
      await tx.updateTable('refresh_families').set({ last_used_at: now }).where('id', '=', family.id).execute();
      return { kind: 'rotated', family: { ...family, lastUsedAt: now } };
    });
  }

  async findRefreshToken(digest: string): Promise<{ token: RefreshToken; family: RefreshFamily } | undefined> {
    const t = await this.db.selectFrom('refresh_tokens').selectAll().where('digest', '=', digest).executeTakeFirst();
    if (!t) return undefined;
    const f = await this.db.selectFrom('refresh_families').selectAll().where('id', '=', t.family_id).executeTakeFirst();
    return f && { token: toToken(t), family: toFamily(f) };
  }

  async getRefreshFamily(id: string): Promise<RefreshFamily | undefined> {
    const f = await this.db.selectFrom('refresh_families').selectAll().where('id', '=', id).executeTakeFirst();
    return f && toFamily(f);
  }

  async revokeRefreshFamily(
    familyId: string,
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<Revocation | undefined> {
    return this.db.transaction().execute((tx) => this.revokeFamilyIn(tx, familyId, reason, now, record));
  }

  /**
   * Revokes a family and writes the record that announces it, in the caller's transaction: both or neither. A family
   * revoked without its record (by an older version that crashed between the two writes) gets its record now; a
   * family already announced gets nothing. On PostgreSQL the revocation lock comes first, before the family's row
   * lock, as in every transaction that writes a revocation, so that two of them never wait for each other.
   */
  private async revokeFamilyIn(
    tx: Kysely<Database>,
    familyId: string,
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<Revocation | undefined> {
    await this.lockRevocations(tx);
    const row = await tx
      .updateTable('refresh_families')
      .set((eb) => ({
        revoked_at: eb.fn.coalesce('revoked_at', eb.val(now)),
        revoked_reason: eb.fn.coalesce('revoked_reason', eb.val(reason)),
      }))
      .where('id', '=', familyId)
      .where('revocation_seq', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!row) return undefined;
    const r = await this.insertRevocation(tx, {
      kind: 'family',
      value: familyId,
      cutoff: null,
      expiresAt: record.expiresAt,
      createdAt: now,
      reason: record.reason,
    });
    await tx.updateTable('refresh_families').set({ revocation_seq: r.seq }).where('id', '=', familyId).execute();
    return r;
  }

  async listRefreshFamilies(filter: { userId?: string; clientId?: string; activeAt?: number }): Promise<RefreshFamily[]> {
    let q = this.db.selectFrom('refresh_families').selectAll().orderBy('created_at', 'desc');
    if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
    if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
    if (filter.activeAt !== undefined) q = q.where('revoked_at', 'is', null).where('absolute_expires_at', '>', filter.activeAt);
    return (await q.execute()).map(toFamily);
  }

  async revokeRefreshFamiliesOf(
    filter: { userId?: string; clientId?: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<{ families: string[]; revocation: Revocation }> {
    // A caller's bug, not a state a user can reach (every caller names one): a plain Error.
    if (filter.userId === undefined && filter.clientId === undefined)
      throw new Error('revokeRefreshFamiliesOf needs a user or a client');
    return this.db.transaction().execute(async (tx) => {
      await this.lockRevocations(tx);
      // The cut-off first: on SQLite the transaction's first statement is a write, so it takes the write lock at once
      // (one that read first could not upgrade after another connection's write).
      const revocation = await this.insertRevocation(tx, {
        kind: filter.userId !== undefined ? 'subject' : 'client',
        value: (filter.userId ?? filter.clientId)!,
        cutoff: now,
        expiresAt: record.expiresAt,
        createdAt: now,
        reason: record.reason,
      });
      let q = tx
        .updateTable('refresh_families')
        .set({ revoked_at: now, revoked_reason: reason, revocation_seq: revocation.seq })
        .where('revoked_at', 'is', null);
      if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
      if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
      const families = (await q.returning('id').execute()).map((r) => r.id);
      return { families, revocation };
    });
  }

  // Revocations

  /**
   * Sequence numbers are committed in sequence order, so that a reader resuming after seq N never misses a lower
   * seq committed later. SQLite has one writer at a time; on PostgreSQL a sequence hands out numbers before the
   * commit, so concurrent inserts (from any instance) take turns under a transaction-scoped advisory lock.
   */
  async addRevocation(r: Omit<Revocation, 'seq'>): Promise<Revocation> {
    if (this.dialect === 'sqlite') return this.insertRevocation(this.db, r);
    return this.db.transaction().execute(async (tx) => {
      await this.lockRevocations(tx);
      return this.insertRevocation(tx, r);
    });
  }

  /** PostgreSQL: the transaction-scoped lock under which revocations are numbered and committed in order. */
  private async lockRevocations(tx: Kysely<Database>): Promise<void> {
    if (this.dialect === 'postgres')
      await sql`select pg_advisory_xact_lock(${sql.lit(REVOCATION_LOCK)}, hashtext(current_schema()))`.execute(tx);
  }

  private async insertRevocation(db: Kysely<Database>, r: Omit<Revocation, 'seq'>): Promise<Revocation> {
    const row = await db
      .insertInto('revocations')
      .values({
        kind: r.kind,
        value: r.value,
        cutoff: r.cutoff,
        expires_at: r.expiresAt,
        created_at: r.createdAt,
        reason: r.reason,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRevocation(row);
  }

  async listRevocations(now: number, afterSeq = 0): Promise<Revocation[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .selectAll()
      .where('expires_at', '>', now)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .execute();
    return rows.map(toRevocation);
  }

  async pruneRevocations(now: number): Promise<number> {
    const r = await this.db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // Keys

  async listKeys(): Promise<SigningKeyRecord[]> {
    return (await this.db.selectFrom('signing_keys').selectAll().orderBy('activates_at').execute()).map(toKey);
  }

  async insertKey(k: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        kid: k.kid,
        alg: k.alg,
        state: k.state,
        encrypted_private_key: k.encryptedPrivateKey,
        public_jwk: k.publicJwk ? json(k.publicJwk) : null,
        created_at: k.createdAt,
        activates_at: k.activatesAt,
        retired_at: k.retiredAt,
        remove_after: k.removeAfter,
      })
      .execute();
  }

  async updateKey(
    kid: string,
    p: Partial<Pick<SigningKeyRecord, 'state' | 'activatesAt' | 'retiredAt' | 'removeAfter'>>,
  ): Promise<void> {
    const set: Partial<Database['signing_keys']> = {};
    if (p.state !== undefined) set.state = p.state;
    if (p.activatesAt !== undefined) set.activates_at = p.activatesAt;
    if (p.retiredAt !== undefined) set.retired_at = p.retiredAt;
    if (p.removeAfter !== undefined) set.remove_after = p.removeAfter;
    await this.db.updateTable('signing_keys').set(set).where('kid', '=', kid).execute();
  }

  async promoteKey(
    retire: { kid: string; retiredAt: number; removeAfter: number },
    activate: { kid: string; activatesAt: number },
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('signing_keys')
        .set({ state: 'retired', retired_at: retire.retiredAt, remove_after: retire.removeAfter })
        .where('kid', '=', retire.kid)
        .execute();
      await tx
        .updateTable('signing_keys')
        .set({ state: 'active', activates_at: activate.activatesAt })
        .where('kid', '=', activate.kid)
        .execute();
    });
  }

  // Audit

  async appendAudit(e: NewAuditEvent): Promise<number> {
    const { time, type, outcome, actor, subject, clientId, ip, data } = e;
    return this.auditBatch.append({ time, type, outcome, actor, subject, client_id: clientId, ip, data: json(data) });
  }

  async queryAudit(f: AuditFilter): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(f.limit);
    // `prefix.*` compares the leading characters, not LIKE: LIKE folds case in SQLite (not in PostgreSQL) and reads
    // `_` and `%` in the prefix as wildcards.
    if (f.type !== undefined) {
      const prefix = f.type.endsWith('.*') ? f.type.slice(0, -1) : undefined;
      q =
        prefix === undefined
          ? q.where('type', '=', f.type)
          : q.where(sql<string>`substr(${sql.ref('type')}, 1, ${sql.lit(prefix.length)})`, '=', prefix);
    }
    if (f.subject !== undefined) q = q.where('subject', '=', f.subject);
    if (f.from !== undefined) q = q.where('time', '>=', f.from);
    if (f.to !== undefined) q = q.where('time', '<', f.to);
    if (f.before !== undefined) q = q.where('id', '<', f.before);
    return (await q.execute()).map((r) => ({
      id: num(r.id)!,
      time: num(r.time)!,
      type: r.type,
      outcome: r.outcome as AuditEvent['outcome'],
      actor: r.actor,
      subject: r.subject,
      clientId: r.client_id,
      ip: r.ip,
      data: parse(r.data),
    }));
  }

  async pruneAudit(before: number, limit: number): Promise<number> {
    // By id, a batch at a time: one short statement, not a delete of millions of rows holding locks for minutes.
    const r = await this.db
      .deleteFrom('audit_events')
      .where('id', 'in', this.db.selectFrom('audit_events').select('id').where('time', '<', before).orderBy('id').limit(limit))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // Leases

  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
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

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }

  // Client assertions

  async useAssertionJti(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    await this.db.deleteFrom('assertion_jtis').where('expires_at', '<=', now).execute();
    const r = await this.db
      .insertInto('assertion_jtis')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
}

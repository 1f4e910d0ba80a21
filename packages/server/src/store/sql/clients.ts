import type { Kysely } from 'kysely';

import {
  AUTH_METHODS,
  GRANT_TYPES,
  ID_TOKEN_ALGS,
  TLS_SUBJECT_KINDS,
  type Client,
  type ClientPatch,
  type ClientRepository,
  type ClientSecret,
  type GrantType,
  type IdTokenAlg,
  type TlsClientAuthSubject,
} from '../clients.js';
import type { CutOff, FamilyRevocation } from '../refresh-families.js';
import type { Database } from '../schema.js';
import { StoreConflictError } from '../errors.js';
import type { RevocationLog } from './revocation-log.js';
import { Prepared } from './prepared.js';
import { object, RowReader, strings } from './row.js';
import { isUniqueViolation } from './unique-violation.js';

const isTime = (v: unknown): v is number => Number.isSafeInteger(v);

function secrets(v: unknown): ClientSecret[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const ok = v.every((s) => {
    const o = object(s);
    return (
      o !== undefined && typeof o.digest === 'string' && isTime(o.createdAt) && (o.expiresAt === null || isTime(o.expiresAt))
    );
  });
  return ok ? (v as ClientSecret[]) : undefined;
}

function jwks(v: unknown): Client['jwks'] | undefined {
  const keys = object(v)?.keys;
  return Array.isArray(keys) && keys.every((k) => object(k) !== undefined) ? (v as Client['jwks']) : undefined;
}

function grantTypes(v: unknown): GrantType[] | undefined {
  return strings(v)?.every((g) => GRANT_TYPES.includes(g as GrantType)) ? (v as GrantType[]) : undefined;
}

/** Every token request reads its client. */
const BY_ID = new Prepared<'id'>((db, v) => db.selectFrom('clients').selectAll().where('id', '=', v('id')));

function toClient(row: object): Client {
  const r = new RowReader('clients', row);
  return {
    id: r.text('id'),
    name: r.text('name'),
    authMethod: r.oneOf('auth_method', AUTH_METHODS),
    secrets: r.json('secrets', 'a JSON array of client secrets', secrets),
    jwks: r.jsonOrNull('jwks', 'a JWKS', jwks),
    grantTypes: r.json('grant_types', 'a JSON array of grant types', grantTypes),
    scopes: r.strings('scopes'),
    audiences: r.strings('audiences'),
    firstParty: r.flag('first_party'),
    redirectUris: r.strings('redirect_uris'),
    postLogoutRedirectUris: r.strings('post_logout_redirect_uris'),
    requirePar: r.flag('require_par'),
    // Absent unless granted, so that a client stored without it reads back as it was written.
    ...(r.flag('may_impersonate') ? { mayImpersonate: true } : {}),
    ...(r.flag('dpop_bound') ? { dpopBoundAccessTokens: true } : {}),
    ...(r.flag('mtls_bound') ? { tlsClientCertificateBoundAccessTokens: true } : {}),
    ...tlsSubject(r),
    ...idTokenAlg(r),
    accessTokenTtl: r.intOrNull('access_token_ttl'),
    refreshTokenTtl: r.intOrNull('refresh_token_ttl'),
    disabled: r.flag('disabled'),
    createdAt: r.int('created_at'),
    updatedAt: r.int('updated_at'),
  };
}

/** The client's ID token algorithm: absent when the column is null (the server's algorithm), so a client reads back as written. */
function idTokenAlg(r: RowReader): { idTokenSignedResponseAlg?: IdTokenAlg } {
  return r.textOrNull('id_token_alg') === null ? {} : { idTokenSignedResponseAlg: r.oneOf('id_token_alg', ID_TOKEN_ALGS) };
}

/** A tls_client_auth client's subject: absent when the columns are null; a kind without a value (or the reverse) is a bad row. */
function tlsSubject(r: RowReader): { tlsClientAuthSubject?: TlsClientAuthSubject } {
  if (r.textOrNull('tls_subject_kind') === null && r.textOrNull('tls_subject') === null) return {};
  return { tlsClientAuthSubject: { kind: r.oneOf('tls_subject_kind', TLS_SUBJECT_KINDS), value: r.text('tls_subject') } };
}

const flag = (b: boolean | undefined) => (b ? 1 : 0);
const jwksText = (j: Client['jwks']) => (j ? JSON.stringify(j) : null);

export class SqlClientRepository implements ClientRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: RevocationLog,
  ) {}

  async create(c: Client): Promise<void> {
    try {
      await this.db
        .insertInto('clients')
        .values({
          id: c.id,
          name: c.name,
          auth_method: c.authMethod,
          secrets: JSON.stringify(c.secrets),
          jwks: jwksText(c.jwks),
          grant_types: JSON.stringify(c.grantTypes),
          scopes: JSON.stringify(c.scopes),
          audiences: JSON.stringify(c.audiences),
          first_party: flag(c.firstParty),
          may_impersonate: flag(c.mayImpersonate),
          redirect_uris: JSON.stringify(c.redirectUris),
          post_logout_redirect_uris: JSON.stringify(c.postLogoutRedirectUris),
          require_par: flag(c.requirePar),
          dpop_bound: flag(c.dpopBoundAccessTokens),
          mtls_bound: flag(c.tlsClientCertificateBoundAccessTokens),
          tls_subject_kind: c.tlsClientAuthSubject?.kind ?? null,
          tls_subject: c.tlsClientAuthSubject?.value ?? null,
          id_token_alg: c.idTokenSignedResponseAlg ?? null,
          access_token_ttl: c.accessTokenTtl,
          refresh_token_ttl: c.refreshTokenTtl,
          disabled: flag(c.disabled),
          created_at: c.createdAt,
          updated_at: c.updatedAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError('client');
      throw err;
    }
  }

  async get(id: string): Promise<Client | undefined> {
    const r = (await BY_ID.run(this.db, { id })).rows[0];
    return r && toClient(r);
  }

  async list(): Promise<Client[]> {
    return (await this.db.selectFrom('clients').selectAll().orderBy('id').execute()).map(toClient);
  }

  async update(id: string, p: ClientPatch, now: number): Promise<boolean> {
    return this.updateIn(this.db, id, p, now);
  }

  private async updateIn(db: Kysely<Database>, id: string, p: ClientPatch, now: number): Promise<boolean> {
    const set: Partial<Database['clients']> = { updated_at: now };
    if (p.name !== undefined) set.name = p.name;
    if (p.authMethod !== undefined) set.auth_method = p.authMethod;
    if (p.secrets !== undefined) set.secrets = JSON.stringify(p.secrets);
    if (p.jwks !== undefined) set.jwks = jwksText(p.jwks);
    if (p.grantTypes !== undefined) set.grant_types = JSON.stringify(p.grantTypes);
    if (p.scopes !== undefined) set.scopes = JSON.stringify(p.scopes);
    if (p.audiences !== undefined) set.audiences = JSON.stringify(p.audiences);
    if (p.firstParty !== undefined) set.first_party = flag(p.firstParty);
    if (p.mayImpersonate !== undefined) set.may_impersonate = flag(p.mayImpersonate);
    if (p.redirectUris !== undefined) set.redirect_uris = JSON.stringify(p.redirectUris);
    if (p.postLogoutRedirectUris !== undefined) set.post_logout_redirect_uris = JSON.stringify(p.postLogoutRedirectUris);
    if (p.requirePar !== undefined) set.require_par = flag(p.requirePar);
    if (p.dpopBoundAccessTokens !== undefined) set.dpop_bound = flag(p.dpopBoundAccessTokens);
    if (p.tlsClientCertificateBoundAccessTokens !== undefined) set.mtls_bound = flag(p.tlsClientCertificateBoundAccessTokens);
    if (p.tlsClientAuthSubject !== undefined) {
      set.tls_subject_kind = p.tlsClientAuthSubject?.kind ?? null;
      set.tls_subject = p.tlsClientAuthSubject?.value ?? null;
    }
    if (p.idTokenSignedResponseAlg !== undefined) set.id_token_alg = p.idTokenSignedResponseAlg;
    if (p.accessTokenTtl !== undefined) set.access_token_ttl = p.accessTokenTtl;
    if (p.refreshTokenTtl !== undefined) set.refresh_token_ttl = p.refreshTokenTtl;
    if (p.disabled !== undefined) set.disabled = flag(p.disabled);
    const r = await db.updateTable('clients').set(set).where('id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute((tx) => this.deleteIn(tx, id));
  }

  /** Deletes the row and the consents that name it (a later client of the same id inherits none). */
  private async deleteIn(tx: Kysely<Database>, id: string): Promise<boolean> {
    await tx.deleteFrom('consents').where('client_id', '=', id).execute();
    const r = await tx.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async replaceSecrets(
    id: string,
    expected: readonly ClientSecret[],
    secrets: readonly ClientSecret[],
    now: number,
  ): Promise<boolean> {
    // The secrets column holds exactly what create or update wrote (JSON.stringify of the array, each secret's
    // members in one order): equal text, equal secrets.
    const r = await this.db
      .updateTable('clients')
      .set({ secrets: JSON.stringify(secrets), updated_at: now })
      .where('id', '=', id)
      .where('secrets', '=', JSON.stringify(expected))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  updateAndCutOff(id: string, patch: ClientPatch, now: number, record: FamilyRevocation): Promise<CutOff | undefined> {
    return this.log.withCutOff(this.db, { kind: 'client', id }, now, record, (tx) => this.updateIn(tx, id, patch, now));
  }

  deleteAndCutOff(id: string, now: number, record: FamilyRevocation): Promise<CutOff | undefined> {
    return this.log.withCutOff(this.db, { kind: 'client', id }, now, record, (tx) => this.deleteIn(tx, id));
  }
}

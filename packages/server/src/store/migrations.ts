import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Schema migrations, run at start. Append new migrations; never edit one that has shipped. Written with
 * Kysely's schema builder so that SQLite and PostgreSQL share them (`serial` picks the auto-increment type).
 */
export function migrations(dialect: 'sqlite' | 'postgres'): Record<string, Migration> {
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const time = 'bigint';
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('username', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('roles', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('roles')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('permissions', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('clients')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('auth_method', 'text', (c) => c.notNull())
          .addColumn('secrets', 'text', (c) => c.notNull())
          .addColumn('jwks', 'text')
          .addColumn('grant_types', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('audiences', 'text', (c) => c.notNull())
          .addColumn('first_party', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('access_token_ttl', 'integer')
          .addColumn('refresh_token_ttl', 'integer')
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('refresh_families')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('audience', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('absolute_expires_at', time, (c) => c.notNull())
          .addColumn('last_used_at', time, (c) => c.notNull())
          .addColumn('revoked_at', time)
          .addColumn('revoked_reason', 'text')
          .execute();
        await db.schema.createIndex('refresh_families_user').on('refresh_families').column('user_id').execute();
        await db.schema.createIndex('refresh_families_client').on('refresh_families').column('client_id').execute();
        await db.schema
          .createTable('refresh_tokens')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('family_id', 'text', (c) => c.notNull().references('refresh_families.id').onDelete('cascade'))
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addColumn('used_at', time)
          .execute();
        await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();
        await db.schema
          .createTable('revocations')
          .addColumn('seq', serial as 'integer', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('cutoff', time)
          .addColumn('expires_at', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('revocations_expiry').on('revocations').column('expires_at').execute();
        await db.schema
          .createTable('signing_keys')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('alg', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('encrypted_private_key', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('activates_at', time, (c) => c.notNull())
          .addColumn('retired_at', time)
          .addColumn('remove_after', time)
          .execute();
        await db.schema
          .createTable('audit_events')
          .addColumn('id', serial as 'integer', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('time', time, (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('actor', 'text')
          .addColumn('subject', 'text')
          .addColumn('client_id', 'text')
          .addColumn('ip', 'text')
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_events_type_time').on('audit_events').columns(['type', 'time']).execute();
        await db.schema.createIndex('audit_events_subject').on('audit_events').column('subject').execute();
        await db.schema
          .createTable('assertion_jtis')
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('jti', 'text', (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('assertion_jtis_pk', ['client_id', 'jti'])
          .execute();
        void sql;
      },
    },
    '0002_leases': {
      // Who runs a once-per-deployment job (the key schedule) until when: see LeaseRepository.acquire (leases.ts).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .execute();
      },
    },
    '0003_client_impersonation': {
      // Token exchange: whether a client may act as the user without an `act` claim naming it.
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('clients')
          .addColumn('may_impersonate', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0004_revocation_records': {
      // A family's revocation names the record that announced it, so that a retry of a revoke finds a family
      // revoked without its record (written by a crash of an older version between the two) and completes it,
      // and a family is announced once however often a spent token of it is replayed. The time index lets the
      // audit retention delete old events in batches.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('refresh_families').addColumn('revocation_seq', time).execute();
        await db.schema.createIndex('audit_events_time').on('audit_events').column('time').execute();
      },
    },
    '0005_client_sign_in': {
      // The authorization code flow: a client's redirect URIs, post-logout redirect URIs (JSON arrays) and
      // whether it must push its authorization requests (RFC 9126).
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('clients')
          .addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
          .execute();
        await db.schema
          .alterTable('clients')
          .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
          .execute();
        await db.schema
          .alterTable('clients')
          .addColumn('require_par', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0006_browser_sessions': {
      // The hosted login: browser sessions (the cookie's id as a keyed digest) and the authorization requests
      // waiting for the user to sign in (the login form's reference as a keyed digest).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('browser_sessions')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('auth_time', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('idle_expires_at', time, (c) => c.notNull())
          .addColumn('absolute_expires_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('browser_sessions_user').on('browser_sessions').column('user_id').execute();
        await db.schema.createIndex('browser_sessions_idle').on('browser_sessions').column('idle_expires_at').execute();
        await db.schema
          .createTable('authorization_requests')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('params', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('authorization_requests_expiry').on('authorization_requests').column('expires_at').execute();
      },
    },
    '0007_authorization_codes': {
      // Authorization codes (keyed digests only): single use, bound to client, redirect URI and PKCE challenge;
      // a spent code keeps the family its redemption started, so that a replay revokes that family.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('authorization_codes')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('redirect_uri', 'text', (c) => c.notNull())
          .addColumn('code_challenge', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('audience', 'text', (c) => c.notNull())
          .addColumn('auth_time', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addColumn('used_at', time)
          .addColumn('family_id', 'text')
          .execute();
        await db.schema.createIndex('authorization_codes_expiry').on('authorization_codes').column('expires_at').execute();
      },
    },
    '0008_user_profile': {
      // OpenID Connect standard claims of a user (profile and email scopes), each optional; `preferred_username`
      // is the username.
      async up(db: Kysely<unknown>) {
        for (const column of ['name', 'given_name', 'family_name', 'email'])
          await db.schema.alterTable('users').addColumn(column, 'text').execute();
        await db.schema
          .alterTable('users')
          .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0009_code_oidc': {
      // OpenID Connect: what only the authorization step knows and the ID token states (nonce, acr, amr), kept
      // on the code; and the algorithm a client's ID tokens are signed with (RFC 7591
      // `id_token_signed_response_alg`; null: the server's signing algorithm).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('authorization_codes').addColumn('nonce', 'text').execute();
        await db.schema.alterTable('authorization_codes').addColumn('acr', 'text').execute();
        await db.schema
          .alterTable('authorization_codes')
          .addColumn('amr', 'text', (c) => c.notNull().defaultTo('[]'))
          .execute();
        await db.schema.alterTable('clients').addColumn('id_token_alg', 'text').execute();
      },
    },
    '0010_code_browser_session': {
      // The browser session an authorization code was issued in: its redemption binds the refresh family to it.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('authorization_codes').addColumn('browser_session_id', 'text').execute();
      },
    },
    '0011_browser_session_ids': {
      // Browser sessions get a public id (the admin API names them by it; the cookie's id stays a keyed digest), and
      // a refresh family names the browser session it ends with (null: it outlives any, offline_access). No
      // browser session existed before the hosted login that ships with this migration, so none lacks an id.
      async up(db: Kysely<unknown>) {
        await sql`delete from browser_sessions`.execute(db);
        await db.schema.alterTable('browser_sessions').addColumn('id', 'text').execute();
        await db.schema.createIndex('browser_sessions_id').unique().on('browser_sessions').column('id').execute();
        await db.schema.alterTable('refresh_families').addColumn('browser_session_id', 'text').execute();
        await db.schema
          .createIndex('refresh_families_browser_session')
          .on('refresh_families')
          .column('browser_session_id')
          .execute();
      },
    },
    '0012_consents': {
      // The scopes each user has allowed each third-party client (the consent page), one row per pair.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('consents')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('granted_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('consents_pk', ['user_id', 'client_id'])
          .execute();
        await db.schema.createIndex('consents_client').on('consents').column('client_id').execute();
      },
    },
    '0013_workload_issuers': {
      // Trusted workload issuers (Kubernetes, SPIFFE, CI): name and iss looked up, the rest one checked document.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('workload_issuers')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('issuer', 'text', (c) => c.notNull().unique())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
      },
    },
    '0014_dpop': {
      // DPoP (RFC 9449): a client that must present proofs (`dpop_bound_access_tokens`); the key thumbprint an
      // authorization request bound its code to (`dpop_jkt`), and the one a public client's refresh family is bound
      // to (null: not bound).
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('clients')
          .addColumn('dpop_bound', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('authorization_codes').addColumn('dpop_jkt', 'text').execute();
        await db.schema.alterTable('refresh_families').addColumn('dpop_jkt', 'text').execute();
      },
    },
    '0015_mtls': {
      // Mutual TLS (RFC 8705): a tls_client_auth client's registered subject (its kind, and the DN or SAN value; null:
      // none), a client whose access tokens are bound to its certificate (`tls_client_certificate_bound_access_tokens`),
      // and the certificate thumbprint a public client's refresh family is bound to (null: not bound).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('clients').addColumn('tls_subject_kind', 'text').execute();
        await db.schema.alterTable('clients').addColumn('tls_subject', 'text').execute();
        await db.schema
          .alterTable('clients')
          .addColumn('mtls_bound', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('refresh_families').addColumn('x5t_s256', 'text').execute();
      },
    },
    '0016_resources': {
      // Resource servers (audiences) with encryption keys; the signed inner token of each encrypted access token,
      // kept until it expires for introspection (the issuer cannot decrypt what it encrypted to a resource).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('resources')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('resource', 'text', (c) => c.notNull().unique())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('encrypted_access_tokens')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('inner', 'text', (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('encrypted_access_tokens_expiry')
          .on('encrypted_access_tokens')
          .column('expires_at')
          .execute();
      },
    },
  };
}

import { sql, type Kysely } from 'kysely';

import type { Database } from './schema.js';
import { SqlAssertionJtiRepository } from './sql/assertion-jtis.js';
import { SqlAuditRepository } from './sql/audit.js';
import { SqlAuthorizationCodeRepository } from './sql/authorization-codes.js';
import { SqlAuthorizationRequestRepository } from './sql/authorization-requests.js';
import { SqlBrowserSessionRepository } from './sql/browser-sessions.js';
import { SqlConsentRepository } from './sql/consents.js';
import { SqlWorkloadIssuerRepository } from './sql/workload-issuers.js';
import { SqlEncryptedTokenRepository, SqlResourceRepository } from './sql/resources.js';
import { SqlClientRepository } from './sql/clients.js';
import { SqlKeyRepository } from './sql/keys.js';
import { SqlLeaseRepository } from './sql/leases.js';
import { migrate } from './sql/migrate.js';
import { SqlRefreshFamilyRepository } from './sql/refresh-families.js';
import { RevocationLog } from './sql/revocation-log.js';
import { SqlRevocationRepository } from './sql/revocations.js';
import { SqlRoleRepository } from './sql/roles.js';
import { SqlUserRepository } from './sql/users.js';
import type { Store } from './types.js';

export interface SqlStoreOptions {
  /** PostgreSQL: the schema of the tables, as the connections' search_path names it (default: their current schema). */
  schema?: string;
}

/**
 * The Store on any Kysely database: SQLite (the embedded default) and PostgreSQL share this code, one repository
 * per aggregate in sql/. Writes that must happen once (refresh rotation, assertion jtis, leases) are single
 * conditional statements, not a read then a write, so they hold across connections and instances; writes that
 * must happen together are one transaction inside one repository method.
 */
export class SqlStore implements Store {
  readonly users: SqlUserRepository;
  readonly roles: SqlRoleRepository;
  readonly clients: SqlClientRepository;
  readonly refreshFamilies: SqlRefreshFamilyRepository;
  readonly revocations: SqlRevocationRepository;
  readonly keys: SqlKeyRepository;
  readonly audit: SqlAuditRepository;
  readonly leases: SqlLeaseRepository;
  readonly assertionJtis: SqlAssertionJtiRepository;
  readonly browserSessions: SqlBrowserSessionRepository;
  readonly consents: SqlConsentRepository;
  readonly workloadIssuers: SqlWorkloadIssuerRepository;
  readonly resources: SqlResourceRepository;
  readonly encryptedTokens: SqlEncryptedTokenRepository;
  readonly authorizationRequests: SqlAuthorizationRequestRepository;
  readonly authorizationCodes: SqlAuthorizationCodeRepository;

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
    private readonly options: SqlStoreOptions = {},
  ) {
    const log = new RevocationLog(dialect);
    this.users = new SqlUserRepository(db, log);
    this.roles = new SqlRoleRepository(db);
    this.clients = new SqlClientRepository(db, log);
    this.refreshFamilies = new SqlRefreshFamilyRepository(db, log);
    this.revocations = new SqlRevocationRepository(db, dialect, log);
    this.keys = new SqlKeyRepository(db);
    this.audit = new SqlAuditRepository(db);
    this.leases = new SqlLeaseRepository(db);
    this.assertionJtis = new SqlAssertionJtiRepository(db);
    this.browserSessions = new SqlBrowserSessionRepository(db, log);
    this.consents = new SqlConsentRepository(db);
    this.workloadIssuers = new SqlWorkloadIssuerRepository(db);
    this.resources = new SqlResourceRepository(db);
    this.encryptedTokens = new SqlEncryptedTokenRepository(db);
    this.authorizationRequests = new SqlAuthorizationRequestRepository(db);
    this.authorizationCodes = new SqlAuthorizationCodeRepository(db);
  }

  migrate(): Promise<void> {
    return migrate(this.db, this.dialect, this.options.schema);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.audit.drain();
    await this.db.destroy();
  }
}

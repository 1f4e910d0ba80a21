import type { FastifyBaseLogger } from 'fastify';

import type { Audit } from './audit/audit.js';
import type { Config } from './config/schema.js';
import type { KeyManager } from './keys/manager.js';
import type { Metrics } from './metrics.js';
import type { TokenEndpointDpop } from './oauth/dpop.js';
import type { ClientCertificates } from './oauth/mtls.js';
import type { RevocationRegistry } from './revocation/registry.js';
import type { MasterKey } from './security/master-key.js';
import type { Limits } from './security/limits.js';
import type { Pages } from './signin/pages.js';
import type { Resource } from './resources/resource.js';
import type { StoredDirectory } from './store/stored-directory.js';
import type { Store } from './store/types.js';
import type { WorkloadIssuerDirectory } from './workload/directory.js';
import type { WorkloadKeys } from './workload/keys.js';

/** What every endpoint works with: one per server instance. */
export interface ServerContext {
  config: Config;
  store: Store;
  master: MasterKey;
  keys: KeyManager;
  revocations: RevocationRegistry;
  audit: Audit;
  metrics: Metrics;
  /**
   * Rate limits (token requests per second per client and per address: tokenRateLimit) and failed-login
   * throttling by (username, address), address and username (security/throttle.ts).
   */
  limits: Limits;
  /** DPoP at the token endpoint (RFC 9449): the proof checker, each proof's jti used once, the server nonces. */
  dpop: TokenEndpointDpop;
  /** The client certificate of a request (RFC 8705): its TLS connection's, or a trusted proxy's Client-Cert header. */
  clientCertificates: ClientCertificates;
  /** The hosted pages (login, error, signed out, form_post), read and checked once at start-up. */
  pages: Pages;
  /** The keys of the trusted workload issuers, fetched and cached per issuer (workload/keys.ts). */
  workloadKeys: WorkloadKeys;
  /** The trusted workload issuers by iss, read from the store and kept a few seconds (workload/directory.ts). */
  workloadIssuers: WorkloadIssuerDirectory;
  /** The registered resource servers by identifier (audience), read from the store and kept a few seconds. */
  resources: StoredDirectory<Resource>;
  log: FastifyBaseLogger;
  /** Clock in milliseconds. */
  now: () => number;
}

const contexts = new WeakMap<object, ServerContext>();

/** Records the context of a server createServer made (server.ts), for contextOf. */
export function attachContext(server: object, context: ServerContext): void {
  contexts.set(server, context);
}

/**
 * The context (store, keys, master key, ...) of a server made by createServer: for the sibling packages, the
 * examples and the tests, through @tessera/server/internal; it is not on the public TesseraServer.
 */
export function contextOf(server: object): ServerContext {
  const context = contexts.get(server);
  // TypeError, not coded: only a program passing an object createServer did not make meets it.
  if (!context) throw new TypeError('contextOf: not a server made by createServer');
  return context;
}

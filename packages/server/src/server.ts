import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';

import type { Algorithm } from '@tessera/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

import { buildApp, newFastify } from './app.js';
import { Audit } from './audit/audit.js';
import { AuditRetention } from './audit/retention.js';
import { pruneExpired } from './store/expiry.js';
import { StoredDirectory } from './store/stored-directory.js';
import { baseUrl, loadConfig, type LoadConfigOptions } from './config/load.js';
import type { Config } from './config/schema.js';
import { attachContext, type ServerContext } from './context.js';
import { KeyManager, SCHEDULE_LEASE } from './keys/manager.js';
import { Metrics } from './metrics.js';
import { startMetricsListener, type MetricsListener } from './metrics-route.js';
import { RedisRevocationBus, redisClient } from './revocation/bus.js';
import { RevocationRegistry } from './revocation/registry.js';
import { loadMasterKey } from './security/master-key.js';
import { MemoryLimits, perSecond } from './security/limits.js';
import { RedisLimits } from './security/redis-limits.js';
import { RSA_ID_TOKEN_ALG } from './oauth/id-token.js';
import { MemoryProofJtis, ProofJtis, TokenEndpointDpop } from './oauth/dpop.js';
import { readClientCa, readTlsFiles } from './http/tls.js';
import { ClientCertificates } from './oauth/mtls.js';
import { Pages } from './signin/pages.js';
import { throttlePolicy } from './security/throttle.js';
import { adminService, type AdminService } from './services/admin.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { WorkloadIssuerDirectory } from './workload/directory.js';
import { WorkloadKeys } from './workload/keys.js';

export interface TesseraServer {
  config: Config;
  app: FastifyInstance;
  /** Every administrative action (users, roles, clients, keys, sessions, tokens), as the admin API runs it. */
  admin: AdminService;
  /** Listens on config.host:port (and the metrics listener on metricsHost:metricsPort); resolves to the base URL. */
  listen(): Promise<string>;
  /** The metrics listener's base URL once listening, when `metricsPort` is set. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

export interface CreateServerOptions extends LoadConfigOptions {
  /** Use this store instead of opening the configured database. */
  store?: Store;
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /** Key schedule check interval, ms. Default 10 s. */
  tickMs?: number;
  /** Where the log lines go (pino's destination), default stdout. */
  logStream?: Writable;
}

/**
 * Builds an auth server: configuration (checked once), store (migrated), master key, signing keys
 * (created on first start), revocations, audit, metrics and the HTTP app. Nothing listens until listen().
 */
export async function createServer(options: CreateServerOptions = {}): Promise<TesseraServer> {
  const config = loadConfig(options);
  const now = options.now ?? Date.now;
  // The hosted pages and the master key first: a refused template or key file must not leave a database open.
  const pages = new Pages(config);
  const master = loadMasterKey({ masterKey: config.masterKey, masterKeyFile: config.masterKeyFile, create: true });
  const tls = readTlsFiles(config);
  const clientCa = tls ? tls.ca : readClientCa(config);
  const store = options.store ?? openStore(config);
  try {
    await store.migrate();
  } catch (err) {
    // A refused start must not leave a connection pool open (it would hold the process up).
    if (!options.store) await store.close().catch(() => undefined);
    throw err;
  }
  const app = newFastify({ config, logStream: options.logStream, tls });
  const keys = new KeyManager(
    store,
    master,
    {
      alg: config.signingAlg as Algorithm,
      // An RS256 key beside the main one, for the ID tokens of clients that ask for RS256 (OpenID Connect's
      // interoperable algorithm); none in single-app mode, which publishes no keys.
      also: config.singleApp ? [] : [RSA_ID_TOKEN_ALG],
      rotationInterval: config.keyRotationInterval,
      jwksMaxAge: config.jwksMaxAge,
      maxAccessTokenTtl: async () =>
        Math.max(config.accessTokenTtl, config.idTokenTtl, ...(await store.clients.list()).map((c) => c.accessTokenTtl ?? 0)),
    },
    now,
  );
  await keys.init(now());
  await warnShadowedIssuers(config, store, app.log);
  const revocations = new RevocationRegistry(store, now);
  await revocations.load();
  // Login throttling and rate limits: counted in Redis across instances when there is one.
  const redis = config.redisUrl ? redisClient(config.redisUrl, app.log, 'commands') : undefined;
  const policy = throttlePolicy(config);
  const local = new MemoryLimits(policy);
  const limits = redis ? new RedisLimits(redis, policy, local, app.log) : local;
  const metrics = new Metrics(keys);
  const audit = new Audit(store, app.log, now, {
    // Audit events of refusals per address: a rule of its own (a key prefix of its own).
    failureLimit: { limiter: limits, rule: perSecond(config.auditFailuresPerSecond) },
    clientCredentials: config.clientCredentialsAudit,
    registry: metrics.registry,
  });
  const retention = new AuditRetention(store, config.auditRetentionDays * 86_400_000, keys.instanceId);
  const context: ServerContext = {
    config,
    store,
    master,
    keys,
    revocations,
    audit,
    metrics,
    limits,
    // Each DPoP proof's jti used once: across instances in Redis when there is one.
    dpop: new TokenEndpointDpop(config, master, new ProofJtis(new MemoryProofJtis(), redis, app.log), now),
    // Client certificates (RFC 8705): the TLS connection's, or a trusted proxy's Client-Cert header (RFC 9440).
    clientCertificates: new ClientCertificates(config, clientCa, now),
    pages,
    workloadKeys: new WorkloadKeys({ now }),
    workloadIssuers: new WorkloadIssuerDirectory(store, now),
    resources: new StoredDirectory(
      () => store.resources.list(),
      (r) => r.resource,
      now,
    ),
    log: app.log,
    now,
  };
  buildApp(context, app);

  // Revocations made by other instances: announced on the Redis bus when there is one, and read from the
  // store on a timer in any case (the bound on propagation when the bus is down).
  const bus = config.redisUrl
    ? new RedisRevocationBus(config.redisUrl, revocations, app.log, config.revocationHeartbeatSeconds * 1000)
    : undefined;
  revocations.setTransport(bus);
  context.metrics.revocationSequence.set(revocations.sequence);
  revocations.onRevocation((r) => context.metrics.revocationSequence.set(r.seq));
  const poll = setInterval(() => {
    revocations.catchUp().catch((err: unknown) => app.log.warn({ err }, 'revocation catch-up failed'));
    revocations.prune(now());
  }, config.revocationPollSeconds * 1000);
  poll.unref();

  const tickMs = options.tickMs ?? 10_000;
  const timer = setInterval(() => {
    // Every instance reloads the keys (another instance or the CLI may have changed them); the one holding the
    // schedule lease, renewed at each tick and lapsing after three missed ones, also applies the schedule.
    keys.runSchedule(now(), 3 * tickMs).catch((err: unknown) => app.log.error({ err }, 'key schedule failed'));
    store.revocations.prune(now()).catch((err: unknown) => app.log.error({ err }, 'revocation pruning failed'));
    pruneExpired(store, now()).catch((err: unknown) => app.log.error({ err }, 'pruning of expired state failed'));
    retention.run(now(), 3 * tickMs).catch((err: unknown) => app.log.error({ err }, 'audit retention failed'));
  }, tickMs);
  timer.unref();

  let metricsListener: MetricsListener | undefined;
  const server: TesseraServer = {
    config,
    app,
    admin: adminService(context),
    metricsUrl: undefined,
    async listen() {
      const url = await app.listen({ host: config.host, port: config.port });
      if (config.metricsPort !== undefined) {
        metricsListener = await startMetricsListener(context.metrics.registry, config.metricsHost, config.metricsPort);
        server.metricsUrl = metricsListener.url;
      }
      // With a derived issuer and port 0, the issuer is only known once bound.
      if (!config.issuerConfigured)
        config.issuer = baseUrl(config.host, (app.server.address() as AddressInfo).port, tls !== undefined);
      return url;
    },
    async close() {
      clearInterval(timer);
      clearInterval(poll);
      await bus?.close();
      await metricsListener?.close();
      redis?.disconnect();
      await app.close();
      context.workloadKeys.close();
      await audit.close();
      // Hand the key schedule and the audit retention over at once rather than after the leases lapse.
      await store.leases.release(SCHEDULE_LEASE, keys.instanceId).catch(() => undefined);
      await retention.release().catch(() => undefined);
      if (!options.store) await store.close();
    },
  };
  attachContext(server, context);
  return server;
}

/**
 * A stored workload issuer that the config file's issuers shadow (the same name or iss, stored before the file named
 * it) is said in the log at start: the config file's is the one used for its iss, and the stored one can still be
 * removed by name (`tessera issuers remove`, DELETE /admin/workload-issuers/:name).
 */
async function warnShadowedIssuers(config: Config, store: Store, log: FastifyBaseLogger): Promise<void> {
  if (config.workloadIssuers.length === 0) return;
  for (const stored of await store.workloadIssuers.list()) {
    const shadow = config.workloadIssuers.find((c) => c.name === stored.name || c.issuer === stored.issuer);
    if (shadow !== undefined)
      log.warn(
        { issuer: stored.name, config: shadow.name },
        'a stored workload issuer has the name or iss of one in the config file (workloadIssuers); remove the stored one',
      );
  }
}

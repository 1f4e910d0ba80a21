import type { AddressInfo } from 'node:net';

import type { Algorithm } from '@tessera/core';
import type { FastifyInstance } from 'fastify';

import { buildApp, newFastify } from './app.js';
import { Audit } from './audit/audit.js';
import { baseUrl, loadConfig, type LoadConfigOptions } from './config/load.js';
import type { Config } from './config/schema.js';
import type { ServerContext } from './context.js';
import { KeyManager } from './keys/manager.js';
import { Metrics } from './metrics.js';
import { RevocationRegistry } from './revocation/registry.js';
import { loadMasterKey } from './security/master-key.js';
import { LoginThrottle } from './security/throttle.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';

export interface TesseraServer {
  config: Config;
  app: FastifyInstance;
  context: ServerContext;
  /** Listens on config.host:port; resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface CreateServerOptions extends LoadConfigOptions {
  /** Use this store instead of opening the configured SQLite file. */
  store?: Store;
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /** Key schedule check interval, ms. Default 10 s. */
  tickMs?: number;
}

/**
 * Builds an auth server: configuration (checked once), store (migrated), master key, signing keys
 * (created on first start), revocations, audit, metrics and the HTTP app. Nothing listens until listen().
 */
export async function createServer(options: CreateServerOptions = {}): Promise<TesseraServer> {
  const config = loadConfig(options);
  const now = options.now ?? Date.now;
  // The master key first: a refused key file must not leave a database open.
  const master = loadMasterKey({ masterKey: config.masterKey, masterKeyFile: config.masterKeyFile, create: true });
  const store = options.store ?? openSqliteStore(config.database);
  await store.migrate();
  const app = newFastify(config.logLevel, config.bodyLimit, config.trustProxy);
  const keys = new KeyManager(store, master, {
    alg: config.signingAlg as Algorithm,
    rotationInterval: config.keyRotationInterval,
    jwksMaxAge: config.jwksMaxAge,
    maxAccessTokenTtl: async () => Math.max(config.accessTokenTtl, ...(await store.listClients()).map((c) => c.accessTokenTtl ?? 0)),
  });
  await keys.init(now());
  const revocations = new RevocationRegistry(store);
  await revocations.load(now());
  const context: ServerContext = {
    config,
    store,
    master,
    keys,
    revocations,
    audit: new Audit(store, app.log, now),
    metrics: new Metrics(keys),
    userThrottle: new LoginThrottle(config.loginMaxFailures, config.loginLockoutSeconds * 1000),
    addressThrottle: new LoginThrottle(config.loginMaxFailuresPerAddress, config.loginLockoutSeconds * 1000),
    log: app.log,
    now,
  };
  buildApp(context, app);

  const timer = setInterval(() => {
    // Reload first: another instance or the CLI may have changed the keys.
    keys
      .reload()
      .then(() => keys.tick(now()))
      .catch((err: unknown) => app.log.error({ err }, 'key schedule failed'));
    store.pruneRevocations(now()).catch((err: unknown) => app.log.error({ err }, 'revocation pruning failed'));
  }, options.tickMs ?? 10_000);
  timer.unref();

  return {
    config,
    app,
    context,
    async listen() {
      const url = await app.listen({ host: config.host, port: config.port });
      // With a derived issuer and port 0, the issuer is only known once bound.
      if (!config.issuerConfigured) config.issuer = baseUrl(config.host, (app.server.address() as AddressInfo).port);
      return url;
    },
    async close() {
      clearInterval(timer);
      await app.close();
      if (!options.store) await store.close();
    },
  };
}

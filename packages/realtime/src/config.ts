/**
 * A gateway from a JSON config file, for `tessera gateway`: what an operator runs as N stateless nodes.
 *
 *   {
 *     "issuer": "https://auth.example.com",          required
 *     "audience": "realtime",                       default "realtime"
 *     "algorithms": ["ES256"],                      default ["ES256", "EdDSA", "RS256"]
 *     "host": "0.0.0.0", "port": 8000,              default 127.0.0.1:8000
 *     "tls": { "certFile": "...", "keyFile": "..." },
 *     "channels": { "namespaces": { "chat": { "presence": true } } },   required
 *     "redisUrl": "redis://127.0.0.1:6379",         or TESSERA_REDIS_URL: the Redis broker (else in memory)
 *     "revocations": { "clientId": "gateway-feed", "clientSecretFile": "..." }
 *                                                   or TESSERA_GATEWAY_REVOCATION_SECRET for the secret;
 *                                                   `false` to run without following revocations
 *     "limits": { ... }, "path": "/connection/websocket", "apiPath": "/api"
 *   }
 *
 * Relative file names are relative to the config file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { ConfigError, isAlgorithm, type Algorithm } from '@tessera/core';
import { createRevocationList, createVerifier, type RevocationList, type Verifier } from '@tessera/verifier';

import type { Broker } from './broker.js';
import type { ChannelOptions } from './channels.js';
import { checkLimits, createGateway, type Gateway } from './gateway.js';
import type { Limits, Logger } from './hub.js';

export interface GatewayConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly Algorithm[];
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  readonly channels: ChannelOptions;
  readonly redisUrl: string | undefined;
  readonly revocations: { readonly clientId: string; readonly clientSecret: string } | false;
  readonly limits: Partial<Limits>;
  readonly path: string | undefined;
  readonly apiPath: string | undefined;
}

const KEYS = new Set([
  'issuer',
  'audience',
  'algorithms',
  'host',
  'port',
  'tls',
  'channels',
  'redisUrl',
  'revocations',
  'limits',
  'path',
  'apiPath',
]);

/** Reads and checks a config file; environment variables supply the secrets and the Redis URL. */
export function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, (err as Error).message);
  }
  return parseGatewayConfig(raw, dirname(resolve(file)), env);
}

export function parseGatewayConfig(raw: unknown, baseDir: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('config', 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new ConfigError(k, 'unknown setting');
  const file = (name: string, v: unknown): Buffer => {
    if (typeof v !== 'string' || v === '') throw new ConfigError(name, 'must be a file name');
    // Relative to the config file; the error names the path looked at, so a misplaced file is found.
    const path = resolve(baseDir, v);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(name, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const issuer = o.issuer;
  if (typeof issuer !== 'string' || !/^https?:\/\//.test(issuer)) throw new ConfigError('issuer', 'must be the auth server URL');
  const audience = o.audience ?? 'realtime';
  if (typeof audience !== 'string' || audience === '') throw new ConfigError('audience', 'must be a non-empty string');
  const algorithms = o.algorithms ?? ['ES256', 'EdDSA', 'RS256'];
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((a) => typeof a === 'string' && isAlgorithm(a) && a !== 'HS256')
  ) {
    throw new ConfigError('algorithms', 'must list asymmetric algorithms (ES256, EdDSA, RS256)');
  }
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string') throw new ConfigError('host', 'must be a string');
  const port = o.port ?? 8000;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('port', 'must be a port number');
  let tls: GatewayConfig['tls'];
  if (o.tls !== undefined) {
    const t = o.tls as Record<string, unknown>;
    if (typeof t !== 'object' || t === null) throw new ConfigError('tls', 'must be {certFile, keyFile}');
    tls = { cert: file('tls.certFile', t.certFile), key: file('tls.keyFile', t.keyFile) };
  }
  const channels = o.channels;
  if (typeof channels !== 'object' || channels === null || typeof (channels as Record<string, unknown>).namespaces !== 'object') {
    throw new ConfigError('channels', 'must be {namespaces: {...}}');
  }
  const redisUrl = (o.redisUrl as string | undefined) ?? env.TESSERA_REDIS_URL;
  if (redisUrl !== undefined && (typeof redisUrl !== 'string' || !/^rediss?:\/\//.test(redisUrl)))
    throw new ConfigError('redisUrl', 'must be a redis:// URL');
  let revocations: GatewayConfig['revocations'];
  if (o.revocations === false) revocations = false;
  else {
    const r = o.revocations as Record<string, unknown> | undefined;
    if (typeof r !== 'object' || r === null || typeof r.clientId !== 'string') {
      throw new ConfigError(
        'revocations',
        'must be {clientId, clientSecretFile} (or false to run without following revocations)',
      );
    }
    const secret =
      r.clientSecretFile !== undefined
        ? file('revocations.clientSecretFile', r.clientSecretFile).toString('utf8').trim()
        : env.TESSERA_GATEWAY_REVOCATION_SECRET;
    if (!secret) throw new ConfigError('revocations', 'needs clientSecretFile or TESSERA_GATEWAY_REVOCATION_SECRET');
    revocations = { clientId: r.clientId, clientSecret: secret };
  }
  const limits = (o.limits ?? {}) as Record<string, unknown>;
  if (typeof limits !== 'object' || limits === null) throw new ConfigError('limits', 'must be an object');
  checkLimits(limits);
  for (const k of ['path', 'apiPath'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || !(o[k] as string).startsWith('/')))
      throw new ConfigError(k, 'must be a path starting with /');
  }
  return {
    issuer: issuer.replace(/\/+$/, ''),
    audience,
    algorithms: algorithms as Algorithm[],
    host,
    port,
    tls,
    channels: channels as ChannelOptions,
    redisUrl,
    revocations,
    limits: limits as Partial<Limits>,
    path: o.path as string | undefined,
    apiPath: o.apiPath as string | undefined,
  };
}

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

/**
 * Starts what a config describes: the revocation list (waits until it has loaded), the verifier, the broker
 * (Redis when configured; `ioredis` must be installed) and the gateway on its port.
 */
export async function runGateway(config: GatewayConfig, options: { logger?: Logger } = {}): Promise<RunningGateway> {
  let revocations: RevocationList | undefined;
  let verifier: Verifier | undefined;
  let broker: Broker | undefined;
  const closers: (() => unknown)[] = [];
  try {
    if (config.revocations) {
      revocations = createRevocationList({
        issuer: config.issuer,
        clientId: config.revocations.clientId,
        clientSecret: config.revocations.clientSecret,
      });
      closers.push(() => revocations!.close());
      await revocations.ready(30_000);
    }
    verifier = createVerifier({
      issuer: config.issuer,
      audience: config.audience,
      algorithms: config.algorithms,
      jwksUri: `${config.issuer}/.well-known/jwks.json`,
      ...(revocations ? { revocations } : {}),
    });
    closers.push(() => verifier!.close());
    if (config.redisUrl) {
      const { Redis } = await import('ioredis');
      const { RedisBroker } = await import('./redis-broker.js');
      const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
      closers.push(() => redis.quit().catch(() => redis.disconnect()));
      broker = new RedisBroker({ redis });
    }
    const gateway = createGateway({
      verifier,
      ...(revocations ? { revocations } : {}),
      channels: config.channels,
      ...(broker ? { broker } : {}),
      limits: config.limits,
      ...(config.path ? { path: config.path } : {}),
      ...(config.apiPath ? { apiPath: config.apiPath } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    closers.unshift(() => gateway.close());
    const { url, wsUrl } = await gateway.listen({
      host: config.host,
      port: config.port,
      ...(config.tls ? { tls: config.tls } : {}),
    });
    return {
      gateway,
      url,
      wsUrl,
      async close() {
        for (const c of closers) await c();
      },
    };
  } catch (err) {
    for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
    throw err;
  }
}

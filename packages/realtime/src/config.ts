/**
 * A gateway from a JSON config file, for `tessera gateway`: what an operator runs as N stateless nodes.
 *
 *   {
 *     "issuer": "https://auth.example.com",
 *     "channels": { "namespaces": { "chat": { "presence": true } } },
 *     "revocations": { "clientId": "gateway-feed", "clientSecretFile": "feed.secret" }
 *   }
 *
 * Every setting is in GATEWAY_SETTINGS (settings.ts), checked by the settings engine the auth server's
 * configuration uses; docs/configuration.md lists them. Relative file names resolve against the config file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { ConfigError, importEncryptionJwk, type Algorithm, type EncryptionKey } from '@tessera/core';
import { loadSettings, readSettingsFile } from '@tessera/core/internal';

import type { ChannelOptions } from './channels.js';
import { checkLimits } from './gateway.js';
import type { Limits } from './hub.js';
import { GATEWAY_SETTINGS, type GatewaySettingName } from './settings.js';

export interface GatewayConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly Algorithm[];
  /** The origin clients connect to, for DPoP proofs (the verifier's `externalOrigin`). */
  readonly externalOrigin: string | undefined;
  /** The private keys of encrypted access tokens (the verifier's `decryptionKeys`); undefined: tokens are signed only. */
  readonly decryptionKeys: readonly EncryptionKey[] | undefined;
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

export interface LoadGatewayConfigOptions {
  /** Environment; defaults to process.env. `TESSERA_REDIS_URL` and `TESSERA_GATEWAY_REVOCATION_SECRET`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides (the command line's `--port`, `--host`), applied last and checked like the file's values. */
  readonly overrides?: Partial<Record<GatewaySettingName, unknown>>;
}

/** Reads and checks a config file; relative file names in it resolve against its folder. */
export function loadGatewayConfig(file: string, options: LoadGatewayConfigOptions = {}): GatewayConfig {
  const json = readSettingsFile(file, (f) => readFileSync(f, 'utf8'));
  return parseGatewayConfig(json, dirname(resolve(file)), options);
}

/** Checks a config file's parsed JSON; `baseDir` is the base of its relative file names. */
export function parseGatewayConfig(json: unknown, baseDir: string, options: LoadGatewayConfigOptions = {}): GatewayConfig {
  const { values: v } = loadSettings(GATEWAY_SETTINGS, {
    file: { json, dir: baseDir },
    env: options.env ?? process.env,
    ...(options.overrides ? { overrides: options.overrides } : {}),
    workingDir: process.cwd(),
  });
  const limits = v.limits ?? {};
  checkLimits(limits);
  return {
    issuer: v.issuer,
    audience: v.audience,
    algorithms: v.algorithms as Algorithm[],
    externalOrigin: origin(v.externalOrigin),
    decryptionKeys: v.decryptionKeyFile === undefined ? undefined : decryptionKeys(v.decryptionKeyFile),
    host: v.host,
    port: v.port,
    tls: tls(v['tls.certFile'], v['tls.keyFile']),
    channels: {
      namespaces: v['channels.namespaces'],
      ...(v['channels.personal'] !== undefined ? { personal: v['channels.personal'] } : {}),
    } as ChannelOptions,
    redisUrl: v.redisUrl,
    revocations: v.revocations
      ? revocations(v['revocations.clientId'], v['revocations.clientSecretFile'], v['revocations.clientSecret'])
      : false,
    limits: limits as Partial<Limits>,
    path: v.path,
    apiPath: v.apiPath,
  };
}

/** `externalOrigin` is an origin: a URL with a path would never match a proof's. */
function origin(value: string | undefined): string | undefined {
  if (value !== undefined && new URL(value).pathname !== '/')
    throw new ConfigError('externalOrigin', GATEWAY_SETTINGS.externalOrigin.invalid);
  return value;
}

function tls(certFile: string | undefined, keyFile: string | undefined): GatewayConfig['tls'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw new ConfigError('tls.certFile', GATEWAY_SETTINGS['tls.certFile'].invalid);
  if (keyFile === undefined) throw new ConfigError('tls.keyFile', GATEWAY_SETTINGS['tls.keyFile'].invalid);
  return { cert: readSettingFile('tls.certFile', certFile), key: readSettingFile('tls.keyFile', keyFile) };
}

/** The private JWKs of `decryptionKeyFile`: one, a list, or a JWKS; each a private encryption key. */
function decryptionKeys(file: string): EncryptionKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readSettingFile('decryptionKeyFile', file).toString('utf8')) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) throw new ConfigError('decryptionKeyFile', `${file} is not JSON`);
    throw err;
  }
  const jwks = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'keys' in parsed ? parsed.keys : parsed;
  const list = Array.isArray(jwks) ? (jwks as unknown[]) : [jwks];
  if (list.length === 0) throw new ConfigError('decryptionKeyFile', `${file} holds no key`);
  return list.map((jwk, i) => {
    let key: EncryptionKey;
    try {
      key = importEncryptionJwk(jwk);
    } catch (err) {
      throw new ConfigError('decryptionKeyFile', `key ${i} of ${file}: ${(err as Error).message}`);
    }
    if (key.kind !== 'private') throw new ConfigError('decryptionKeyFile', `key ${i} of ${file} is not a private key`);
    return key;
  });
}

function revocations(clientId: string | undefined, secretFile: string | undefined, secret: string | undefined) {
  if (clientId === undefined) throw new ConfigError('revocations', GATEWAY_SETTINGS.revocations.invalid);
  // The file, when named, wins over the variable: it is the more specific of the two.
  const clientSecret =
    secretFile !== undefined ? readSettingFile('revocations.clientSecretFile', secretFile).toString('utf8').trim() : secret;
  if (!clientSecret) throw new ConfigError('revocations', 'needs clientSecretFile or TESSERA_GATEWAY_REVOCATION_SECRET');
  return { clientId, clientSecret };
}

/** A file a setting names (already absolute); the error names the setting and the path looked at. */
function readSettingFile(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(name, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { ConfigError } from '@tessera/core';
import { loadSettings, readSettingsFile, resolvePath } from '@tessera/core/internal';

import { AdminInputError } from '../services/errors.js';
import { isPostgresUrl } from '../store/database-url.js';
import { parseWorkloadIssuer, type WorkloadIssuer } from '../workload/issuer.js';
import { SETTINGS, type Config, type SettingName } from './schema.js';

export interface LoadConfigOptions {
  /** A JSON config file; its keys are the setting names. */
  file?: string;
  /** Environment; defaults to process.env. `TESSERA_*` variables override the file. */
  env?: Record<string, string | undefined>;
  /** Programmatic overrides, applied last. */
  overrides?: Partial<Record<SettingName, unknown>>;
  /**
   * Base for relative paths given in `overrides` (and for the defaults when there is no file); default the
   * working directory. Relative paths in the file resolve against the file's folder, those in `TESSERA_*`
   * variables against the working directory.
   */
  cwd?: string;
}

/**
 * Reads the configuration once: defaults, then the file, then `TESSERA_*` environment variables, then
 * overrides. Every value is checked against the schema by the settings engine of @tessera/core; the first bad
 * one throws a ConfigError naming it.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  // A relative path resolves against the place that names it: the config file's folder for the file (and
  // for the defaults when there is a file), the working directory for the environment, `cwd` for overrides.
  const { values: v, base } = loadSettings(SETTINGS, {
    ...(options.file
      ? { file: { json: readSettingsFile(options.file, (f) => readFileSync(f, 'utf8')), dir: dirname(resolve(options.file)) } }
      : {}),
    env: options.env ?? process.env,
    ...(options.overrides ? { overrides: options.overrides } : {}),
    workingDir: process.cwd(),
    ...(options.cwd ? { overrideDir: options.cwd } : {}),
  });
  const c: Config = {
    ...v,
    issuer: v.issuer ?? baseUrl(v.host, v.port, v.tlsCert !== undefined),
    issuerConfigured: v.issuer !== undefined,
    database: databaseLocation(v.database, v.dataDir, base.database),
    masterKeyFile: v.masterKeyFile ?? resolvePath(v.dataDir, 'master.key'),
    trustProxy: v.trustProxy ?? [],
    workloadIssuers: workloadIssuers(v.workloadIssuers ?? [], base.workloadIssuers),
  };
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined))
    throw new ConfigError(c.tlsCert === undefined ? 'tlsCert' : 'tlsKey', 'tlsCert and tlsKey are set together');
  if (c.tlsClientCa !== undefined && c.tlsCert === undefined && !c.clientCertHeader)
    throw new ConfigError('tlsClientCa', 'needs tlsCert and tlsKey, or clientCertHeader: client certificates come over TLS');
  if (c.clientCertHeader && c.trustProxy.length === 0)
    throw new ConfigError('clientCertHeader', 'needs trustProxy: the Client-Cert header is believed only from those proxies');
  if (c.signingAlg === 'HS256' && !c.singleApp)
    throw new ConfigError('signingAlg', 'HS256 is only allowed in single-app mode (singleApp: true)');
  if (c.singleApp && c.signingAlg !== 'HS256')
    throw new ConfigError('singleApp', 'single-app mode signs with HS256; set signingAlg to HS256');
  if (c.loginMaxLockoutSeconds < c.loginLockoutSeconds)
    throw new ConfigError('loginMaxLockoutSeconds', 'must be at least loginLockoutSeconds');
  if (c.refreshTokenAbsoluteTtl < c.refreshTokenTtl)
    throw new ConfigError('refreshTokenAbsoluteTtl', 'must be at least refreshTokenTtl');
  if (c.sessionAbsoluteTtl < c.sessionIdleTtl) throw new ConfigError('sessionAbsoluteTtl', 'must be at least sessionIdleTtl');
  if (c.headersTimeoutSeconds > c.requestTimeoutSeconds)
    throw new ConfigError('headersTimeoutSeconds', 'must be at most requestTimeoutSeconds');
  if (c.keyRotationInterval <= c.jwksMaxAge + c.accessTokenTtl) {
    throw new ConfigError(
      'keyRotationInterval',
      'must exceed jwksMaxAge + accessTokenTtl so that keys can be published before they sign and kept until their tokens expire',
    );
  }
  return c;
}

/**
 * The configured workload issuers, each checked by the one parser of their wire form; a `{jwks_file}` key source
 * is read here (against `base`, the folder of the place that names it) into `{jwks}`. Errors name
 * `workloadIssuers[i]`; two entries may not share a name or an issuer.
 */
function workloadIssuers(entries: readonly Record<string, unknown>[], base: string): WorkloadIssuer[] {
  const loadedAt = Date.now();
  const out: WorkloadIssuer[] = [];
  for (const [i, entry] of entries.entries()) {
    const setting = `workloadIssuers[${i}]`;
    let input = entry;
    const keys = entry.keys;
    if (typeof keys === 'object' && keys !== null && 'jwks_file' in keys) {
      const file = (keys as Record<string, unknown>).jwks_file;
      if (Object.keys(keys).length !== 1 || typeof file !== 'string' || file === '')
        throw new ConfigError(setting, 'keys.jwks_file must be a file name, alone in keys');
      const path = resolvePath(base, file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        throw new ConfigError(setting, `keys.jwks_file: cannot read ${path}`);
      }
      let jwks: unknown;
      try {
        jwks = JSON.parse(text);
      } catch {
        throw new ConfigError(setting, `keys.jwks_file: ${path} is not valid JSON`);
      }
      input = { ...entry, keys: { jwks } };
    }
    let parsed;
    try {
      parsed = parseWorkloadIssuer(input);
    } catch (err) {
      if (err instanceof AdminInputError) throw new ConfigError(setting, err.message);
      throw err;
    }
    const twin = out.findIndex((o) => o.name === parsed.name || o.issuer === parsed.issuer);
    if (twin !== -1)
      throw new ConfigError(
        setting,
        `${out[twin]!.name === parsed.name ? `the name ${parsed.name}` : `the issuer ${parsed.issuer}`} is also workloadIssuers[${twin}]'s`,
      );
    out.push({ ...parsed, createdAt: loadedAt, updatedAt: loadedAt });
  }
  return out;
}

/** A PostgreSQL URL as given, else the SQLite file. A bad URL is refused without echoing it: it may hold a password. */
function databaseLocation(database: string | undefined, dataDir: string, base: string): string {
  if (database === undefined) return resolvePath(dataDir, 'tessera.db');
  if (database === ':memory:') return database;
  if (/^postgres(ql)?:/i.test(database)) {
    if (!isPostgresUrl(database)) throw new ConfigError('database', 'is not a valid postgres:// URL');
    return database;
  }
  return resolvePath(base, database);
}

export function baseUrl(host: string, port: number, tls = false): string {
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

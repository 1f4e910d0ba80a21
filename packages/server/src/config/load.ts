import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';

import { ConfigError } from '@tessera/core';

import { isPostgresUrl } from '../store/database-url.js';
import { resolvePath, SETTINGS, type Config, type SettingName, type SettingSpec } from './schema.js';

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

function parse(name: string, spec: SettingSpec, raw: unknown, source: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(name, `${why} (from ${source})`);
  };
  const str = typeof raw === 'string' ? raw.trim() : raw;
  switch (spec.type) {
    case 'string':
      if (typeof str !== 'string' || str === '') fail('must be a non-empty string');
      return str;
    case 'url': {
      if (typeof str !== 'string') return fail('must be a URL');
      let u: URL;
      try {
        u = new URL(str);
      } catch {
        return fail('must be a URL');
      }
      const protocols = spec.protocols ?? ['http:', 'https:'];
      if (!protocols.includes(u.protocol)) fail(`must be a URL with scheme ${protocols.map((p) => p.slice(0, -1)).join(' or ')}`);
      if (u.search || u.hash) fail('must not have a query or fragment');
      return str.replace(/\/+$/, '');
    }
    case 'integer': {
      const n = typeof str === 'number' ? str : typeof str === 'string' && /^-?\d+$/.test(str) ? Number(str) : NaN;
      if (!Number.isSafeInteger(n)) fail('must be an integer');
      if (spec.min !== undefined && n < spec.min) fail(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail(`must be at most ${spec.max}`);
      return n;
    }
    case 'boolean':
      if (typeof str === 'boolean') return str;
      if (str === 'true' || str === '1') return true;
      if (str === 'false' || str === '0') return false;
      return fail('must be true or false');
    case 'enum':
      if (typeof str !== 'string' || !spec.values!.includes(str)) fail(`must be one of ${spec.values!.join(', ')}`);
      return str;
    case 'list':
      if (Array.isArray(str) && str.every((s) => typeof s === 'string')) return str;
      if (typeof str === 'string')
        return str
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      return fail('must be a list of strings');
    case 'addresses':
      return proxyAddresses(str, fail);
  }
}

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Proxy addresses for X-Forwarded-For: a list (or comma-separated string) of IP addresses, CIDR ranges and
 * proxy-addr's keywords. `false` means none; `true` ("trust anyone") is refused, since any client could then
 * choose the address that throttling and audit see.
 */
function proxyAddresses(raw: unknown, fail: (why: string) => never): string[] {
  if (raw === false || raw === 'false' || raw === '0') return [];
  if (raw === true || raw === 'true' || raw === '1')
    fail(
      '`true` would trust X-Forwarded-For from any client; list the addresses or CIDR ranges of your proxies instead (e.g. 10.0.0.0/8)',
    );
  const items = Array.isArray(raw)
    ? raw
    : typeof raw === 'string'
      ? raw.split(',')
      : fail('must be a list of addresses or CIDR ranges');
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return fail('must be a list of addresses or CIDR ranges');
    const entry = item.trim();
    if (entry === '') continue;
    if (!PROXY_KEYWORDS.includes(entry) && !isAddressOrRange(entry))
      fail(`${JSON.stringify(entry.slice(0, 60))} is not an IP address, a CIDR range or one of ${PROXY_KEYWORDS.join(', ')}`);
    out.push(entry);
  }
  return out;
}

function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address!);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * Reads the configuration once: defaults, then the file, then `TESSERA_*` environment variables, then
 * overrides. Every value is checked against the schema; the first bad one throws a ConfigError naming it.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  let fromFile: Record<string, unknown> = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch {
      throw new ConfigError('config', `cannot read the config file ${options.file}`);
    }
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ConfigError('config', `${options.file} is not valid JSON`);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
      throw new ConfigError('config', 'the config file must hold a JSON object');
    for (const k of Object.keys(fromFile)) {
      if (!(k in SETTINGS) && k !== '$schema') throw new ConfigError(k, 'unknown setting (from the config file)');
    }
  }
  // A relative path resolves against the place that names it: the config file's folder for the file (and
  // for the defaults when there is a file), the working directory for the environment, `cwd` for overrides.
  const workingDir = process.cwd();
  const overrideDir = resolve(options.cwd ?? workingDir);
  const fileDir = options.file ? dirname(resolve(options.file)) : overrideDir;
  const out: Record<string, unknown> = {};
  const base: Partial<Record<SettingName, string>> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    let value: unknown = spec.default;
    base[name] = fileDir;
    if (fromFile[name] !== undefined) value = parse(name, spec, fromFile[name], 'the config file');
    if (env[spec.env] !== undefined && env[spec.env] !== '') {
      value = parse(name, spec, env[spec.env], spec.env);
      base[name] = workingDir;
    }
    if (options.overrides?.[name] !== undefined) {
      value = parse(name, spec, options.overrides[name], 'options');
      base[name] = overrideDir;
    }
    out[name] = value;
  }
  const c = out as unknown as Config;
  c.dataDir = resolvePath(base.dataDir!, c.dataDir);
  c.database = databaseLocation(c.database, c.dataDir, base.database!);
  c.masterKeyFile =
    c.masterKeyFile === undefined ? resolvePath(c.dataDir, 'master.key') : resolvePath(base.masterKeyFile!, c.masterKeyFile);
  c.issuerConfigured = c.issuer !== undefined;
  c.issuer ??= baseUrl(c.host, c.port);
  if (c.signingAlg === 'HS256' && !c.singleApp)
    throw new ConfigError('signingAlg', 'HS256 is only allowed in single-app mode (singleApp: true)');
  if (c.singleApp && c.signingAlg !== 'HS256')
    throw new ConfigError('singleApp', 'single-app mode signs with HS256; set signingAlg to HS256');
  c.trustProxy ??= [];
  if (c.loginMaxLockoutSeconds < c.loginLockoutSeconds)
    throw new ConfigError('loginMaxLockoutSeconds', 'must be at least loginLockoutSeconds');
  if (c.refreshTokenAbsoluteTtl < c.refreshTokenTtl)
    throw new ConfigError('refreshTokenAbsoluteTtl', 'must be at least refreshTokenTtl');
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

export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

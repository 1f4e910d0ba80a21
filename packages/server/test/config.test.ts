import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { ConfigError } from '@tessera/core';
import { createServer, loadConfig, SETTINGS, type SettingName, type SettingSpec } from '@tessera/server';
import { loadMasterKey } from '@tessera/server/internal';

/** Asserts that `fn` throws a ConfigError for `setting`, whose message names it. */
function throwsFor(fn: () => unknown, setting: string, why = ''): void {
  assert.throws(
    fn,
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `${why}: ${String(err)}`);
      assert.equal(err.code, 'ERR_CONFIG');
      assert.equal(err.option, setting, `${why}: ${err.message}`);
      assert.ok(err.message.includes(setting), `${why}: ${err.message}`);
      return true;
    },
    why,
  );
}

/** Values the schema must refuse, by type. */
function badValues(spec: SettingSpec): string[] {
  switch (spec.type) {
    case 'integer':
      return [
        'abc',
        '1.5',
        '12abc',
        '0x10',
        ...(spec.min !== undefined ? [String(spec.min - 1)] : []),
        ...(spec.max !== undefined ? [String(spec.max + 1)] : []),
      ];
    case 'boolean':
      return ['yes', 'maybe', '2'];
    case 'enum':
      return ['none', spec.values![0]!.toUpperCase() + '!'];
    case 'url':
      return ['not a url', 'ftp://example.com', 'https://example.com/?q=1', 'https://example.com/#top'];
    case 'string':
    case 'path':
      return ['   '];
    case 'object':
      return ['{}'];
    case 'objects':
      return ['{}', '[1]', 'not json', '[{"a":1}'];
    case 'list':
      return [];
    case 'addresses':
      return ['true', '1', 'proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', '10.0.0.1/x'];
  }
}

describe('configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  it('has documented defaults', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
      if (spec.default === undefined || name === 'dataDir') continue;
      assert.equal(c[name], spec.default, name);
    }
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 4000);
    assert.equal(c.signingAlg, 'ES256');
    assert.equal(c.singleApp, false);
    assert.equal(c.accessTokenTtl, 600);
    assert.equal(c.jwksMaxAge, 300);
    assert.equal(c.dataDir, join(dir, '.tessera'));
    assert.equal(c.database, join(dir, '.tessera', 'tessera.db'));
    assert.equal(c.masterKeyFile, join(dir, '.tessera', 'master.key'));
    assert.equal(c.masterKey, undefined);
    assert.equal(c.issuer, 'http://127.0.0.1:4000');
    assert.equal(c.issuerConfigured, false);
  });

  it('reads the file, then TESSERA_* variables, then overrides (later wins)', () => {
    const path = file('precedence.json', {
      $schema: './schema.json',
      port: 5000,
      logLevel: 'warn',
      jwksMaxAge: 100,
      host: '0.0.0.0',
      dataDir: 'data',
      trustProxy: ['10.0.0.0/8'],
    });
    const env = {
      TESSERA_PORT: '6000',
      TESSERA_LOG_LEVEL: 'error',
      TESSERA_HOST: '',
      TESSERA_TRUST_PROXY: 'false',
      TESSERA_ACCESS_TOKEN_TTL: ' 120 ',
    };
    const c = loadConfig({ file: path, env, overrides: { port: 7000 } });
    assert.equal(c.port, 7000, 'override over env over file');
    assert.equal(c.logLevel, 'error', 'env over file');
    assert.equal(c.jwksMaxAge, 100, 'file over default');
    assert.equal(c.host, '0.0.0.0', 'an empty variable is unset');
    assert.deepEqual(c.trustProxy, [], '`false` trusts no proxy');
    assert.equal(c.accessTokenTtl, 120, 'surrounding white space is trimmed');
    assert.equal(c.dataDir, join(dir, 'data'), "relative to the config file's folder");
    assert.equal(c.issuer, 'http://0.0.0.0:7000');
    const issued = loadConfig({ env: { TESSERA_ISSUER: 'https://auth.example.com/' } });
    assert.equal(issued.issuer, 'https://auth.example.com');
    assert.equal(issued.issuerConfigured, true);
  });

  it('refuses every bad value with a ConfigError naming the setting, from each source', () => {
    let checked = 0;
    for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
      for (const bad of badValues(spec)) {
        throwsFor(() => loadConfig({ env: { [spec.env!]: bad } }), name, `${spec.env}=${bad}`);
        throwsFor(() => loadConfig({ env: {}, file: file('bad.json', { [name]: bad }) }), name, `file ${name}: ${bad}`);
        throwsFor(() => loadConfig({ env: {}, overrides: { [name]: bad } }), name, `override ${name}: ${bad}`);
        checked++;
      }
    }
    assert.ok(checked > 40, `${checked} bad values`);
    // Wrong JSON types in the file.
    throwsFor(() => loadConfig({ env: {}, file: file('bad.json', { port: 4000.5 }) }), 'port', 'port 4000.5');
    throwsFor(() => loadConfig({ env: {}, file: file('bad.json', { host: 7 }) }), 'host', 'host 7');
    throwsFor(() => loadConfig({ env: {}, file: file('bad.json', { singleApp: 'yes' }) }), 'singleApp', 'singleApp yes');
    throwsFor(() => loadConfig({ env: {}, file: file('bad.json', { logLevel: ['info'] }) }), 'logLevel', 'logLevel list');
  });

  it('names the setting in the message: TESSERA_PORT=abc', () => {
    assert.throws(() => loadConfig({ env: { TESSERA_PORT: 'abc' } }), /port.*TESSERA_PORT/);
  });

  it('refuses an unknown key, bad JSON and a missing file', () => {
    throwsFor(() => loadConfig({ env: {}, file: file('unknown.json', { prot: 4000 }) }), 'prot', 'unknown key');
    assert.throws(() => loadConfig({ env: {}, file: file('unknown.json', { prot: 4000 }) }), /unknown setting/);
    throwsFor(() => loadConfig({ env: {}, file: file('broken.json', '{"port": 4000,') }), 'config', 'bad JSON');
    throwsFor(() => loadConfig({ env: {}, file: file('array.json', [1, 2]) }), 'config', 'not an object');
    throwsFor(() => loadConfig({ env: {}, file: join(dir, 'missing.json') }), 'config', 'missing file');
  });

  it('checks settings against each other', () => {
    throwsFor(() => loadConfig({ env: { TESSERA_SIGNING_ALG: 'HS256' } }), 'signingAlg', 'HS256 without singleApp');
    throwsFor(() => loadConfig({ env: { TESSERA_SINGLE_APP: 'true' } }), 'singleApp', 'singleApp with ES256');
    assert.equal(loadConfig({ env: { TESSERA_SIGNING_ALG: 'HS256', TESSERA_SINGLE_APP: 'true' } }).singleApp, true);
    throwsFor(
      () => loadConfig({ env: {}, overrides: { refreshTokenTtl: 7200, refreshTokenAbsoluteTtl: 3600 } }),
      'refreshTokenAbsoluteTtl',
      'absolute < idle',
    );
    throwsFor(
      () => loadConfig({ env: {}, overrides: { sessionIdleTtl: 7200, sessionAbsoluteTtl: 3600 } }),
      'sessionAbsoluteTtl',
      'session absolute < idle',
    );
    throwsFor(
      () => loadConfig({ env: {}, overrides: { keyRotationInterval: 3600, jwksMaxAge: 3000, accessTokenTtl: 600 } }),
      'keyRotationInterval',
      'rotation too short',
    );
  });

  it('xff-trust-anyone: refuses trustProxy true, which would let any client choose its address', () => {
    for (const load of [
      () => loadConfig({ env: {}, file: file('trust.json', { trustProxy: true }) }),
      () => loadConfig({ env: { TESSERA_TRUST_PROXY: 'true' } }),
      () => loadConfig({ env: {}, overrides: { trustProxy: true } }),
    ]) {
      throwsFor(load, 'trustProxy', 'trustProxy true');
      assert.throws(load, /trustProxy.*would trust X-Forwarded-For from any client/);
    }
    const c = loadConfig({ env: { TESSERA_TRUST_PROXY: ' loopback, 10.0.0.0/8 ,192.168.1.5, fd00::/8 ' } });
    assert.deepEqual(c.trustProxy, ['loopback', '10.0.0.0/8', '192.168.1.5', 'fd00::/8']);
    assert.deepEqual(loadConfig({ env: {} }).trustProxy, [], 'unset: no proxy trusted');
    throwsFor(
      () => loadConfig({ env: {}, overrides: { loginLockoutSeconds: 600, loginMaxLockoutSeconds: 300 } }),
      'loginMaxLockoutSeconds',
      'max lockout < lockout',
    );
  });

  it('refuses a master key file readable by others (mode 0644)', async () => {
    const keyFile = join(dir, 'master.key');
    writeFileSync(keyFile, randomBytes(32).toString('base64url') + '\n', { mode: 0o600 });
    chmodSync(keyFile, 0o644);
    throwsFor(() => loadMasterKey({ masterKey: undefined, masterKeyFile: keyFile, create: false }), 'masterKeyFile', '0644');
    assert.throws(() => loadMasterKey({ masterKey: undefined, masterKeyFile: keyFile, create: false }), /chmod 600/);
    await assert.rejects(
      createServer({ env: {}, overrides: { dataDir: dir, masterKeyFile: keyFile, port: 0, logLevel: 'silent' } }),
      (err: unknown) => err instanceof ConfigError && err.option === 'masterKeyFile',
    );
    chmodSync(keyFile, 0o640);
    throwsFor(() => loadMasterKey({ masterKey: undefined, masterKeyFile: keyFile, create: false }), 'masterKeyFile', '0640');
    chmodSync(keyFile, 0o600);
    assert.ok(loadMasterKey({ masterKey: undefined, masterKeyFile: keyFile, create: false }));
    throwsFor(() => loadMasterKey({ masterKey: 'too-short', masterKeyFile: keyFile, create: false }), 'masterKey', 'short key');
  });

  it('docs/configuration.md is what scripts/config-doc.mjs renders from the schema', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const r = spawnSync(process.execPath, ['scripts/config-doc.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import { ConfigError } from '@tessera/core';
import { loadConfig } from '@tessera/server';

import { startServer } from './helpers/server.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asserts a ConfigError for `setting` whose message says `why`. */
function refuses(fn: () => unknown, setting: string, why: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.option, setting, err.message);
    assert.match(err.message, why);
    return true;
  });
}

describe('configuration: workloadIssuers', () => {
  let dir: string;
  let privateKey: KeyLike;
  let jwk: JWK;
  const iss = 'https://ci.example.com';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-issuers-config-'));
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'ci-1', alg: 'ES256', use: 'sig' };
    mkdirSync(join(dir, 'conf', 'keys'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'keys', 'ci.jwks.json'), JSON.stringify({ keys: [jwk] }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (extra: Record<string, unknown> = {}) => ({
    name: 'ci',
    issuer: iss,
    keys: { jwks_file: 'keys/ci.jwks.json' },
    audience: 'tessera',
    rules: [{ client: 'orders', claims: { repository: 'acme/orders' } }],
    ...extra,
  });

  /** A config file in dir/conf (a relative path in it resolves there, whatever the working directory). */
  const configFile = (json: unknown) => {
    const path = join(dir, 'conf', 'tessera.json');
    writeFileSync(path, JSON.stringify(json));
    return path;
  };

  it('reads a jwks_file relative to the config file into the keys', () => {
    const c = loadConfig({ env: {}, file: configFile({ workloadIssuers: [entry()] }) });
    assert.equal(c.workloadIssuers.length, 1);
    const [ci] = c.workloadIssuers;
    assert.equal(ci!.name, 'ci');
    assert.deepEqual(ci!.keys, { kind: 'static', jwks: { keys: [jwk] } });
    assert.equal(ci!.singleUse, true);
    assert.deepEqual(loadConfig({ env: {} }).workloadIssuers, []);
  });

  it('reads TESSERA_WORKLOAD_ISSUERS as JSON text, over the file', () => {
    const fromEnv = {
      ...entry({ name: 'kube', issuer: 'https://kube.example.com' }),
      keys: { jwks_uri: 'https://kube.example.com/jwks' },
    };
    const c = loadConfig({
      env: { TESSERA_WORKLOAD_ISSUERS: JSON.stringify([fromEnv]) },
      file: configFile({ workloadIssuers: [entry()] }),
    });
    assert.deepEqual(
      c.workloadIssuers.map((i) => [i.name, i.keys]),
      [['kube', { kind: 'jwks_uri', url: 'https://kube.example.com/jwks' }]],
    );
    refuses(
      () => loadConfig({ env: { TESSERA_WORKLOAD_ISSUERS: '[{"name": "ci"' } }),
      'workloadIssuers',
      /not valid JSON\) \(from TESSERA_WORKLOAD_ISSUERS\)$/,
    );
    refuses(
      () => loadConfig({ env: { TESSERA_WORKLOAD_ISSUERS: '{"name": "ci"}' } }),
      'workloadIssuers',
      /JSON array of objects/,
    );
  });

  it('refuses a bad entry naming workloadIssuers[i] and why', () => {
    const good = entry();
    const cases: [unknown[], string, RegExp][] = [
      [[good, entry({ name: 'ci-2', audience: '' })], 'workloadIssuers[1]', /audience is required/],
      [[entry({ keys: { jwks_uri: 'http://ci.example.com/jwks' } })], 'workloadIssuers[0]', /keys\.jwks_uri must be https/],
      [[entry({ keys: { jwks_file: 'keys/missing.json' } })], 'workloadIssuers[0]', /cannot read .*conf\/keys\/missing\.json/],
      [
        [entry({ keys: { jwks_file: 'keys/ci.jwks.json', jwks_uri: 'https://x.example.com' } })],
        'workloadIssuers[0]',
        /alone in keys/,
      ],
      [
        [good, entry({ issuer: 'https://other.example.com' })],
        'workloadIssuers[1]',
        /the name ci is also workloadIssuers\[0\]'s/,
      ],
      [
        [good, entry({ name: 'ci-2' })],
        'workloadIssuers[1]',
        /the issuer https:\/\/ci\.example\.com is also workloadIssuers\[0\]'s/,
      ],
    ];
    for (const [issuers, setting, why] of cases)
      refuses(() => loadConfig({ env: {}, file: configFile({ workloadIssuers: issuers }) }), setting, why);
    writeFileSync(join(dir, 'conf', 'keys', 'broken.json'), '{"keys": [');
    refuses(
      () => loadConfig({ env: {}, file: configFile({ workloadIssuers: [entry({ keys: { jwks_file: 'keys/broken.json' } })] }) }),
      'workloadIssuers[0]',
      /broken\.json is not valid JSON/,
    );
  });

  it("authenticates a workload token by a config file's issuer", async () => {
    const t = await startServer({ file: configFile({ workloadIssuers: [entry()] }), dir: join(dir, 'data') });
    try {
      await t.client({
        id: 'orders',
        authMethod: 'workload_identity',
        grantTypes: ['client_credentials'],
        scopes: [],
        audiences: ['inventory'],
      });
      const token = (repository: string) =>
        new SignJWT({ repository, jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'ES256', kid: 'ci-1', typ: 'JWT' })
          .setIssuer(iss)
          .setSubject('repo:acme/orders')
          .setAudience('tessera')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey);
      const form = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, audience: 'inventory' };
      const ok = await t.form('/oauth/token', { ...form, client_assertion: await token('acme/orders') });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const other = await t.form('/oauth/token', { ...form, client_assertion: await token('acme/billing') });
      assert.equal(other.status, 401);
      assert.equal(other.body.error, 'invalid_client');
    } finally {
      await t.close();
    }
  });
});

/**
 * `tessera gateway`'s config file through the settings engine the auth server's configuration runs on:
 * defaults, every setting refused with an error naming it (unknown keys at any depth included), the two
 * environment variables, overrides checked like the file, and files named relatively found beside the config.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ConfigError, generateEncryptionKey } from '@tessera/core';
import { GATEWAY_SETTINGS, loadGatewayConfig, parseGatewayConfig } from '@tessera/realtime';
import { settingRefusals } from '@tessera/testing';

const MINIMAL = { issuer: 'https://auth.example.com/', channels: { namespaces: {} }, revocations: false };

/** Asserts a ConfigError for `setting` whose message names it and says `why`. */
const refuses = settingRefusals(ConfigError);

describe('gateway config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-gateway-config-'));
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'cert.pem'), 'CERT');
    writeFileSync(join(dir, 'tls', 'key.pem'), 'KEY');
    writeFileSync(join(dir, 'feed.secret'), '  from-the-file\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const parse = (json: unknown, env: Record<string, string> = {}, overrides?: Record<string, unknown>) =>
    parseGatewayConfig(json, dir, { env, ...(overrides ? { overrides } : {}) });

  it('has the documented defaults', () => {
    const c = parse(MINIMAL);
    assert.equal(c.issuer, 'https://auth.example.com');
    assert.equal(c.audience, GATEWAY_SETTINGS.audience.default);
    assert.deepEqual(c.algorithms, ['ES256', 'EdDSA', 'RS256']);
    assert.equal(c.externalOrigin, undefined);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8000);
    assert.equal(c.tls, undefined);
    assert.deepEqual(c.channels, { namespaces: {} });
    assert.equal(c.redisUrl, undefined);
    assert.equal(c.revocations, false);
    assert.deepEqual(c.limits, {});
    assert.equal(c.path, undefined);
    assert.equal(c.apiPath, undefined);
  });

  it('refuses an unknown setting, at the top or inside an object, naming it', () => {
    refuses(() => parse({ ...MINIMAL, prot: 8000 }), 'prot', /^prot: unknown setting \(from the config file\)$/);
    refuses(
      () => parse({ ...MINIMAL, tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem', ca: 'x' } }),
      'tls.ca',
      /unknown setting/,
    );
    refuses(() => parse({ ...MINIMAL, channels: { namespaces: {}, privat: {} } }), 'channels.privat', /unknown setting/);
    refuses(
      () => parse({ ...MINIMAL, revocations: { clientId: 'gw', clientSecret: 's' } }),
      'revocations.clientSecret',
      /never read from the config file: set TESSERA_GATEWAY_REVOCATION_SECRET/,
    );
    refuses(() => parse({ ...MINIMAL, limits: { nope: 1 } }), 'limits.nope', /is not a limit/);
  });

  it('refuses every value it cannot use, naming the setting', () => {
    const noIssuer: Record<string, unknown> = { ...MINIMAL };
    delete noIssuer.issuer;
    refuses(() => parse(noIssuer), 'issuer', /^issuer: must be the auth server URL$/);
    refuses(
      () => parse({ ...MINIMAL, issuer: 'auth.example.com' }),
      'issuer',
      /must be the auth server URL \(from the config file\)/,
    );
    refuses(() => parse({ ...MINIMAL, audience: '' }), 'audience', /non-empty string/);
    for (const algorithms of [[], ['HS256'], ['HS512'], ['none'], 'ES256,HS256', [1]])
      refuses(() => parse({ ...MINIMAL, algorithms }), 'algorithms', /must list asymmetric algorithms/);
    for (const port of [-1, 65536, 80.5, 'http'])
      refuses(() => parse({ ...MINIMAL, port }), 'port', /^port: must be a port number \(from the config file\)$/);
    refuses(() => parse({ ...MINIMAL, host: 7 }), 'host', /non-empty string/);
    for (const externalOrigin of [
      'https://rt.example.com/ws',
      'wss://rt.example.com',
      'rt.example.com',
      'https://rt.example.com?x=1',
    ])
      refuses(() => parse({ ...MINIMAL, externalOrigin }), 'externalOrigin', /must be an http\(s\) origin/);
    assert.equal(parse({ ...MINIMAL, externalOrigin: 'https://rt.example.com/' }).externalOrigin, 'https://rt.example.com');
    refuses(() => parse({ ...MINIMAL, tls: 'on' }), 'tls', /must be \{certFile, keyFile\}/);
    refuses(() => parse({ ...MINIMAL, tls: {} }), 'tls', /must be \{certFile, keyFile\}/);
    refuses(() => parse({ ...MINIMAL, tls: { certFile: 'tls/cert.pem' } }), 'tls.keyFile', /must be a file name/);
    refuses(() => parse({ ...MINIMAL, channels: {} }), 'channels', /must be \{namespaces, personal\}/);
    refuses(
      () => parse({ issuer: MINIMAL.issuer, revocations: false }),
      'channels.namespaces',
      /^channels\.namespaces: must be an object of namespaces by name \(\{\} for none\)$/,
    );
    refuses(() => parse({ ...MINIMAL, channels: { namespaces: [] } }), 'channels.namespaces', /must be an object of namespaces/);
    refuses(() => parse({ ...MINIMAL, channels: { namespaces: {}, personal: true } }), 'channels.personal', /object or false/);
    refuses(() => parse({ ...MINIMAL, redisUrl: 'http://cache:6379' }), 'redisUrl', /must be a redis:\/\/ URL/);
    refuses(() => parse({ ...MINIMAL, revocations: 'yes' }), 'revocations', /must be \{clientId, clientSecretFile\} \(or false/);
    refuses(() => parse({ ...MINIMAL, revocations: {} }), 'revocations', /must be \{clientId, clientSecretFile\}/);
    refuses(() => parse({ ...MINIMAL, limits: 5 }), 'limits', /must be an object/);
    refuses(() => parse({ ...MINIMAL, limits: { publishRate: -1 } }), 'limits.publishRate', /non-negative number/);
    refuses(() => parse({ ...MINIMAL, path: 'ws' }), 'path', /must be a path starting with \//);
    refuses(() => parse({ ...MINIMAL, apiPath: 7 }), 'apiPath', /must be a path starting with \//);
    refuses(() => parse([MINIMAL]), 'config', /must hold a JSON object/);
  });

  it('the environment: TESSERA_REDIS_URL checked like the file and over it; the feed secret', () => {
    assert.equal(parse(MINIMAL, { TESSERA_REDIS_URL: 'redis://a:6379' }).redisUrl, 'redis://a:6379');
    assert.equal(
      parse({ ...MINIMAL, redisUrl: 'redis://file:6379' }, { TESSERA_REDIS_URL: 'redis://env:6379' }).redisUrl,
      'redis://env:6379',
    );
    refuses(() => parse(MINIMAL, { TESSERA_REDIS_URL: 'http://a' }), 'redisUrl', /\(from TESSERA_REDIS_URL\)/);
    const feed = { ...MINIMAL, revocations: { clientId: 'gw' } };
    assert.deepEqual(parse(feed, { TESSERA_GATEWAY_REVOCATION_SECRET: 's3' }).revocations, {
      clientId: 'gw',
      clientSecret: 's3',
    });
    refuses(
      () => parse(feed, { TESSERA_GATEWAY_REVOCATION_SECRET: '' }),
      'revocations',
      /needs clientSecretFile or TESSERA_GATEWAY_REVOCATION_SECRET/,
    );
    const fromFile = { ...MINIMAL, revocations: { clientId: 'gw', clientSecretFile: 'feed.secret' } };
    assert.deepEqual(parse(fromFile, { TESSERA_GATEWAY_REVOCATION_SECRET: 'env' }).revocations, {
      clientId: 'gw',
      clientSecret: 'from-the-file',
    });
  });

  it('overrides (the command line) win and are checked like the file', () => {
    assert.equal(parse({ ...MINIMAL, port: 9000 }, {}, { port: 0 }).port, 0);
    assert.equal(parse(MINIMAL, {}, { host: '0.0.0.0' }).host, '0.0.0.0');
    refuses(() => parse(MINIMAL, {}, { port: 70000 }), 'port', /must be a port number \(from options\)/);
  });

  it('decryptionKeyFile: a private JWK, a list or a JWKS beside the config file; a public key, no key or no JSON refused, naming it', () => {
    const key = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'gw-1' });
    const next = generateEncryptionKey('RSA-OAEP-256', { kid: 'gw-2' });
    writeFileSync(join(dir, 'one.jwk.json'), JSON.stringify(key.toJwk({ private: true })));
    writeFileSync(
      join(dir, 'jwks.json'),
      JSON.stringify({ keys: [key.toJwk({ private: true }), next.toJwk({ private: true })] }),
    );
    writeFileSync(join(dir, 'public.jwk.json'), JSON.stringify(key.publicKey().toJwk()));
    writeFileSync(join(dir, 'empty.json'), '[]');
    writeFileSync(join(dir, 'broken.json'), '{');
    assert.deepEqual(
      parse({ ...MINIMAL, decryptionKeyFile: 'one.jwk.json' }).decryptionKeys?.map((k) => [k.kid, k.kind]),
      [['gw-1', 'private']],
    );
    assert.deepEqual(
      parse({ ...MINIMAL, decryptionKeyFile: 'jwks.json' }).decryptionKeys?.map((k) => k.kid),
      ['gw-1', 'gw-2'],
    );
    assert.equal(parse(MINIMAL).decryptionKeys, undefined);
    refuses(() => parse({ ...MINIMAL, decryptionKeyFile: 'public.jwk.json' }), 'decryptionKeyFile', /not a private key/);
    refuses(() => parse({ ...MINIMAL, decryptionKeyFile: 'empty.json' }), 'decryptionKeyFile', /holds no key/);
    refuses(() => parse({ ...MINIMAL, decryptionKeyFile: 'broken.json' }), 'decryptionKeyFile', /is not JSON/);
    refuses(() => parse({ ...MINIMAL, decryptionKeyFile: 'missing.json' }), 'decryptionKeyFile', /missing\.json/);
  });

  it('files named relatively are read beside the config file; one missing is named with its path', () => {
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ ...MINIMAL, tls: { certFile: 'tls/cert.pem', keyFile: join(dir, 'tls', 'key.pem') } }));
    const c = loadGatewayConfig(file, { env: {} });
    assert.equal(c.tls?.cert.toString(), 'CERT');
    assert.equal(c.tls?.key.toString(), 'KEY');
    writeFileSync(file, JSON.stringify({ ...MINIMAL, tls: { certFile: 'tls/nope.pem', keyFile: 'tls/key.pem' } }));
    refuses(
      () => loadGatewayConfig(file, { env: {} }),
      'tls.certFile',
      new RegExp(`cannot read ${join(dir, 'tls', 'nope.pem')}: ENOENT`),
    );
    refuses(() => loadGatewayConfig(join(dir, 'missing.json')), 'config', /cannot read the config file/);
    writeFileSync(file, '{"issuer": ');
    refuses(() => loadGatewayConfig(file), 'config', /is not valid JSON/);
  });
});

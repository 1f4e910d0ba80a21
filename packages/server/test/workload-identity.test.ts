import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import { contextOf, parseWorkloadIssuer } from '@tessera/server/internal';

import { startServer, type TestServer } from './helpers/server.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('workload identity: a static-keys issuer', () => {
  let t: TestServer;
  let privateKey: KeyLike;
  let jwk: JWK;
  const iss = 'https://ci.example.com';

  before(async () => {
    t = await startServer();
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'ci-1', alg: 'ES256', use: 'sig' };
    await t.client({
      id: 'orders',
      authMethod: 'workload_identity',
      grantTypes: ['client_credentials'],
      scopes: ['inventory:read'],
      audiences: ['inventory'],
    });
    const now = Date.now();
    await contextOf(t.server).store.workloadIssuers.create({
      ...parseWorkloadIssuer({
        name: 'ci',
        issuer: iss,
        keys: { jwks: { keys: [jwk] } },
        audience: t.url,
        single_use: true,
        rules: [{ client: 'orders', claims: { repository: 'acme/orders', ref: 'refs/heads/main' } }],
      }),
      createdAt: now,
      updatedAt: now,
    });
  });
  after(() => t.close());

  const token = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ repository: 'acme/orders', ref: 'refs/heads/main', jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'ci-1', typ: 'JWT' })
      .setIssuer(iss)
      .setSubject('repo:acme/orders:ref:refs/heads/main')
      .setAudience(t.url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  it('exchanges a workload token for an access token naming the client and the workload', async () => {
    const r = await t.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await token(),
      audience: 'inventory',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const claims = decodeJwt(r.body.access_token);
    assert.equal(claims.sub, 'orders');
    assert.equal(claims.client_id, 'orders');
    assert.deepEqual(claims.workload, { iss, sub: 'repo:acme/orders:ref:refs/heads/main' });
  });

  it('refuses a replayed jti, another branch and a client_id the rule does not name', async () => {
    const once = await token();
    const form = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: once };
    assert.equal((await t.form('/oauth/token', form)).status, 200);
    const replay = await t.form('/oauth/token', form);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_client');
    const branch = await t.form('/oauth/token', { ...form, client_assertion: await token({ ref: 'refs/heads/dev' }) });
    assert.equal(branch.body.error, 'invalid_client');
    const other = await t.form('/oauth/token', { ...form, client_id: 'billing', client_assertion: await token() });
    assert.equal(other.body.error, 'invalid_client');
  });

  it('grants by the JWT bearer grant without client credentials', async () => {
    const r = await t.form('/oauth/token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: await token(),
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'unauthorized_client');
  });
});

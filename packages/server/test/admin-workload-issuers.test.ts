import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import { adminAudience } from '@tessera/server/internal';

import { adminAs, tokenOf } from './helpers/admin-api.js';
import { createSchema, dropSchema, POSTGRES_MISSING, postgresAvailable, urlWithSchema } from './helpers/postgres.js';
import { startServer, type TestServer } from './helpers/server.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const postgres = await postgresAvailable();

/** The same suite on a SQLite file and on PostgreSQL (a schema of its own; skipped without PostgreSQL). */
for (const db of ['sqlite', 'postgres'] as const)
  describe(`admin API: workload issuers (${db})`, { skip: db === 'postgres' && !postgres ? POSTGRES_MISSING : false }, () => {
    issuersApi(db);
  });

function issuersApi(db: 'sqlite' | 'postgres'): void {
  let t: TestServer;
  let schema: string | undefined;
  let privateKey: KeyLike;
  let jwk: JWK;
  const ciIss = 'https://ci.example.com';
  /** An issuer of the config file (here: the overrides, read by the same settings engine). */
  const configured = {
    name: 'cluster',
    issuer: 'https://kube.example.com',
    keys: { jwks_uri: 'https://kube.example.com/openid/v1/jwks' },
    audience: 'tessera',
    single_use: false,
    rules: [{ client: 'orders', claims: { sub: 'system:serviceaccount:shop:orders' } }],
  };

  before(async () => {
    if (db === 'postgres') schema = await createSchema();
    t = await startServer({
      overrides: { workloadIssuers: [configured], ...(schema !== undefined ? { database: urlWithSchema(schema) } : {}) },
    });
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
    await t.client({ id: 'billing', grantTypes: ['client_credentials'], scopes: [], audiences: ['inventory'] });
  });
  after(async () => {
    await t.close();
    if (schema !== undefined) await dropSchema(schema);
  });

  /** The wire form of the CI issuer (static keys, single-use tokens). */
  const ci = (extra: Record<string, unknown> = {}) => ({
    name: 'ci',
    issuer: ciIss,
    keys: { jwks: { keys: [jwk] } },
    audience: t.url,
    rules: [{ client: 'orders', claims: { repository: 'acme/orders', ref: 'refs/heads/*' } }],
    ...extra,
  });

  const token = () =>
    new SignJWT({ repository: 'acme/orders', ref: 'refs/heads/main', jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'ci-1', typ: 'JWT' })
      .setIssuer(ciIss)
      .setSubject('repo:acme/orders:ref:refs/heads/main')
      .setAudience(t.url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  const exchange = async () =>
    t.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await token(),
      audience: 'inventory',
    });

  const names = async () =>
    ((await t.admin('GET', '/admin/workload-issuers')).body.items as { name: string }[]).map((i) => i.name);

  it('adds an issuer whose tokens then authenticate its client, and after DELETE no longer do', async () => {
    const refusedBefore = await exchange();
    assert.equal(refusedBefore.status, 401);
    assert.equal(refusedBefore.body.error, 'invalid_client');

    const r = await t.admin('POST', '/admin/workload-issuers', ci());
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.source, 'admin');
    assert.equal(r.body.single_use, true);
    assert.deepEqual(r.body.algorithms, ['RS256', 'ES256']);
    assert.equal(typeof r.body.created_at, 'number');

    const granted = await exchange();
    assert.equal(granted.status, 200, JSON.stringify(granted.body));

    const del = await t.admin('DELETE', '/admin/workload-issuers/ci');
    assert.equal(del.status, 204);
    assert.equal(del.body, undefined);
    const refused = await exchange();
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_client');
    assert.equal((await t.admin('GET', '/admin/workload-issuers/ci')).status, 404);
  });

  it('lists the config file issuer (source config) beside the stored ones, and gets one by name', async () => {
    assert.equal((await t.admin('POST', '/admin/workload-issuers', ci({ name: 'ci-list' }))).status, 201);
    const list = await t.admin('GET', '/admin/workload-issuers');
    assert.equal(list.status, 200);
    const byName = Object.fromEntries((list.body.items as { name: string; source: string }[]).map((i) => [i.name, i]));
    assert.deepEqual(Object.keys(byName).sort(), ['ci-list', 'cluster']);
    assert.deepEqual(byName.cluster, { ...configured, algorithms: ['RS256', 'ES256'], max_token_age: 3600, source: 'config' });
    const one = await t.admin('GET', '/admin/workload-issuers/ci-list');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, byName['ci-list']);
    assert.equal((await t.admin('DELETE', '/admin/workload-issuers/ci-list')).status, 204);
  });

  it('replaces a stored issuer (PUT), keeping its created_at; refuses another name in the body', async () => {
    const created = await t.admin('POST', '/admin/workload-issuers', ci({ name: 'ci-put' }));
    assert.equal(created.status, 201);
    const body: Record<string, unknown> = ci({ single_use: false, max_token_age: 300, algorithms: ['ES256'] });
    delete body.name;
    const put = await t.admin('PUT', '/admin/workload-issuers/ci-put', body);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.name, 'ci-put');
    assert.equal(put.body.single_use, false);
    assert.equal(put.body.max_token_age, 300);
    assert.deepEqual(put.body.algorithms, ['ES256']);
    assert.equal(put.body.created_at, created.body.created_at);
    assert.deepEqual((await t.admin('GET', '/admin/workload-issuers/ci-put')).body, put.body);

    const renamed = await t.admin('PUT', '/admin/workload-issuers/ci-put', ci({ name: 'other' }));
    assert.equal(renamed.status, 400);
    assert.equal(renamed.body.error, 'invalid_request');
    assert.equal((await t.admin('PUT', '/admin/workload-issuers/nope', body)).status, 404);
    assert.equal((await t.admin('DELETE', '/admin/workload-issuers/ci-put')).status, 204);
  });

  it('refuses a bad body with 400 and stores nothing', async () => {
    const before = await names();
    const bad: [unknown, RegExp][] = [
      [{ ...ci(), keys: { jwks_uri: 'http://keys.example.com/jwks' } }, /keys\.jwks_uri must be https/],
      [{ ...ci(), rules: [] }, /rules must be a non-empty list/],
      [{ ...ci(), max_token_age: 0 }, /max_token_age/],
      [{ ...ci(), extra: 1 }, /unknown field extra/],
      [{ ...ci(), name: 'Not A Name' }, /name must be/],
      [{ ...ci(), rules: [{ client: 'ghost', claims: { sub: 'x' } }] }, /rules\[0\]\.client: no client ghost/],
      [
        { ...ci(), rules: [{ client: 'billing', claims: { sub: 'x' } }] },
        /billing authenticates by client_secret_basic, not workload_identity/,
      ],
      [[ci()], /must be object|workload issuer must be an object/],
    ];
    for (const [body, why] of bad) {
      const r = await t.admin('POST', '/admin/workload-issuers', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'invalid_request');
      assert.match(r.body.error_description, why);
    }
    const notJson = await adminAs(t, await t.adminToken(), 'POST', '/admin/workload-issuers', '{"name":');
    assert.equal(notJson.status, 400);
    assert.deepEqual(await names(), before);
  });

  it('refuses a taken name or issuer with 409, and an unknown one with 404', async () => {
    assert.equal((await t.admin('POST', '/admin/workload-issuers', ci({ name: 'ci-dup' }))).status, 201);
    const sameName = await t.admin('POST', '/admin/workload-issuers', ci({ name: 'ci-dup', issuer: 'https://ci2.example.com' }));
    assert.equal(sameName.status, 409);
    assert.equal(sameName.body.error, 'conflict');
    const sameIssuer = await t.admin('POST', '/admin/workload-issuers', ci({ name: 'ci-dup-2' }));
    assert.equal(sameIssuer.status, 409);
    assert.equal((await t.admin('GET', '/admin/workload-issuers/ci-dup')).body.issuer, ciIss);
    assert.equal((await t.admin('GET', '/admin/workload-issuers/nope')).status, 404);
    const gone = await t.admin('DELETE', '/admin/workload-issuers/nope');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error, 'not_found');
    assert.equal((await t.admin('DELETE', '/admin/workload-issuers/ci-dup')).status, 204);
  });

  it("keeps the config file's issuer read-only: 409 on PUT, DELETE, and a POST of its name or issuer", async () => {
    const body: Record<string, unknown> = { ...configured };
    delete body.name;
    for (const r of [
      await t.admin('PUT', '/admin/workload-issuers/cluster', body),
      await t.admin('DELETE', '/admin/workload-issuers/cluster'),
      await t.admin('POST', '/admin/workload-issuers', { ...configured, issuer: 'https://other.example.com' }),
    ]) {
      assert.equal(r.status, 409);
      assert.equal(r.body.error, 'conflict');
      assert.match(r.body.error_description, /cluster is set in the config file \(workloadIssuers\)/);
    }
    const sameIssuer = await t.admin('POST', '/admin/workload-issuers', { ...configured, name: 'cluster-2' });
    assert.equal(sameIssuer.status, 409);
    assert.match(sameIssuer.body.error_description, /config file's workload issuer cluster/);
    assert.equal((await t.admin('GET', '/admin/workload-issuers/cluster')).body.source, 'config');
  });

  it('records each change in the audit trail with its actor', async () => {
    assert.equal((await t.admin('POST', '/admin/workload-issuers', ci({ name: 'ci-audit' }))).status, 201);
    assert.equal((await t.admin('PUT', '/admin/workload-issuers/ci-audit', ci({ name: 'ci-audit' }))).status, 200);
    assert.equal((await t.admin('DELETE', '/admin/workload-issuers/ci-audit')).status, 204);
    const events = (await t.server.admin.audit.query({ type: 'admin.workload_issuer.*', limit: 500 })).filter(
      (e) => e.data.name === 'ci-audit',
    );
    assert.deepEqual(
      events.map((e) => [e.type, e.actor]),
      [
        ['admin.workload_issuer.removed', 'test-admin'],
        ['admin.workload_issuer.replaced', 'test-admin'],
        ['admin.workload_issuer.added', 'test-admin'],
      ],
    );
  });

  it('refuses callers without an admin token: 401 without one, 403 without the scope', async () => {
    assert.equal((await adminAs(t, undefined, 'GET', '/admin/workload-issuers')).status, 401);
    const c = await t.client({
      id: 'reporting',
      grantTypes: ['client_credentials'],
      scopes: ['reports:read'],
      audiences: [adminAudience(t.url)],
    });
    const weak = await tokenOf(t, c);
    const r = await adminAs(t, weak, 'POST', '/admin/workload-issuers', ci({ name: 'ci-weak' }));
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'insufficient_scope');
    assert.equal((await adminAs(t, weak, 'DELETE', '/admin/workload-issuers/cluster')).status, 403);
    assert.ok(!(await names()).includes('ci-weak'));
  });
}

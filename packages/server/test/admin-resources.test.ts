import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { adminAs } from './helpers/admin-api.js';
import { createSchema, dropSchema, POSTGRES_MISSING, postgresAvailable, urlWithSchema } from './helpers/postgres.js';
import { startServer, type TestServer } from './helpers/server.js';

const postgres = await postgresAvailable();

/** A public JWK of a new key pair (node:crypto), with these members added. */
function publicJwk(pair: { publicKey: KeyObject }, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...pair.publicKey.export({ format: 'jwk' }), ...extra };
}
const p256 = (kid: string) => publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), { kid, alg: 'ECDH-ES+A256KW' });
const x25519 = (kid: string) => publicJwk(generateKeyPairSync('x25519'), { kid, alg: 'ECDH-ES' });
const rsa = (kid: string, bits = 2048) =>
  publicJwk(generateKeyPairSync('rsa', { modulusLength: bits }), { kid, alg: 'RSA-OAEP-256' });

/** The same suite on a SQLite file and on PostgreSQL (a schema of its own; skipped without PostgreSQL). */
for (const db of ['sqlite', 'postgres'] as const)
  describe(`admin API: resources (${db})`, { skip: db === 'postgres' && !postgres ? POSTGRES_MISSING : false }, () => {
    resourcesApi(db);
  });

function resourcesApi(db: 'sqlite' | 'postgres'): void {
  let t: TestServer;
  let schema: string | undefined;

  before(async () => {
    if (db === 'postgres') schema = await createSchema();
    t = await startServer({ overrides: schema !== undefined ? { database: urlWithSchema(schema) } : {} });
  });
  after(async () => {
    await t.close();
    if (schema !== undefined) await dropSchema(schema);
  });

  const payroll = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    resource: `https://${name}.example`,
    encrypt_access_tokens: true,
    encryption_keys: [p256(`${name}-1`)],
    access_token_claims: ['email', 'name'],
    ...extra,
  });

  it('registers a resource, lists it, gets it, replaces it keeping created_at, and removes it', async () => {
    const created = await t.admin('POST', '/admin/resources', payroll('payroll'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.resource, 'https://payroll.example');
    assert.equal(created.body.encrypt_access_tokens, true);
    assert.deepEqual(created.body.access_token_claims, ['email', 'name']);
    const [key] = created.body.encryption_keys as Record<string, unknown>[];
    // Only the public members, the kid, alg and use: enc.
    assert.deepEqual(Object.keys(key!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(key!.use, 'enc');

    const list = await t.admin('GET', '/admin/resources');
    assert.deepEqual(
      (list.body.items as { name: string }[]).map((r) => r.name),
      ['payroll'],
    );
    assert.deepEqual((await t.admin('GET', '/admin/resources/payroll')).body, created.body);

    const body: Record<string, unknown> = payroll('payroll', { encrypt_access_tokens: false, access_token_claims: [] });
    delete body.name;
    const put = await t.admin('PUT', '/admin/resources/payroll', body);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.encrypt_access_tokens, false);
    assert.equal(put.body.created_at, created.body.created_at);
    assert.equal((await t.admin('PUT', '/admin/resources/payroll', payroll('other'))).status, 400);

    assert.equal((await t.admin('DELETE', '/admin/resources/payroll')).status, 204);
    assert.equal((await t.admin('GET', '/admin/resources/payroll')).status, 404);
    assert.equal((await t.admin('DELETE', '/admin/resources/payroll')).status, 404);
  });

  it('refuses a name or identifier taken (409), and changes nothing', async () => {
    assert.equal((await t.admin('POST', '/admin/resources', payroll('hr'))).status, 201);
    const sameName = await t.admin('POST', '/admin/resources', payroll('hr', { resource: 'https://elsewhere.example' }));
    assert.equal(sameName.status, 409);
    const sameResource = await t.admin('POST', '/admin/resources', payroll('hr2', { resource: 'https://hr.example' }));
    assert.equal(sameResource.status, 409);
    assert.equal((await t.admin('GET', '/admin/resources/hr2')).status, 404);
    assert.equal((await t.admin('DELETE', '/admin/resources/hr')).status, 204);
  });

  it('refuses keys that are private, too small, off their curve, of the wrong type for their alg, or of another alg', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateJwk = { ...ec.privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'ECDH-ES' };
    const offCurve = { ...p256('k'), y: p256('other').y };
    const cases: [string, unknown, RegExp][] = [
      ['private', privateJwk, /private key material \(d\)/],
      ['RSA 1024', rsa('k', 1024), /1024 bits; at least 2048/],
      ['off the curve', offCurve, /not a usable public key: invalid key material/],
      ['EC key for RSA-OAEP-256', { ...p256('k'), alg: 'RSA-OAEP-256' }, /needs an RSA key/],
      ['RSA1_5', { ...rsa('k'), alg: 'RSA1_5' }, /alg must be one of/],
      ['PBES2', { ...p256('k'), alg: 'PBES2-HS256+A128KW' }, /alg must be one of/],
      [
        'secp256k1',
        publicJwk(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }), { kid: 'k', alg: 'ECDH-ES' }),
        /needs an EC P-256, P-384 or X25519 key/,
      ],
      ['use sig', { ...p256('k'), use: 'sig' }, /key use is not "enc"/],
      ['symmetric', { kty: 'oct', k: 'AAAA', kid: 'k', alg: 'ECDH-ES' }, /private key material \(k\)/],
    ];
    for (const [what, key, message] of cases) {
      const r = await t.admin('POST', '/admin/resources', payroll('refused', { encryption_keys: [key] }));
      assert.equal(r.status, 400, what);
      assert.equal(r.body.error, 'invalid_request', what);
      assert.match(String(r.body.error_description), message, what);
    }
    const noKeys = await t.admin('POST', '/admin/resources', payroll('refused', { encryption_keys: [] }));
    assert.match(String(noKeys.body.error_description), /needs at least one key/);
    const claimsInTheClear = await t.admin('POST', '/admin/resources', payroll('refused', { encrypt_access_tokens: false }));
    assert.match(String(claimsInTheClear.body.error_description), /encrypted tokens only/);
    const unknownClaim = await t.admin('POST', '/admin/resources', payroll('refused', { access_token_claims: ['password'] }));
    assert.match(String(unknownClaim.body.error_description), /password is not one of/);
    const twoSameKid = await t.admin(
      'POST',
      '/admin/resources',
      payroll('refused', { encryption_keys: [p256('a'), x25519('a')] }),
    );
    assert.match(String(twoSameKid.body.error_description), /same kid/);
    assert.equal((await t.admin('GET', '/admin/resources/refused')).status, 404);
  });

  it('adds keys as the newest (RSA, X25519, kid from the thumbprint when absent), removes them, keeps the last of an encrypting resource', async () => {
    assert.equal((await t.admin('POST', '/admin/resources', payroll('ledger'))).status, 201);
    const added = await t.admin('POST', '/admin/resources/ledger/keys', rsa('ledger-2'));
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const noKid = x25519('ignored');
    delete noKid.kid;
    const third = await t.admin('POST', '/admin/resources/ledger/keys', noKid);
    assert.equal(third.status, 201, JSON.stringify(third.body));
    const kids = (third.body.encryption_keys as { kid: string }[]).map((k) => k.kid);
    assert.equal(kids.length, 3);
    assert.deepEqual(kids.slice(0, 2), ['ledger-1', 'ledger-2']);
    assert.match(kids[2]!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await t.admin('POST', '/admin/resources/ledger/keys', rsa('ledger-2'))).status, 409);

    assert.equal((await t.admin('DELETE', '/admin/resources/ledger/keys/ledger-1')).status, 200);
    assert.equal((await t.admin('DELETE', `/admin/resources/ledger/keys/${kids[2]}`)).status, 200);
    assert.equal((await t.admin('DELETE', '/admin/resources/ledger/keys/nope')).status, 404);
    const last = await t.admin('DELETE', '/admin/resources/ledger/keys/ledger-2');
    assert.equal(last.status, 409);
    assert.deepEqual(
      ((await t.admin('GET', '/admin/resources/ledger')).body.encryption_keys as { kid: string }[]).map((k) => k.kid),
      ['ledger-2'],
    );
  });

  it('loses no key to concurrent additions (compare and set)', async () => {
    assert.equal((await t.admin('POST', '/admin/resources', payroll('busy'))).status, 201);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.admin('POST', '/admin/resources/busy/keys', p256(`busy-${i + 2}`))),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [201, 201, 201, 201, 201, 201],
    );
    const kids = ((await t.admin('GET', '/admin/resources/busy')).body.encryption_keys as { kid: string }[]).map((k) => k.kid);
    assert.deepEqual([...kids].sort(), ['busy-1', 'busy-2', 'busy-3', 'busy-4', 'busy-5', 'busy-6', 'busy-7']);
  });

  it('records each change in the audit trail with its actor', async () => {
    assert.equal((await t.admin('POST', '/admin/resources', payroll('audited'))).status, 201);
    assert.equal((await t.admin('POST', '/admin/resources/audited/keys', p256('audited-2'))).status, 201);
    assert.equal((await t.admin('DELETE', '/admin/resources/audited/keys/audited-1')).status, 200);
    assert.equal((await t.admin('DELETE', '/admin/resources/audited')).status, 204);
    const events = (await t.server.admin.audit.query({ type: 'admin.resource.*', limit: 500 })).filter(
      (e) => e.data.name === 'audited',
    );
    assert.deepEqual(
      events.map((e) => [e.type, e.actor]),
      [
        ['admin.resource.removed', 'test-admin'],
        ['admin.resource.key_removed', 'test-admin'],
        ['admin.resource.key_added', 'test-admin'],
        ['admin.resource.added', 'test-admin'],
      ],
    );
  });

  it('refuses callers without an admin token', async () => {
    assert.equal((await adminAs(t, undefined, 'GET', '/admin/resources')).status, 401);
    assert.equal((await adminAs(t, undefined, 'POST', '/admin/resources', payroll('sneaky'))).status, 401);
    assert.equal((await t.admin('GET', '/admin/resources/sneaky')).status, 404);
  });
}

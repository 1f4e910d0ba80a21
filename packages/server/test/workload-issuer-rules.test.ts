/** The wire form of a trusted workload issuer (one parser for the admin API, the CLI and the config file) and its rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AdminInputError, matchRule, parseWorkloadIssuer, workloadIssuerView } from '@tessera/server/internal';

const base = {
  name: 'kube',
  issuer: 'https://kubernetes.default.svc',
  keys: { discovery: true },
  audience: 'https://auth.example.com',
  rules: [{ client: 'orders', claims: { sub: 'system:serviceaccount:shop:orders' } }],
};

function refused(input: Record<string, unknown>, message: RegExp): void {
  assert.throws(
    () => parseWorkloadIssuer(input),
    (err: unknown) => err instanceof AdminInputError && message.test(err.message),
  );
}

describe('parseWorkloadIssuer', () => {
  it('fills the defaults: RS256 and ES256, an hour, single use; and reads back its own view', () => {
    const i = parseWorkloadIssuer(base);
    assert.deepEqual(i.algorithms, ['RS256', 'ES256']);
    assert.equal(i.maxTokenAge, 3600);
    assert.equal(i.singleUse, true);
    assert.deepEqual(parseWorkloadIssuer(workloadIssuerView(i)), i);
  });

  it('refuses what would widen trust or cannot work', () => {
    refused({ ...base, name: 'Kube!' }, /name/);
    refused({ ...base, issuer: 'http://kubernetes.example' }, /https/);
    refused({ ...base, issuer: 'spiffe://example.org/ns' }, /trust domain/);
    refused({ ...base, issuer: 'spiffe://example.org', keys: { discovery: true } }, /spiffe_bundle_endpoint/);
    refused({ ...base, keys: { discovery: true, jwks_uri: 'https://k/jwks' } }, /exactly one/);
    refused({ ...base, keys: { jwks_uri: 'https://user:pw@k/jwks' } }, /credentials/);
    refused({ ...base, keys: { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } } }, /keys.jwks/);
    refused({ ...base, audience: '' }, /audience/);
    refused({ ...base, algorithms: ['HS256'] }, /algorithms/);
    refused({ ...base, algorithms: ['none'] }, /algorithms/);
    refused({ ...base, max_token_age: 0 }, /max_token_age/);
    refused({ ...base, max_token_age: 86_401 }, /max_token_age/);
    refused({ ...base, single_use: 'yes' }, /single_use/);
    refused({ ...base, rules: [] }, /rules/);
    refused({ ...base, rules: [{ client: 'orders', claims: {} }] }, /at least one claim/);
    refused({ ...base, rules: [{ client: 'orders', claims: { sub: '*' } }] }, /matches anything/);
    refused({ ...base, rules: [{ client: 'orders', claims: { sub: '**' } }] }, /matches anything/);
    refused({ ...base, rules: [{ client: 'orders', claims: { sub: 5 } }] }, /pattern/);
    refused({ ...base, rules: Array.from({ length: 101 }, () => base.rules[0]) }, /at most 100/);
    refused({ ...base, rules: [{ client: 'orders', claims: { sub: 'x' }, when: 'always' }] }, /unknown field when/);
    refused({ ...base, jwks_uri: 'https://k/jwks' }, /unknown field jwks_uri/);
    // JSON.parse keeps a member named __proto__ (a config file, the environment): refused, never dropped, for a
    // dropped claim would leave the rule matching every token of the issuer.
    refused({ ...base, rules: [{ client: 'orders', claims: JSON.parse('{"__proto__": "x"}') }] }, /__proto__/);
    refused({ ...base, rules: [{ client: 'orders', claims: JSON.parse('{"__proto__": "x", "sub": "y"}') }] }, /__proto__/);
    refused({ ...base, issuer: 'https://kubernetes.example/?tenant=a' }, /query/);
  });

  it('takes http keys only from a loopback address, and a SPIFFE trust domain with its bundle endpoint', () => {
    assert.equal(parseWorkloadIssuer({ ...base, keys: { jwks_uri: 'http://127.0.0.1:8080/jwks' } }).keys.kind, 'jwks_uri');
    refused({ ...base, keys: { jwks_uri: 'http://10.0.0.1/jwks' } }, /loopback/);
    const spire = parseWorkloadIssuer({
      ...base,
      issuer: 'spiffe://example.org',
      keys: { spiffe_bundle_endpoint: 'https://spire.example.org:8443' },
    });
    assert.deepEqual(spire.keys, { kind: 'spiffe_bundle', url: 'https://spire.example.org:8443/' });
  });
});

describe('matchRule', () => {
  const issuer = parseWorkloadIssuer({
    ...base,
    rules: [
      { client: 'orders', claims: { sub: 'spiffe://example.org/ns/shop/sa/*' } },
      { client: 'deep', claims: { sub: 'spiffe://example.org/ns/**' } },
      { client: 'ci', claims: { repository: 'acme/orders', ref: 'refs/heads/main' } },
      { client: 'kube', claims: { '/kubernetes.io/namespace': 'billing', '/a~1b/c~0d': 'x.y' } },
    ],
  });
  const client = (claims: Record<string, unknown>) => matchRule(issuer, claims)?.client;

  it('matches * within one path segment, ** across them, the first rule that matches winning', () => {
    assert.equal(client({ sub: 'spiffe://example.org/ns/shop/sa/orders' }), 'orders');
    assert.equal(client({ sub: 'spiffe://example.org/ns/shop/sa/orders/extra' }), 'deep');
    assert.equal(client({ sub: 'spiffe://example.org/ns/other' }), 'deep');
    assert.equal(client({ sub: 'spiffe://example.org/other' }), undefined);
  });

  it('needs every claim of a rule, as a string, exactly', () => {
    assert.equal(client({ repository: 'acme/orders', ref: 'refs/heads/main' }), 'ci');
    assert.equal(client({ repository: 'acme/orders', ref: 'refs/heads/dev' }), undefined);
    assert.equal(client({ repository: 'acme/orders' }), undefined);
    assert.equal(client({ repository: 'Acme/orders', ref: 'refs/heads/main' }), undefined);
    assert.equal(client({ repository: ['acme/orders'], ref: 'refs/heads/main' }), undefined);
  });

  it('reads nested claims by JSON Pointer, escapes and all; dots in a pattern are no wildcards', () => {
    assert.equal(client({ 'kubernetes.io': { namespace: 'billing' }, 'a/b': { 'c~d': 'x.y' } }), 'kube');
    assert.equal(client({ 'kubernetes.io': { namespace: 'billing' }, 'a/b': { 'c~d': 'xzy' } }), undefined);
    assert.equal(client({ 'kubernetes.io': 'billing' }), undefined);
    assert.equal(client({ __proto__: { namespace: 'billing' } }), undefined);
  });
});

/**
 * JWKS: what an issuer publishes (buildJwks), what a verifier accepts (parseJwks), which keys it skips
 * and why, and how a KeySet picks the key for a token.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  AccessTokenVerifier,
  AlgorithmKeyMismatchError,
  buildJwks,
  generateKey,
  importJwk,
  JwksInvalidError,
  KeyInvalidError,
  KeyNotFoundError,
  KeySet,
  MAX_JWKS_KEYS,
  parseJwks,
  signAccessToken,
  type Algorithm,
  type Key,
} from '@tessera/core';

const ISS = 'https://issuer.example';
const AUD = 'orders';

function sign(key: Key): string {
  return signAccessToken({ iss: ISS, sub: 'alice', aud: AUD, client_id: 'web', ttl: 60 }, key);
}

function assertJwksInvalid(fn: () => unknown, reason: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof JwksInvalidError, `expected JwksInvalidError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_JWKS_INVALID');
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

/** A JWK without its alg member. */
function withoutAlg(jwk: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...jwk };
  delete copy.alg;
  return copy;
}

const es256 = generateKey('ES256');
const es384 = generateKey('ES384');
const eddsa = generateKey('EdDSA');
const rs256 = generateKey('RS256');
const hs256 = generateKey('HS256');

describe('buildJwks', () => {
  it('publishes the public half of each key, with kid, alg and use', () => {
    const jwks = buildJwks([es256, eddsa, rs256.publicKey()]);
    assert.equal(jwks.keys.length, 3);
    assert.deepEqual(
      jwks.keys.map((k) => [k.kid, k.alg, k.use]),
      [
        [es256.kid, 'ES256', 'sig'],
        [eddsa.kid, 'EdDSA', 'sig'],
        [rs256.kid, 'RS256', 'sig'],
      ],
    );
    for (const jwk of jwks.keys) {
      for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) assert.equal(jwk[m], undefined, `published JWK has ${m}`);
    }
    assert.deepEqual(buildJwks([]), { keys: [] });
  });

  it('takes any iterable', () => {
    assert.equal(buildJwks(new Set([es256, eddsa])).keys.length, 2);
    assert.equal(buildJwks(new Map([['a', es256]]).values()).keys.length, 1);
  });

  it('never publishes an HMAC secret', () => {
    assert.throws(
      () => buildJwks([es256, hs256]),
      (e: unknown) => e instanceof KeyInvalidError && e.reason === 'secret',
    );
  });

  it('refuses two keys with one kid', () => {
    assertJwksInvalid(() => buildJwks([es256, es256.publicKey()]), 'duplicate_kid');
    assertJwksInvalid(() => buildJwks([generateKey('ES256', { kid: 'k' }), generateKey('EdDSA', { kid: 'k' })]), 'duplicate_kid');
  });
});

describe('parseJwks', () => {
  it('round-trips what buildJwks publishes, through JSON', () => {
    const keys = [es256, es384, eddsa, rs256];
    const set = parseJwks(JSON.parse(JSON.stringify(buildJwks(keys))));
    assert.equal(set.size, 4);
    assert.deepEqual(set.skipped, []);
    const verifier = new AccessTokenVerifier({ algorithms: ['ES256', 'ES384', 'EdDSA', 'RS256'], issuer: ISS, audience: AUD });
    for (const key of keys) {
      assert.ok(set.has(key.kid));
      const { key: used, claims } = verifier.verifyAccessToken(sign(key), set);
      assert.equal(used.kid, key.kid);
      assert.equal(used.kind, 'public');
      assert.equal(claims.sub, 'alice');
    }
  });

  it('infers the alg of EC and OKP keys from the curve', () => {
    const set = parseJwks({ keys: [withoutAlg(es256.toJwk()), withoutAlg(es384.toJwk()), withoutAlg(eddsa.toJwk())] });
    assert.deepEqual(
      set.keys.map((k) => k.alg),
      ['ES256', 'ES384', 'EdDSA'],
    );
  });

  it('pins an RSA key without alg only when the allowlist holds exactly one RSA algorithm', () => {
    const jwks = { keys: [withoutAlg(rs256.toJwk())] };
    const pinned = parseJwks(jwks, { algorithms: ['RS256', 'ES256', 'EdDSA'] });
    assert.equal(pinned.size, 1);
    assert.equal(pinned.keys[0]!.alg, 'RS256');
    assert.equal(parseJwks(jwks, { algorithms: ['PS384'] }).keys[0]!.alg, 'PS384');

    for (const algorithms of [undefined, [], ['ES256'], ['RS256', 'PS256'], ['RS256', 'RS512']] as (Algorithm[] | undefined)[]) {
      const set = parseJwks(jwks, algorithms ? { algorithms } : {});
      assert.equal(set.size, 0, `algorithms ${String(algorithms)}`);
      assert.deepEqual(
        set.skipped.map((s) => [s.kid, s.reason]),
        [[rs256.kid, 'alg']],
      );
    }
    // A key that names its alg keeps it, whatever the allowlist.
    assert.equal(parseJwks({ keys: [rs256.toJwk()] }, { algorithms: ['PS256', 'RS512'] }).keys[0]!.alg, 'RS256');
  });

  it('pins an HMAC secret without alg the same way, and accepts a set of secrets only', () => {
    const jwk = withoutAlg(hs256.toJwk({ private: true }));
    const set = parseJwks({ keys: [jwk] }, { algorithms: ['HS256', 'ES256'] });
    assert.equal(set.keys[0]!.alg, 'HS256');
    assert.equal(set.keys[0]!.kind, 'secret');
    assert.deepEqual(
      parseJwks({ keys: [jwk] }, { algorithms: ['HS256', 'HS512'] }).skipped.map((s) => s.reason),
      ['alg'],
    );
  });

  it('skips unusable keys and says why', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const offCurve = { ...es256.toJwk(), kid: 'off-curve', y: es256.toJwk().x };
    const set = parseJwks({
      keys: [
        { ...es384.toJwk(), kid: 'enc', use: 'enc' },
        { ...weak, kid: 'weak', alg: 'RS256' },
        { ...eddsa.toJwk(), kid: 'unknown-alg', alg: 'ES521' },
        { ...es384.toJwk(), kid: 'jwe-alg', alg: 'A256GCM' },
        { ...es384.toJwk(), kid: 'wrong-alg', alg: 'RS256' },
        { ...es384.toJwk(), kid: 'ops', key_ops: ['encrypt'] },
        { kty: 'OKP', crv: 'X25519', kid: 'x25519', x: eddsa.toJwk().x },
        { kty: 'dsa', kid: 'dsa' },
        offCurve,
        es256.toJwk(),
      ],
    });
    assert.deepEqual(
      set.keys.map((k) => k.kid),
      [es256.kid],
    );
    assert.deepEqual(
      set.skipped.map((s) => [s.kid, s.reason]),
      [
        ['enc', 'use'],
        ['weak', 'weak'],
        ['unknown-alg', 'alg'],
        ['jwe-alg', 'alg'],
        ['wrong-alg', 'alg'],
        ['ops', 'key_ops'],
        ['x25519', 'crv'],
        ['dsa', 'kty'],
        ['off-curve', 'jwk'],
      ],
    );
    for (const s of set.skipped) assert.equal(typeof s.message, 'string');
    assert.ok(Object.isFrozen(set.skipped));
  });

  it('refuses a set with two keys of one kid, even when one of them would be skipped', () => {
    assertJwksInvalid(() => parseJwks({ keys: [es256.toJwk(), { ...eddsa.toJwk(), kid: es256.kid }] }), 'duplicate_kid');
    assertJwksInvalid(() => parseJwks({ keys: [es256.toJwk(), { ...es256.toJwk(), use: 'enc' }] }), 'duplicate_kid');
    // Two copies of one key without a kid get one thumbprint.
    assertJwksInvalid(
      () => parseJwks({ keys: [withoutAlg(es256.toJwk()), { ...es256.toJwk(), kid: undefined }] }),
      'duplicate_kid',
    );
  });

  it('refuses HMAC secrets mixed with asymmetric keys', () => {
    assertJwksInvalid(() => parseJwks({ keys: [hs256.toJwk({ private: true }), es256.toJwk()] }), 'mixed_symmetric');
    assertJwksInvalid(() => new KeySet([hs256, eddsa]), 'mixed_symmetric');
  });

  it('refuses private key material', () => {
    assertJwksInvalid(() => parseJwks({ keys: [es256.toJwk({ private: true })] }), 'private_key');
    assertJwksInvalid(() => parseJwks({ keys: [eddsa.toJwk(), rs256.toJwk({ private: true })] }), 'private_key');
    assertJwksInvalid(() => parseJwks({ keys: [{ ...rs256.toJwk(), p: 'AQAB' }] }), 'private_key');
  });

  it(`holds at most ${MAX_JWKS_KEYS} keys`, () => {
    assert.equal(MAX_JWKS_KEYS, 100);
    const many = Array.from({ length: MAX_JWKS_KEYS + 1 }, () => generateKey('ES256').toJwk());
    assert.equal(parseJwks({ keys: many.slice(0, MAX_JWKS_KEYS) }).size, MAX_JWKS_KEYS);
    assertJwksInvalid(() => parseJwks({ keys: many }), 'too_many');
  });

  it('refuses what is not a JWKS', () => {
    for (const input of [null, undefined, 'keys', 42, [], [es256.toJwk()]]) assertJwksInvalid(() => parseJwks(input), 'shape');
    for (const input of [{}, { keys: null }, { keys: {} }, { keys: 'x' }, { Keys: [] }])
      assertJwksInvalid(() => parseJwks(input), 'shape');
    for (const entry of [null, 'x', 7, [es256.toJwk()]])
      assertJwksInvalid(() => parseJwks({ keys: [es256.toJwk(), entry] }), 'shape');
    assert.equal(parseJwks({ keys: [] }).size, 0);
  });
});

describe('KeySet.select', () => {
  const a = generateKey('ES256', { kid: 'a' });
  const b = generateKey('ES256', { kid: 'b' });
  const ed = generateKey('EdDSA', { kid: 'ed' });

  it('finds a key by exact kid, pinned to its alg', () => {
    const set = new KeySet([a, b, ed]);
    assert.equal(set.select('a', 'ES256').kid, 'a');
    assert.equal(set.select('b', 'ES256').kid, 'b');
    assert.equal(set.select('ed', 'EdDSA').kid, 'ed');
    assert.equal(set.select('ed', 'EdDSA').kind, 'public');
    assert.throws(() => set.select('A', 'ES256'), KeyNotFoundError);
    assert.throws(() => set.select('c', 'ES256'), KeyNotFoundError);
    assert.throws(() => set.select('', 'ES256'), KeyNotFoundError);
    for (const kid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.throws(() => set.select(kid, 'ES256'), KeyNotFoundError);
      assert.equal(set.has(kid), false);
    }
    assert.throws(() => set.select('a', 'EdDSA'), AlgorithmKeyMismatchError);
    assert.throws(() => set.select('ed', 'ES256'), AlgorithmKeyMismatchError);
  });

  it('without a kid, takes the one key pinned to the alg', () => {
    const set = new KeySet([a, ed]);
    assert.equal(set.select(undefined, 'ES256').kid, 'a');
    assert.equal(set.select(undefined, 'EdDSA').kid, 'ed');
    assert.throws(() => set.select(undefined, 'RS256'), KeyNotFoundError);
  });

  it('without a kid, refuses to guess among several keys of the alg', () => {
    const set = new KeySet([a, b, ed]);
    assert.throws(
      () => set.select(undefined, 'ES256'),
      (e: unknown) => e instanceof KeyNotFoundError && e.code === 'ERR_KEY_NOT_FOUND' && /several keys/.test(e.message),
    );
    assert.equal(set.select(undefined, 'EdDSA').kid, 'ed');
  });

  it('a KeySet from parseJwks selects the same way', () => {
    const set = parseJwks(buildJwks([a, b, ed]));
    assert.equal(set.select('b', 'ES256').kid, 'b');
    assert.throws(() => set.select(undefined, 'ES256'), KeyNotFoundError);
    assert.equal(set.select(undefined, 'EdDSA').kid, 'ed');
  });

  it('a KeySet is frozen and holds public keys only', () => {
    const set = new KeySet([a, importJwk(ed.toJwk())]);
    assert.ok(Object.isFrozen(set));
    assert.ok(Object.isFrozen(set.keys));
    assert.deepEqual(
      set.keys.map((k) => k.kind),
      ['public', 'public'],
    );
    assertJwksInvalid(() => new KeySet([a, a.publicKey()]), 'duplicate_kid');
  });
});

/**
 * Weak or unfit keys in a JWKS: e = 1 (every PKCS#1 encoding is its own signature), e = 3, 1024-bit RSA,
 * oversized moduli, short HMAC secrets and encryption keys. parseJwks skips each one and says why in
 * `KeySet.skipped`, a token naming its kid finds no key, and importJwk refuses it with the reason.
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  generateKey,
  importJwk,
  JwksInvalidError,
  KeyInvalidError,
  KeyNotFoundError,
  MAX_JWKS_KEYS,
  parseJwks,
} from '@tessera/core';

import { accessVerifier, claims, encodePart, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const good = generateKey('RS256', { kid: 'good' });
const goodJwk = good.publicKey().toJwk();

function rsaJwk(ko: KeyObject, kid: string): Record<string, unknown> {
  return { ...ko.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

/** The PKCS#1 v1.5 encoding of SHA-256(input) for a modulus of `bytes` bytes: with e = 1, also its signature. */
function pkcs1Encoding(input: string, bytes: number): Buffer {
  const digestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex');
  const t = Buffer.concat([digestInfo, createHash('sha256').update(input).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(bytes - t.length - 3, 0xff), Buffer.from([0]), t]);
}

/**
 * An RSA pair from node:crypto, handed over as PEM and imported afresh. Exporting the KeyObjects that
 * generateKeyPairSync returns as JWK can deadlock Node 20 when a garbage collection runs mid-export.
 */
function rsaPair(options: { modulusLength: number; publicExponent?: number }): { publicKey: KeyObject; privateKey: KeyObject } {
  const pem = generateKeyPairSync('rsa', {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: createPublicKey(pem.publicKey), privateKey: createPrivateKey(pem.privateKey) };
}

const e3 = rsaPair({ modulusLength: 2048, publicExponent: 3 });
const small = rsaPair({ modulusLength: 1024 });
const huge = Buffer.concat([Buffer.from([0xc0]), randomBytes(1151)]); // a 9216-bit "modulus"
huge[huge.length - 1]! |= 1;

interface Weak {
  jwk: Record<string, unknown>;
  reason: string;
  /** A token with this key's kid, signed by its private half where one exists. */
  token: string;
}

const header = (kid: string): Record<string, unknown> => ({ alg: 'RS256', typ: 'at+jwt', kid });

const WEAK: Record<string, Weak> = {
  'an RSA key with e = 1': (() => {
    const input = `${encodePart(header('e1'))}.${encodePart(claims())}`;
    return {
      jwk: { ...goodJwk, kid: 'e1', e: 'AQ' },
      reason: 'weak',
      token: `${input}.${pkcs1Encoding(input, 256).toString('base64url')}`,
    };
  })(),
  'an RSA key with e = 3': {
    jwk: rsaJwk(e3.publicKey, 'e3'),
    reason: 'weak',
    token: forge(header('e3'), claims(), e3.privateKey, 'RS256'),
  },
  'a 1024-bit RSA key': {
    jwk: rsaJwk(small.publicKey, 'rsa1024'),
    reason: 'weak',
    token: forge(header('rsa1024'), claims(), small.privateKey, 'RS256'),
  },
  'a 9216-bit RSA key': {
    jwk: { ...goodJwk, kid: 'huge', n: huge.toString('base64url') },
    reason: 'size',
    token: forge(header('huge'), claims(), good),
  },
  'a key with use "enc"': {
    jwk: { ...goodJwk, kid: 'enc', use: 'enc' },
    reason: 'use',
    token: forge(header('enc'), claims(), good),
  },
  'a key with key_ops ["encrypt"]': {
    jwk: { ...goodJwk, kid: 'encrypt', key_ops: ['encrypt'] },
    reason: 'key_ops',
    token: forge(header('encrypt'), claims(), good),
  },
  'a key with alg RSA-OAEP': {
    jwk: { ...goodJwk, kid: 'oaep', alg: 'RSA-OAEP' },
    reason: 'alg',
    token: forge(header('oaep'), claims(), good),
  },
  'a key with an unknown kty': {
    jwk: { ...goodJwk, kid: 'dsa', kty: 'DSA' },
    reason: 'kty',
    token: forge(header('dsa'), claims(), good),
  },
};

describe('weak keys in a JWKS', () => {
  const verifier = accessVerifier(['RS256']);

  for (const [what, weak] of Object.entries(WEAK)) {
    const kid = weak.jwk.kid as string;

    it(`${what}: importJwk refuses it with reason ${weak.reason}`, () => {
      rejects(() => importJwk(weak.jwk), KeyInvalidError, { code: 'ERR_KEY_INVALID', reason: weak.reason });
    });

    it(`${what}: parseJwks skips it, lists why, and keeps the good key`, () => {
      const set = parseJwks({ keys: [goodJwk, weak.jwk] }, { algorithms: ['RS256'] });
      assert.deepEqual(
        set.keys.map((k) => k.kid),
        ['good'],
      );
      assert.equal(set.skipped.length, 1);
      assert.equal(set.skipped[0]?.kid, kid);
      assert.equal(set.skipped[0]?.reason, weak.reason);
      assert.equal(set.has(kid), false);
    });

    it(`${what}: a token naming its kid finds no key`, () => {
      const set = parseJwks({ keys: [goodJwk, weak.jwk] }, { algorithms: ['RS256'] });
      rejects(() => verifier.verifyAccessToken(weak.token, set), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    });
  }

  it('the e = 1 forgery is a real one: the encoded message is its own signature under e = 1', () => {
    const { jwk, token } = WEAK['an RSA key with e = 1']!;
    const [h, p, s] = token.split('.');
    const n = BigInt('0x' + Buffer.from(jwk.n as string, 'base64url').toString('hex'));
    const m = BigInt('0x' + Buffer.from(s!, 'base64url').toString('hex'));
    assert.ok(m < n, 'the encoding is a valid RSA representative');
    assert.deepEqual(Buffer.from(s!, 'base64url'), pkcs1Encoding(`${h}.${p}`, 256));
  });

  it('a token signed by the good key still verifies against the same JWKS', () => {
    const set = parseJwks({ keys: [goodJwk, ...Object.values(WEAK).map((w) => w.jwk)] }, { algorithms: ['RS256'] });
    assert.equal(set.skipped.length, Object.keys(WEAK).length);
    verifier.verifyAccessToken(forge(headerFor(good), claims(), good), set);
  });

  it('a short HMAC secret is skipped from a JWKS of secrets', () => {
    const strong = generateKey('HS256', { kid: 'strong' }).toJwk({ private: true });
    const short = { kty: 'oct', kid: 'short', alg: 'HS256', k: randomBytes(16).toString('base64url') };
    const set = parseJwks({ keys: [strong, short] });
    assert.deepEqual(
      set.skipped.map((s) => [s.kid, s.reason]),
      [['short', 'weak']],
    );
    const token = forge({ alg: 'HS256', typ: 'at+jwt', kid: 'short' }, claims(), Buffer.from(short.k, 'base64url'), 'HS256');
    rejects(() => accessVerifier(['HS256']).verifyAccessToken(token, set), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    rejects(() => importJwk(short), KeyInvalidError, { code: 'ERR_KEY_INVALID', reason: 'weak' });
  });
});

describe('JWKS refused as a whole', () => {
  it('a JWKS holding private key material is refused', () => {
    rejects(() => parseJwks({ keys: [good.toJwk({ private: true })] }), JwksInvalidError, {
      code: 'ERR_JWKS_INVALID',
      reason: 'private_key',
    });
  });

  it('a JWKS with two keys sharing a kid is refused', () => {
    const twin = { ...goodJwk, n: WEAK['a 9216-bit RSA key']!.jwk.n };
    rejects(() => parseJwks({ keys: [goodJwk, twin] }), JwksInvalidError, { code: 'ERR_JWKS_INVALID', reason: 'duplicate_kid' });
  });

  it(`a JWKS of more than ${MAX_JWKS_KEYS} keys is refused`, () => {
    const keys = Array.from({ length: MAX_JWKS_KEYS + 1 }, (_, i) => ({ ...goodJwk, kid: `k${i}` }));
    rejects(() => parseJwks({ keys }), JwksInvalidError, { code: 'ERR_JWKS_INVALID', reason: 'too_many' });
  });

  for (const [what, input] of [
    ['null', null],
    ['an array', [goodJwk]],
    ['an object without keys', {}],
    ['keys that is not an array', { keys: goodJwk }],
    ['a key that is not an object', { keys: ['good'] }],
  ] as const) {
    it(`a JWKS that is ${what} is refused`, () => {
      rejects(() => parseJwks(input), JwksInvalidError, { code: 'ERR_JWKS_INVALID', reason: 'shape' });
    });
  }
});

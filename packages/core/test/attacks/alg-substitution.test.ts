/**
 * Algorithm substitution within one key type: the same RSA private key can make RS256, RS384, RS512 and
 * PS* signatures, the same HMAC secret any HS* MAC. A key pinned to one algorithm must refuse the others,
 * so that the weakest algorithm a key could make never decides the outcome (RFC 8725 section 3.1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AlgorithmKeyMismatchError,
  AlgorithmNotAllowedError,
  generateKey,
  importPem,
  importSecret,
  KeyNotFoundError,
  KeySet,
  parseJwks,
  type Algorithm,
  type Key,
} from '@tessera/core';

import { accessVerifier, claims, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const MISMATCH = { code: 'ERR_ALG_KEY_MISMATCH' };
const NOT_ALLOWED = { code: 'ERR_ALG_NOT_ALLOWED' };

/** Tests that tokens signed with `pinned`'s own key material under each of `others` are refused. */
function substitutions(pinned: Key, others: readonly Algorithm[]): void {
  const pub = pinned.publicKey();
  for (const alg of others) {
    const token = forge(headerFor(pinned, { alg }), claims(), pinned, alg);
    const anonymous = forge(headerFor(pinned, { alg, kid: undefined }), claims(), pinned, alg);

    it(`a ${alg} token is not allowed by a verifier that allows only ${pinned.alg}`, () => {
      rejects(() => accessVerifier([pinned.alg]).verifyAccessToken(token, pub), AlgorithmNotAllowedError, NOT_ALLOWED);
      rejects(
        () => accessVerifier([pinned.alg]).verifyAccessToken(token, new KeySet([pub])),
        AlgorithmNotAllowedError,
        NOT_ALLOWED,
      );
    });

    it(`a ${alg} token is refused by the ${pinned.alg} key even when ${alg} is allowed`, () => {
      const verifier = accessVerifier([pinned.alg, alg]);
      rejects(() => verifier.verifyAccessToken(token, pub), AlgorithmKeyMismatchError, MISMATCH);
      rejects(() => verifier.verifyAccessToken(token, () => pub), AlgorithmKeyMismatchError, MISMATCH);
      rejects(() => verifier.verifyAccessToken(token, new KeySet([pub])), AlgorithmKeyMismatchError, MISMATCH);
      rejects(() => verifier.verifyAccessToken(anonymous, new KeySet([pub])), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    });
  }

  it(`the ${pinned.alg} token verifies`, () => {
    accessVerifier([pinned.alg, ...others]).verifyAccessToken(forge(headerFor(pinned), claims(), pinned), pub);
  });
}

const rsa = generateKey('RS256', { kid: 'rsa' });

describe('alg substitution, an RS256 key', () => {
  substitutions(rsa, ['PS256', 'RS512', 'RS384', 'PS384', 'PS512']);

  it('a JWKS key without alg is pinned by the allowlist when one RSA algorithm fits, and skipped when several do', () => {
    const bare = rsa.publicKey().toJwk();
    delete bare.alg;
    const ps = forge(headerFor(rsa, { alg: 'PS256' }), claims(), rsa, 'PS256');

    const pinned = parseJwks({ keys: [bare] }, { algorithms: ['RS256', 'ES256'] });
    assert.equal(pinned.keys[0]?.alg, 'RS256');
    rejects(() => accessVerifier(['RS256', 'PS256']).verifyAccessToken(ps, pinned), AlgorithmKeyMismatchError, MISMATCH);

    const ambiguous = parseJwks({ keys: [bare] }, { algorithms: ['RS256', 'PS256'] });
    assert.equal(ambiguous.size, 0);
    assert.deepEqual(
      ambiguous.skipped.map((s) => [s.kid, s.reason]),
      [['rsa', 'alg']],
    );
    rejects(() => accessVerifier(['RS256', 'PS256']).verifyAccessToken(ps, ambiguous), KeyNotFoundError, {
      code: 'ERR_KEY_NOT_FOUND',
    });
  });
});

describe('alg substitution, the same RSA key pinned to PS256', () => {
  substitutions(importPem(rsa.toPem({ private: true }), { alg: 'PS256', kid: 'pss' }), ['RS256', 'PS512']);
});

describe('alg substitution, an HS256 secret', () => {
  // A 64-byte secret is long enough for every HS algorithm, so only the pin stands in the way.
  substitutions(importSecret(Buffer.alloc(64, 7), { alg: 'HS256', kid: 'hmac' }), ['HS384', 'HS512']);
});

describe('alg substitution, an ES256 key', () => {
  const ec = generateKey('ES256', { kid: 'ec' });
  it('an ES384 or ES512 header on an ES256 key is refused even when allowed', () => {
    for (const alg of ['ES384', 'ES512'] as const) {
      const token = forge(headerFor(ec, { alg }), claims(), ec, 'ES256');
      rejects(() => accessVerifier(['ES256', alg]).verifyAccessToken(token, ec.publicKey()), AlgorithmKeyMismatchError, MISMATCH);
      rejects(() => accessVerifier(['ES256']).verifyAccessToken(token, ec.publicKey()), AlgorithmNotAllowedError, NOT_ALLOWED);
    }
  });
});

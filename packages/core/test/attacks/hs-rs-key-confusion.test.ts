/**
 * HS/RS key confusion (CVE-2015-9235 and kin): the attacker signs HS256 using the issuer's public key as
 * the HMAC secret, hoping the verifier feeds the same bytes to HMAC. Tessera pins each key to one
 * algorithm, so the public key can only ever verify its own algorithm, even when the allowlist holds both.
 */
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import {
  AlgorithmKeyMismatchError,
  generateKey,
  importJwk,
  importKey,
  importPem,
  JwksInvalidError,
  KeyInvalidError,
  KeyNotFoundError,
  KeySet,
  parseJwks,
  type Algorithm,
} from '@tessera/core';

import { accessVerifier, claims, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const MISMATCH = { code: 'ERR_ALG_KEY_MISMATCH' };

for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
  describe(`HS256 signed with the ${alg} public key as the HMAC secret`, () => {
    const pair = generateKey(alg, { kid: `${alg}-1` });
    const pub = pair.publicKey();
    const jwk = pub.toJwk();
    const secrets: Record<string, string | Uint8Array> = {
      'the SPKI PEM text': pub.toPem(),
      'the SPKI PEM text without its final newline': pub.toPem().trimEnd(),
      'the DER SPKI bytes': pub.publicKeyObject.export({ format: 'der', type: 'spki' }),
      'the JWK JSON text': JSON.stringify(jwk),
    };
    if (alg === 'RS256') secrets['the PKCS#1 PEM text'] = pub.toPem({ pkcs1: true });

    const both: Algorithm[] = ['HS256', alg];
    for (const [what, secret] of Object.entries(secrets)) {
      const token = forge(headerFor(pub, { alg: 'HS256' }), claims(), secret, 'HS256');
      const anonymous = forge(headerFor(pub, { alg: 'HS256', kid: undefined }), claims(), secret, 'HS256');

      it(`${what}: refused by the pinned public key`, () => {
        rejects(() => accessVerifier(both).verifyAccessToken(token, pub), AlgorithmKeyMismatchError, MISMATCH);
        rejects(() => accessVerifier(both).verifyAccessToken(token, pair), AlgorithmKeyMismatchError, MISMATCH);
      });

      it(`${what}: refused by a key function that returns the public key`, () => {
        rejects(() => accessVerifier(both).verifyAccessToken(token, () => pub), AlgorithmKeyMismatchError, MISMATCH);
      });

      it(`${what}: refused by a key set, with the key's kid and without a kid`, () => {
        const set = new KeySet([pub]);
        rejects(() => accessVerifier(both).verifyAccessToken(token, set), AlgorithmKeyMismatchError, MISMATCH);
        rejects(() => accessVerifier(both).verifyAccessToken(anonymous, set), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
      });

      it(`${what}: refused by a JWKS, with and without alg in the JWK`, () => {
        const named = parseJwks({ keys: [jwk] }, { algorithms: both });
        rejects(() => accessVerifier(both).verifyAccessToken(token, named), AlgorithmKeyMismatchError, MISMATCH);
        const bare = { ...jwk };
        delete bare.alg;
        const pinned = parseJwks({ keys: [bare] }, { algorithms: both });
        rejects(() => accessVerifier(both).verifyAccessToken(token, pinned), AlgorithmKeyMismatchError, MISMATCH);
        rejects(() => accessVerifier(both).verifyAccessToken(anonymous, pinned), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
      });
    }

    it('the genuine token still verifies with the same verifier and key', () => {
      const token = forge(headerFor(pub), claims(), pair);
      accessVerifier(both).verifyAccessToken(token, pub);
      accessVerifier(both).verifyAccessToken(token, parseJwks({ keys: [jwk] }, { algorithms: both }));
    });

    it('the public key cannot be imported as an HMAC key', () => {
      const invalidAlg = { code: 'ERR_KEY_INVALID', reason: 'alg' };
      rejects(() => importPem(pub.toPem(), { alg: 'HS256' }), KeyInvalidError, invalidAlg);
      rejects(() => importKey(pub.toPem(), { alg: 'HS256' }), KeyInvalidError, invalidAlg);
      rejects(
        () => importKey(new Uint8Array(pub.publicKeyObject.export({ format: 'der', type: 'spki' })), { alg: 'HS256' }),
        KeyInvalidError,
        invalidAlg,
      );
      rejects(() => importJwk({ ...jwk, alg: 'HS256' }), KeyInvalidError, invalidAlg);
      rejects(() => importJwk(jwk, { alg: 'HS256' }), KeyInvalidError, invalidAlg);
      rejects(() => importKey(JSON.stringify({ ...jwk, alg: undefined }), { alg: 'HS256' }), KeyInvalidError, invalidAlg);
    });

    it('a JWKS holding the public key and an HMAC secret made of it is refused as a whole', () => {
      const oct = { kty: 'oct', kid: 'confused', alg: 'HS256', k: Buffer.from(pub.toPem()).toString('base64url') };
      rejects(() => parseJwks({ keys: [jwk, oct] }), JwksInvalidError, { code: 'ERR_JWKS_INVALID', reason: 'mixed_symmetric' });
    });
  });
}

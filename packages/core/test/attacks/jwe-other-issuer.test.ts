/**
 * Inner token of another issuer: a resource server's encryption key is public, so another issuer (or
 * anyone) can encrypt its own signed tokens to it. Decryption says nothing about who signed: the token inside
 * is refused unless it verifies under this verifier's issuer keys and names this verifier's issuer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  buildJwks,
  EncryptedAccessTokenVerifier,
  encryptJwt,
  generateKey,
  KeyNotFoundError,
  parseJwks,
  signAccessToken,
  TokenClaimError,
} from '@tessera/core';

import { AUDIENCE, ISSUER, now } from '../helpers/forge.js';
import { innerToken, issuerKey, RECIPIENTS, recipientKey } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const OTHER = 'https://other-issuer.example';
const otherKey = generateKey('ES256', { kid: 'other-es256' });

function verifier(): EncryptedAccessTokenVerifier {
  return new EncryptedAccessTokenVerifier({
    decryption: { algorithms: ['ECDH-ES+A256KW', 'ECDH-ES', 'RSA-OAEP-256'] },
    verification: { algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE, now },
  });
}

function otherToken(iss: string, key = otherKey): string {
  return signAccessToken({ iss, sub: 'mallory', aud: AUDIENCE, client_id: 'web', scope: 'orders:read', ttl: 300 }, key, { now });
}

describe('inner token of another issuer', () => {
  for (const r of RECIPIENTS.filter((x) => x.alg !== 'dir')) {
    it(`${r.name}: another issuer's token, signed with its own key, encrypted to us: no key (ERR_KEY_NOT_FOUND)`, () => {
      const key = recipientKey(r);
      const token = encryptJwt(otherToken(OTHER), key.publicKey());
      const ours = parseJwks(buildJwks([issuerKey]), { algorithms: ['ES256'] });
      rejects(() => verifier().verifyAccessToken(token, key, ours), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    });
  }

  it("a key set holding both issuers' keys: the other issuer's token (iss other) is refused (ERR_CLAIM_INVALID iss)", () => {
    const key = recipientKey(RECIPIENTS[0]!);
    const both = parseJwks(buildJwks([issuerKey, otherKey]), { algorithms: ['ES256'] });
    const token = encryptJwt(otherToken(OTHER), key.publicKey());
    rejects(() => verifier().verifyAccessToken(token, key, both), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'iss',
      reason: 'mismatch',
    });
  });

  it('the other issuer claiming to be ours (iss ours, its own key): no key of ours has its kid', () => {
    const key = recipientKey(RECIPIENTS[0]!);
    const ours = parseJwks(buildJwks([issuerKey]), { algorithms: ['ES256'] });
    const token = encryptJwt(otherToken(ISSUER), key.publicKey());
    rejects(() => verifier().verifyAccessToken(token, key, ours), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
  });

  it("our issuer's token verifies (the control)", () => {
    const key = recipientKey(RECIPIENTS[0]!);
    const ours = parseJwks(buildJwks([issuerKey]), { algorithms: ['ES256'] });
    const { claims } = verifier().verifyAccessToken(encryptJwt(innerToken(), key.publicKey()), key, ours);
    assert.equal(claims.iss, ISSUER);
  });
});

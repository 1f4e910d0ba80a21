/**
 * JWS JSON serialization (RFC 7515 section 7.2): flattened and general forms carry unprotected headers and
 * several signatures, and verifiers disagree about which header and signature count. Tessera accepts only
 * the compact form and names the JSON form in its refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, JwsVerifier, TokenMalformedError } from '@tessera/core';
import { FlattenedSign, GeneralSign } from 'jose';

import { accessVerifier, claims, forge, headerFor, segments } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('ES256', { kid: 'ec' });
const [protectedHeader, payload, signature] = segments(forge(headerFor(key), claims(), key));
const verifier = accessVerifier(['ES256']);
const jws = new JwsVerifier({ algorithms: ['ES256'] });

function refused(token: string): void {
  const expected = { code: 'ERR_TOKEN_MALFORMED', reason: 'json-serialization' };
  rejects(() => verifier.verifyAccessToken(token, key), TokenMalformedError, expected);
  rejects(() => jws.verify(token, key), TokenMalformedError, expected);
}

const flattened = { protected: protectedHeader, payload, signature };
const general = { payload, signatures: [{ protected: protectedHeader, signature }] };

describe('JWS JSON serialization', () => {
  it('the flattened form is refused', () => refused(JSON.stringify(flattened)));
  it('the general form is refused', () => refused(JSON.stringify(general)));
  it('the flattened form, pretty-printed, is refused', () => refused(JSON.stringify(flattened, null, 2)));
  it('the general form with leading whitespace is refused', () => refused(`\n  ${JSON.stringify(general)}`));

  it('the general form with a second, attacker signature is refused', () => {
    const attacker = generateKey('ES256', { kid: 'ec' });
    const [ah, , as] = segments(forge(headerFor(attacker), claims(), attacker));
    refused(JSON.stringify({ payload, signatures: [{ protected: ah, signature: as }, ...general.signatures] }));
  });

  // An unprotected header may hold dots; with exactly two the text splits into three "segments".
  it('the flattened form with an unprotected header holding exactly two dots is refused', () => {
    const token = JSON.stringify({ ...flattened, header: { kid: 'key.v1', x5u: 'https://example.com' } });
    assert.equal(token.split('.').length, 3);
    refused(token);
  });

  it('the general form with an unprotected header holding four dots is refused', () => {
    refused(JSON.stringify({ payload, signatures: [{ ...general.signatures[0], header: { jku: 'https://a.b.example/c.d' } }] }));
  });

  it('a flattened JWS made by jose is refused', async () => {
    const made = await new FlattenedSign(Buffer.from(JSON.stringify(claims())))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'ec' })
      .sign(key.keyObject);
    refused(JSON.stringify(made));
  });

  it('a general JWS made by jose is refused', async () => {
    const sign = new GeneralSign(Buffer.from(JSON.stringify(claims())));
    sign
      .addSignature(key.keyObject)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'ec' })
      .setUnprotectedHeader({ note: 'a.b.c' });
    refused(JSON.stringify(await sign.sign()));
  });
});

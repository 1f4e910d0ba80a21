/**
 * JWE (RFC 7516) at a JWS verifier: the JWS verifiers never decrypt (encrypted tokens go through JweDecrypter,
 * see the jwe-*.test.ts attacks). An encrypted token in the compact (five segments) or JSON form is refused as
 * such, before any key is looked at, and a JWE header on a three-segment token names an algorithm no verifier
 * allows.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  ALGORITHMS,
  AlgorithmNotAllowedError,
  generateKey,
  JwsVerifier,
  TokenMalformedError,
  type Algorithm,
} from '@tessera/core';
import { CompactEncrypt, EncryptJWT, FlattenedEncrypt, GeneralEncrypt } from 'jose';

import { accessVerifier, b64url, claims, encodePart, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const ALL = Object.keys(ALGORITHMS) as Algorithm[];
const hs = generateKey('HS256', { kid: 'hs' });
const secret = randomBytes(32);
const plaintext = new TextEncoder().encode(JSON.stringify(claims()));

function refused(token: string, reason: 'jwe' | 'json-serialization'): void {
  const expected = { code: 'ERR_TOKEN_MALFORMED', reason };
  rejects(() => accessVerifier(ALL).verifyAccessToken(token, hs), TokenMalformedError, expected);
  rejects(() => new JwsVerifier({ algorithms: ALL }).verify(token, hs), TokenMalformedError, expected);
}

describe('JWE', () => {
  it('a compact JWE (dir, A256GCM) made by jose is refused', async () => {
    refused(
      await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'hs' }).encrypt(secret),
      'jwe',
    );
  });

  it('a compact JWE (A256KW) made by jose is refused', async () => {
    refused(
      await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'A256KW', enc: 'A128CBC-HS256' }).encrypt(secret),
      'jwe',
    );
  });

  it('an encrypted JWT with typ at+jwt made by jose is refused', async () => {
    const jwt = await new EncryptJWT(claims()).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: 'at+jwt' }).encrypt(secret);
    refused(jwt, 'jwe');
  });

  it('a nested JWT (a signed token inside a JWE, cty JWT) is refused', async () => {
    const inner = new TextEncoder().encode(forge(headerFor(hs), claims(), hs));
    refused(
      await new CompactEncrypt(inner).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' }).encrypt(secret),
      'jwe',
    );
  });

  it('a hand-made five-segment JWE with an empty encrypted key is refused', () => {
    const header = encodePart({ alg: 'dir', enc: 'A256GCM' });
    refused(`${header}..${b64url(randomBytes(12))}.${b64url(randomBytes(64))}.${b64url(randomBytes(16))}`, 'jwe');
  });

  it('a flattened JWE made by jose is refused', async () => {
    const made = await new FlattenedEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(secret);
    refused(JSON.stringify(made), 'json-serialization');
  });

  it('a general JWE made by jose is refused', async () => {
    const enc = new GeneralEncrypt(plaintext).setProtectedHeader({ enc: 'A256GCM' });
    enc.addRecipient(secret).setUnprotectedHeader({ alg: 'A256KW' });
    refused(JSON.stringify(await enc.encrypt()), 'json-serialization');
  });

  for (const alg of ['dir', 'RSA-OAEP', 'RSA-OAEP-256', 'A256KW', 'ECDH-ES', 'PBES2-HS256+A128KW', 'A256GCMKW']) {
    it(`a three-segment token with the JWE header alg ${alg} is not allowed`, () => {
      const token = forge({ alg, enc: 'A256GCM', typ: 'at+jwt', kid: 'hs' }, claims(), hs, 'HS256');
      rejects(() => accessVerifier(ALL).verifyAccessToken(token, hs), AlgorithmNotAllowedError, { code: 'ERR_ALG_NOT_ALLOWED' });
    });
  }
});

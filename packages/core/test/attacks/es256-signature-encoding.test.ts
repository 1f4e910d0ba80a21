/**
 * ES256 signature encoding: JWS carries ECDSA signatures as the fixed-size concatenation r || s (RFC 7518
 * section 3.4), never as the ASN.1 DER structure that OpenSSL and naive signers emit. A verifier that
 * takes both gives each signature two spellings; one that guesses the format invites parser bugs.
 */
import { sign as cryptoSign } from 'node:crypto';
import { describe, it } from 'node:test';

import { generateKey, KeySet, SignatureInvalidError } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor, segments, signatureOf, withSignature } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const BAD_SIGNATURE = { code: 'ERR_SIGNATURE_INVALID' };

describe('ES256 signature encoding', () => {
  const key = generateKey('ES256', { kid: 'ec' });
  const verifier = accessVerifier(['ES256']);
  const token = forge(headerFor(key), claims(), key);
  const sig = signatureOf(token);
  const [h, p] = segments(token);

  const refuse = (forged: Uint8Array): void => {
    const t = withSignature(token, forged);
    rejects(() => verifier.verifyAccessToken(t, key.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
    rejects(() => verifier.verifyAccessToken(t, new KeySet([key])), SignatureInvalidError, BAD_SIGNATURE);
  };

  it('the raw r || s signature verifies', () => {
    verifier.verifyAccessToken(token, key.publicKey());
  });

  it('a DER-encoded signature of the same signing input is refused', () => {
    for (let i = 0; i < 10; i++) refuse(cryptoSign('sha256', Buffer.from(`${h}.${p}`), key.keyObject));
  });

  it('a DER signature cut or padded to 64 bytes is refused', () => {
    const der = cryptoSign('sha256', Buffer.from(`${h}.${p}`), key.keyObject);
    refuse(der.subarray(0, 64));
    refuse(Buffer.concat([der, Buffer.alloc(64)]).subarray(0, 64));
  });

  for (const [what, resized] of Object.entries({
    'empty (0 bytes)': Buffer.alloc(0),
    'r alone (32 bytes)': sig.subarray(0, 32),
    '63 bytes (last byte dropped)': sig.subarray(0, 63),
    '63 bytes (first byte dropped)': sig.subarray(1),
    '65 bytes (zero byte appended)': Buffer.concat([sig, Buffer.alloc(1)]),
    '65 bytes (zero byte prepended)': Buffer.concat([Buffer.alloc(1), sig]),
    '66 bytes (r and s each with a leading zero)': Buffer.concat([
      Buffer.alloc(1),
      sig.subarray(0, 32),
      Buffer.alloc(1),
      sig.subarray(32),
    ]),
    '96 bytes (the ES384 size)': Buffer.concat([sig, Buffer.alloc(32)]),
    '128 bytes (signature repeated)': Buffer.concat([sig, sig]),
    '128 bytes (r and s zero-extended to 64 bytes each)': Buffer.concat([
      Buffer.alloc(32),
      sig.subarray(0, 32),
      Buffer.alloc(32),
      sig.subarray(32),
    ]),
  })) {
    it(`a signature of ${what} is refused`, () => refuse(resized));
  }
});

/**
 * JweDecrypter, encryptJwt and encryption keys: the options a decrypter refuses to run with, each structural
 * rule of a compact JWE with the refusal it gives, key selection, and the import and generation of `use: enc`
 * keys. The attacks are in attacks/jwe-*.test.ts, the interoperability in interop-jose-jwe and interop-jwcrypto.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  ConfigError,
  decryptJwe,
  DEFAULT_MAX_JWE_HEADER_LENGTH,
  DEFAULT_MAX_JWE_LENGTH,
  EncryptionKey,
  encryptJwt,
  generateEncryptionKey,
  importDirectKey,
  importEncryptionJwk,
  importEncryptionPem,
  JweDecrypter,
  JweInvalidError,
  JweUnsupportedError,
  jwkThumbprint,
  KeyInvalidError,
  KeyNotFoundError,
  TokenError,
  TokenTooLargeError,
  type ContentEncryption,
  type KeyManagementAlgorithm,
} from '@tessera/core';
import { CompactEncrypt, importJWK, type JWK } from 'jose';

import { withTrailingBits } from './helpers/forge.js';
import { decrypterForAll, innerToken, parts, RECIPIENTS, recipientKey, sealRaw } from './helpers/jwe.js';
import { rejects } from './helpers/rejects.js';

const ec = recipientKey(RECIPIENTS[0]!);
const dir = recipientKey(RECIPIENTS.find((r) => r.alg === 'dir')!);
const dirSecret = dir.keyObject.export();
const dirHeader = { alg: 'dir', enc: 'A256GCM', cty: 'JWT' };
const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64url');

function invalid(token: string, reason: string, keys: EncryptionKey | EncryptionKey[] = dir): void {
  rejects(() => decrypterForAll().decrypt(token, keys), JweInvalidError, { code: 'ERR_JWE_INVALID', reason });
}

function unsupported(token: string, parameter: string, keys: EncryptionKey | EncryptionKey[] = dir): void {
  rejects(() => decrypterForAll().decrypt(token, keys), JweUnsupportedError, { code: 'ERR_JWE_UNSUPPORTED', parameter });
}

describe('JweDecrypter options', () => {
  it('refuses a missing or empty allowlist, unknown algorithms and encryptions', () => {
    const config = (options: unknown, option: string): void => {
      rejects(() => new JweDecrypter(options as never), ConfigError, { code: 'ERR_CONFIG', option });
    };
    config(undefined, 'algorithms');
    config({}, 'algorithms');
    config({ algorithms: [] }, 'algorithms');
    config({ algorithms: 'ECDH-ES' }, 'algorithms');
    config({ algorithms: ['ECDH-ES', 'ECDH-ES+A128KW'] }, 'algorithms');
    config({ algorithms: ['ECDH-ES'], encryptions: [] }, 'encryptions');
    config({ algorithms: ['ECDH-ES'], encryptions: ['A256CBC-HS512'] }, 'encryptions');
    config({ algorithms: ['ECDH-ES'], typ: [] }, 'typ');
    config({ algorithms: ['ECDH-ES'], maxTokenLength: -1 }, 'maxTokenLength');
    config({ algorithms: ['ECDH-ES'], maxHeaderLength: Number.NaN }, 'maxHeaderLength');
  });

  it('A128GCM is refused unless the allowlist names it', () => {
    const token = encryptJwt(innerToken(), ec.publicKey(), { enc: 'A128GCM' });
    rejects(() => new JweDecrypter({ algorithms: ['ECDH-ES+A256KW'] }).decrypt(token, ec), JweUnsupportedError, {
      code: 'ERR_JWE_UNSUPPORTED',
      parameter: 'enc',
    });
    assert.ok(new JweDecrypter({ algorithms: ['ECDH-ES+A256KW'], encryptions: ['A128GCM'] }).decrypt(token, ec).jws.length > 0);
  });

  it('an algorithm outside the allowlist is refused although the key would fit', () => {
    const token = encryptJwt(innerToken(), ec.publicKey());
    rejects(() => decryptJwe(token, ec, { algorithms: ['ECDH-ES'] }), JweUnsupportedError, {
      code: 'ERR_JWE_UNSUPPORTED',
      parameter: 'alg',
    });
  });

  it('the defaults are the documented ones', () => {
    assert.equal(DEFAULT_MAX_JWE_LENGTH, 12288);
    assert.equal(DEFAULT_MAX_JWE_HEADER_LENGTH, 1024);
  });
});

describe('JweDecrypter structure', () => {
  it('size: a token over maxTokenLength, a header over maxHeaderLength', () => {
    const token = sealRaw(dirHeader, innerToken(), dirSecret);
    rejects(() => decrypterForAll({ maxTokenLength: token.length - 1 }).decrypt(token, dir), TokenTooLargeError, {
      code: 'ERR_TOKEN_TOO_LARGE',
      limit: token.length - 1,
    });
    assert.ok(decrypterForAll({ maxTokenLength: token.length }).decrypt(token, dir));
    const padded = sealRaw({ ...dirHeader, pad: 'x'.repeat(DEFAULT_MAX_JWE_HEADER_LENGTH) }, innerToken(), dirSecret);
    invalid(padded, 'header');
  });

  it('segments: three, four, six; a JWS; the JSON serialization', async () => {
    const [h, ek, iv, ct, tag] = parts(sealRaw(dirHeader, innerToken(), dirSecret));
    invalid([h, iv, ct].join('.'), 'segments');
    invalid([h, ek, iv, ct].join('.'), 'segments');
    invalid([h, ek, iv, ct, tag, ''].join('.'), 'segments');
    invalid(innerToken(), 'segments');
    invalid('', 'segments');
    rejects(() => decrypterForAll().decrypt(42 as never, dir), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'segments' });
    const json = JSON.stringify({ protected: h, iv, ciphertext: ct, tag });
    unsupported(json, 'serialization');
    unsupported(` \n${json}`, 'serialization');
  });

  it('base64url: padding, a character outside the alphabet, trailing bits in any segment', () => {
    const token = sealRaw(dirHeader, innerToken(), dirSecret);
    const p = parts(token);
    for (let i = 0; i < 5; i++) {
      if (i === 1) continue; // the empty encrypted key of dir; tested below with RSA
      const variants = [`${p[i]}=`, `${p[i]!.slice(0, 2)}+${p[i]!.slice(3)}`];
      if (p[i]!.length % 4 !== 0) variants.push(withTrailingBits(p[i]!));
      for (const v of variants) {
        const q = [...p];
        q[i] = v;
        invalid(q.join('.'), 'base64url');
      }
    }
    const rsa = recipientKey(RECIPIENTS.find((r) => r.alg === 'RSA-OAEP-256')!);
    const r = parts(encryptJwt(innerToken(), rsa.publicKey()));
    invalid([r[0], `${r[1]}=`, r[2], r[3], r[4]].join('.'), 'base64url', rsa);
  });

  it('header: not JSON, not an object, not UTF-8, duplicate members, too deep, a bad kid', () => {
    invalid(sealRaw('{"alg":"dir",', innerToken(), dirSecret), 'header');
    invalid(sealRaw('["dir"]', innerToken(), dirSecret), 'header');
    invalid(sealRaw('"dir"', innerToken(), dirSecret), 'header');
    invalid(sealRaw('{"alg":"dir","enc":"A256GCM","cty":"JWT","alg":"dir"}', innerToken(), dirSecret), 'header');
    invalid(sealRaw({ ...dirHeader, x: { y: { z: 1 } } }, innerToken(), dirSecret), 'header');
    invalid(sealRaw({ ...dirHeader, kid: 7 }, innerToken(), dirSecret), 'header');
    invalid(sealRaw({ ...dirHeader, kid: '' }, innerToken(), dirSecret), 'header');
    const bad = Buffer.concat([
      Buffer.from('{"alg":"dir","enc":"A256GCM","cty":"JWT","x":"'),
      Buffer.from([0xc3]),
      Buffer.from('"}'),
    ]);
    invalid(sealRaw(bad.toString('latin1'), innerToken(), dirSecret).replace(/^[^.]*/, b64(bad)), 'header');
  });

  it('alg and enc: missing, of the wrong type, of another case', () => {
    unsupported(sealRaw({ enc: 'A256GCM', cty: 'JWT' }, innerToken(), dirSecret), 'alg');
    unsupported(sealRaw({ ...dirHeader, alg: ['dir'] }, innerToken(), dirSecret), 'alg');
    unsupported(sealRaw({ ...dirHeader, alg: 'DIR' }, innerToken(), dirSecret), 'alg');
    unsupported(sealRaw({ alg: 'dir', cty: 'JWT' }, innerToken(), dirSecret), 'enc');
    unsupported(sealRaw({ ...dirHeader, enc: 'a256gcm' }, innerToken(), dirSecret), 'enc');
    unsupported(sealRaw({ ...dirHeader, enc: 'A256CBC-HS512' }, innerToken(), dirSecret), 'enc');
  });

  it('crit is refused, whatever it lists', () => {
    for (const crit of [['exp'], [], ['b64'], 'exp']) {
      unsupported(sealRaw({ ...dirHeader, crit, exp: 1 }, innerToken(), dirSecret), 'crit');
    }
  });

  it('typ: absent or at+jwt (any case, application/ optional); others refused; the option changes it', () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', undefined]) {
      assert.ok(decrypterForAll().decrypt(sealRaw({ ...dirHeader, typ }, innerToken(), dirSecret), dir));
    }
    for (const typ of ['JWT', 'jwt', 'dpop+jwt', 7, '']) invalid(sealRaw({ ...dirHeader, typ }, innerToken(), dirSecret), 'typ');
    const token = sealRaw({ ...dirHeader, typ: 'JWT' }, innerToken(), dirSecret);
    assert.ok(decrypterForAll({ typ: ['JWT'] }).decrypt(token, dir));
  });

  it('cty: JWT required (any case, application/ optional)', () => {
    for (const cty of ['JWT', 'jwt', 'application/JWT']) {
      assert.ok(decrypterForAll().decrypt(sealRaw({ ...dirHeader, cty }, innerToken(), dirSecret), dir));
    }
    for (const cty of [undefined, 'at+jwt', 'JSON', 'application/jose', 1]) {
      invalid(sealRaw({ ...dirHeader, cty }, innerToken(), dirSecret), 'cty');
    }
  });

  it('epk, apu, apv are refused outside ECDH-ES; apu and apv must be canonical and short', async () => {
    invalid(sealRaw({ ...dirHeader, epk: ec.publicKey().toJwk() }, innerToken(), dirSecret), 'header');
    invalid(sealRaw({ ...dirHeader, apu: b64('alice') }, innerToken(), dirSecret), 'header');
    const good = parts(encryptJwt(innerToken(), ec.publicKey()));
    const header = JSON.parse(Buffer.from(good[0], 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const apu of [`${b64('alice')}=`, 5, b64(randomBytes(129))]) {
      invalid([b64(JSON.stringify({ ...header, apu })), ...good.slice(1)].join('.'), 'header', ec);
    }
  });

  it("apu and apv (jose's key management parameters) enter the Concat KDF", async () => {
    const inner = innerToken();
    for (const alg of ['ECDH-ES', 'ECDH-ES+A256KW'] as const) {
      const key = recipientKey(RECIPIENTS.find((r) => r.alg === alg)!);
      const token = await new CompactEncrypt(new TextEncoder().encode(inner))
        .setProtectedHeader({ alg, enc: 'A256GCM', cty: 'JWT' })
        .setKeyManagementParameters({ apu: Buffer.from('Alice'), apv: Buffer.from('Bob') })
        .encrypt(await importJWK(key.publicKey().toJwk() as unknown as JWK, alg));
      assert.equal(decrypterForAll().decrypt(token, key).jws, inner);
      const p = parts(token);
      const h = JSON.parse(Buffer.from(p[0], 'base64url').toString('utf8')) as Record<string, unknown>;
      // The same token with apv changed no longer decrypts: the KDF took it (and the header is the AAD).
      invalid([b64(JSON.stringify({ ...h, apv: b64('Eve') })), ...p.slice(1)].join('.'), 'decryption', key);
    }
  });

  it('ECDH-ES with a non-empty encrypted key is refused', () => {
    const key = recipientKey(RECIPIENTS.find((r) => r.alg === 'ECDH-ES')!);
    const p = parts(encryptJwt(innerToken(), key.publicKey()));
    invalid([p[0], b64(randomBytes(40)), ...p.slice(2)].join('.'), 'header', key);
  });
});

describe('JweDecrypter on mutated tokens', () => {
  it('every one-character change of a valid token, for every algorithm, is a TokenError, never a crash', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.={} ';
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (const r of RECIPIENTS) {
      const key = recipientKey(r);
      const inner = innerToken();
      const token = encryptJwt(inner, key.publicKey());
      for (let i = 0; i < 60; i++) {
        const at = next(token.length);
        const c = alphabet[next(alphabet.length)]!;
        const mutated = [
          token.slice(0, at) + c + token.slice(at + 1),
          token.slice(0, at) + token.slice(at + 1),
          token.slice(0, at) + c + token.slice(at),
        ][i % 3]!;
        let result: string | undefined;
        try {
          result = decrypterForAll().decrypt(mutated, key).jws;
        } catch (err) {
          assert.ok(err instanceof TokenError, `${r.name}: ${String(err)}`);
          continue;
        }
        // A change that decrypts can only be one that left the token as it was (the same character written back).
        assert.equal(mutated, token, r.name);
        assert.equal(result, inner);
      }
    }
  });
});

describe('JweDecrypter keys', () => {
  const other = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'other' });

  it('by exact kid among several keys; an unknown kid finds none', () => {
    const token = encryptJwt(innerToken(), ec.publicKey());
    assert.equal(decrypterForAll().decrypt(token, [other, dir, ec]).key, ec);
    rejects(() => decrypterForAll().decrypt(token, [other, dir]), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    const renamed = encryptJwt(innerToken(), ec.publicKey(), { kid: ec.kid.toUpperCase() + 'x' });
    rejects(() => decrypterForAll().decrypt(renamed, [ec]), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
  });

  it('without a kid, the one private key of the alg; two of them: none', async () => {
    const inner = innerToken();
    const token = await new CompactEncrypt(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT' })
      .encrypt(await importJWK(ec.publicKey().toJwk() as unknown as JWK, 'ECDH-ES+A256KW'));
    assert.equal(decrypterForAll().decrypt(token, [dir, ec, other.publicKey()]).jws, inner);
    rejects(() => decrypterForAll().decrypt(token, [ec, other]), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
  });

  it("a public key, a key of another alg under the token's kid, or no keys: none", () => {
    const token = encryptJwt(innerToken(), ec.publicKey());
    rejects(() => decrypterForAll().decrypt(token, ec.publicKey()), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    const sameKidOtherAlg = generateEncryptionKey('ECDH-ES', { kid: ec.kid });
    rejects(() => decrypterForAll().decrypt(token, sameKidOtherAlg), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    rejects(() => decrypterForAll().decrypt(token, []), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    rejects(() => decrypterForAll().decrypt(token, 'key' as never), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
  });

  it('a P-384 key given a P-256 token under its kid: the epk is not on its curve', () => {
    const p384 = generateEncryptionKey('ECDH-ES+A256KW', { crv: 'P-384', kid: ec.kid });
    invalid(encryptJwt(innerToken(), ec.publicKey()), 'epk', p384);
  });
});

describe('encryptJwt', () => {
  it('writes alg, enc A256GCM, cty JWT, typ at+jwt, the kid; options change enc, kid and typ', () => {
    for (const r of RECIPIENTS) {
      const key = recipientKey(r);
      const h = JSON.parse(Buffer.from(parts(encryptJwt(innerToken(), key.publicKey()))[0], 'base64url').toString('utf8'));
      const expected: Record<string, unknown> = { alg: r.alg, enc: 'A256GCM', cty: 'JWT', typ: 'at+jwt', kid: key.kid };
      if (r.alg.startsWith('ECDH')) expected.epk = h.epk;
      assert.deepEqual(h, expected);
      if (r.alg.startsWith('ECDH'))
        assert.deepEqual(
          Object.keys(h.epk as object).sort(),
          r.crv === 'X25519' ? ['crv', 'kty', 'x'] : ['crv', 'kty', 'x', 'y'],
        );
    }
    const h = JSON.parse(
      Buffer.from(
        parts(encryptJwt(innerToken(), ec.publicKey(), { enc: 'A128GCM', kid: 'k1', typ: 'JWT' }))[0],
        'base64url',
      ).toString('utf8'),
    );
    assert.equal(h.enc, 'A128GCM');
    assert.equal(h.kid, 'k1');
    assert.equal(h.typ, 'JWT');
  });

  it('two encryptions of one token differ (fresh IV, content key and epk)', () => {
    const inner = innerToken();
    assert.notEqual(encryptJwt(inner, ec.publicKey()), encryptJwt(inner, ec.publicKey()));
    assert.notEqual(parts(encryptJwt(inner, dir))[2], parts(encryptJwt(inner, dir))[2]);
  });

  it('refuses content that is not a signed JWS, an unknown enc, a dir key of the wrong size for enc', () => {
    const config = (fn: () => unknown, option: string): void => {
      rejects(fn, ConfigError, { code: 'ERR_CONFIG', option });
    };
    const inner = innerToken();
    config(() => encryptJwt('{"sub":"alice"}', ec), 'jws');
    config(() => encryptJwt(`${inner.split('.').slice(0, 2).join('.')}.`, ec), 'jws');
    config(() => encryptJwt(`${inner} `, ec), 'jws');
    config(() => encryptJwt(inner, ec.toJwk() as never), 'recipient');
    config(() => encryptJwt(inner, ec, { enc: 'A256CBC-HS512' as ContentEncryption }), 'enc');
    config(() => encryptJwt(inner, ec, { kid: '' }), 'kid');
    config(() => encryptJwt(inner, dir, { enc: 'A128GCM' }), 'enc');
    const dir128 = generateEncryptionKey('dir', { enc: 'A128GCM' });
    assert.equal(decrypterForAll().decrypt(encryptJwt(inner, dir128, { enc: 'A128GCM' }), dir128).jws, inner);
  });
});

describe('encryption keys', () => {
  it('generate every kind, kid the RFC 7638 thumbprint, JWK with use enc; the public half cannot decrypt', () => {
    for (const r of RECIPIENTS) {
      const key = recipientKey(r);
      const fresh = generateEncryptionKey(r.alg, { crv: r.crv });
      assert.equal(fresh.alg, r.alg);
      assert.equal(fresh.crv, r.crv);
      if (r.alg === 'dir') {
        assert.equal(fresh.kind, 'secret');
        assert.equal(fresh.kid, jwkThumbprint(fresh.toJwk({ private: true })));
        rejects(() => fresh.toJwk(), KeyInvalidError, { code: 'ERR_KEY_INVALID', reason: 'secret' });
        continue;
      }
      assert.equal(fresh.kind, 'private');
      assert.equal(fresh.kid, jwkThumbprint(fresh.toJwk()));
      const jwk = key.toJwk();
      assert.equal(jwk.use, 'enc');
      assert.equal(jwk.alg, r.alg);
      assert.equal(jwk.d, undefined);
      assert.equal(key.publicKey().kind, 'public');
      const back = importEncryptionJwk(key.toJwk({ private: true }));
      assert.equal(back.kid, key.kid);
      assert.equal(back.kind, 'private');
    }
  });

  it('generation refuses other algorithms, curves and sizes', () => {
    const config = (fn: () => unknown, option: string): void => {
      rejects(fn, ConfigError, { code: 'ERR_CONFIG', option });
    };
    config(() => generateEncryptionKey('RSA1_5' as KeyManagementAlgorithm), 'alg');
    config(() => generateEncryptionKey('ECDH-ES', { crv: 'P-521' as never }), 'crv');
    config(() => generateEncryptionKey('ECDH-ES', { crv: 'Ed25519' as never }), 'crv');
    config(() => generateEncryptionKey('RSA-OAEP-256', { modulusLength: 1024 }), 'modulusLength');
    config(() => generateEncryptionKey('dir', { enc: 'A192GCM' as never }), 'enc');
  });

  it('import refuses signing keys, other algorithms, curves, weak RSA, bad key_ops and inconsistent pairs', () => {
    const bad = (jwk: unknown, reason: string, alg?: KeyManagementAlgorithm): void => {
      rejects(() => importEncryptionJwk(jwk, alg ? { alg } : {}), KeyInvalidError, { code: 'ERR_KEY_INVALID', reason });
    };
    const ecJwk = ec.toJwk({ private: true });
    bad({ ...ecJwk, use: 'sig' }, 'use');
    bad({ ...ecJwk, alg: 'ES256' }, 'alg');
    bad({ ...ecJwk, alg: undefined }, 'alg');
    bad(ecJwk, 'alg', 'ECDH-ES');
    bad({ ...ecJwk, key_ops: ['sign'] }, 'key_ops');
    bad({ ...ec.toJwk(), key_ops: ['decrypt'] }, 'key_ops');
    bad('{}', 'jwk');
    bad({ ...ecJwk, kty: 'XX' }, 'kty');
    bad({ ...ecJwk, kid: '' }, 'kid');
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({ format: 'jwk' });
    bad({ ...p521, alg: 'ECDH-ES' }, 'alg');
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    bad({ ...ed, alg: 'ECDH-ES' }, 'alg');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    bad({ ...weak, alg: 'RSA-OAEP-256' }, 'weak');
    const x = Buffer.from(ecJwk.x as string, 'base64url');
    x[0]! ^= 1;
    bad({ ...ec.toJwk(), x: b64(x) }, 'jwk');
    const otherX = generateEncryptionKey('ECDH-ES+A256KW', { crv: 'X25519' });
    const xJwk = recipientKey(RECIPIENTS[2]!).toJwk({ private: true });
    assert.throws(
      () => importEncryptionJwk({ ...xJwk, x: otherX.toJwk().x }),
      (e: unknown) => e instanceof KeyInvalidError,
    );
    assert.equal(importEncryptionJwk({ ...ec.toJwk(), key_ops: ['wrapKey'] }).kind, 'public');
    assert.equal(importEncryptionJwk({ ...ecJwk, key_ops: ['deriveBits'] }).kind, 'private');
  });

  it('PEM: the private and public halves of every asymmetric kind, pinned to the alg given; encrypted PEM refused', () => {
    for (const r of RECIPIENTS.filter((x) => x.alg !== 'dir')) {
      const key = recipientKey(r);
      const priv = importEncryptionPem(key.keyObject.export({ format: 'pem', type: 'pkcs8' }) as string, { alg: r.alg });
      const pub = importEncryptionPem(key.publicKeyObject.export({ format: 'pem', type: 'spki' }) as string, { alg: r.alg });
      assert.equal(priv.kid, jwkThumbprint(key.toJwk()));
      assert.equal(pub.kid, priv.kid);
      assert.equal(priv.kind, 'private');
      assert.equal(pub.kind, 'public');
      const inner = innerToken();
      assert.equal(decrypterForAll().decrypt(encryptJwt(inner, pub), priv).jws, inner);
    }
    const ecPem = ec.publicKeyObject.export({ format: 'pem', type: 'spki' }) as string;
    const bad = (fn: () => unknown, reason: string): void => {
      rejects(fn, KeyInvalidError, { code: 'ERR_KEY_INVALID', reason });
    };
    bad(() => importEncryptionPem(ecPem, { alg: 'RSA-OAEP-256' }), 'alg');
    bad(() => importEncryptionPem(ecPem, { alg: 'dir' }), 'alg');
    bad(() => importEncryptionPem(ecPem, {} as never), 'alg');
    bad(() => importEncryptionPem('not a key', { alg: 'ECDH-ES' }), 'pem');
    const encrypted = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' },
      publicKeyEncoding: { format: 'pem', type: 'spki' },
    }).privateKey;
    bad(() => importEncryptionPem(encrypted, { alg: 'ECDH-ES' }), 'pem');
  });

  it('a dir secret: 32 or 16 bytes only; never to an asymmetric algorithm', () => {
    assert.equal(importDirectKey(randomBytes(32), { kid: 's' }).kid, 's');
    assert.equal(importDirectKey(randomBytes(16)).alg, 'dir');
    for (const n of [0, 15, 24, 31, 33, 64]) {
      rejects(() => importDirectKey(randomBytes(n)), KeyInvalidError, { code: 'ERR_KEY_INVALID', reason: 'alg' });
    }
    rejects(() => importEncryptionJwk({ kty: 'oct', k: b64(randomBytes(32)), alg: 'ECDH-ES' }), KeyInvalidError, {
      code: 'ERR_KEY_INVALID',
      reason: 'alg',
    });
    assert.equal(
      importEncryptionJwk({ kty: 'oct', k: b64(dirSecret), alg: 'dir' }).kid,
      jwkThumbprint({ kty: 'oct', k: b64(dirSecret) }),
    );
  });

  it('an EncryptionKey is not a signing key and a signing key is not an EncryptionKey', () => {
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const asEnc = new EncryptionKey(signing, 'ECDH-ES');
    assert.equal(asEnc.toJwk().use, 'enc');
    rejects(() => new EncryptionKey(signing, 'ES256' as never), KeyInvalidError, { code: 'ERR_KEY_INVALID', reason: 'alg' });
  });
});

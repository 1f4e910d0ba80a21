/**
 * Keys: generation, every import and export form and the round trips between them, the RFC 7638 kid
 * (checked against jose as the oracle), and every refusal with its `reason`.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import {
  ConfigError,
  generateKey,
  importDer,
  importJwk,
  importKey,
  importPem,
  importSecret,
  importSshPublicKey,
  jwkThumbprint,
  KeyInvalidError,
  signAccessToken,
  verifyAccessToken,
  type Algorithm,
  type Key,
} from '@tessera/core';
import { calculateJwkThumbprint } from 'jose';

const ISS = 'https://issuer.example';
const AUD = 'orders';

function sign(key: Key): string {
  return signAccessToken({ iss: ISS, sub: 'alice', aud: AUD, client_id: 'web', ttl: 60 }, key);
}

/** Asserts that `key` verifies `token` (made by `sign`). */
function assertVerifies(token: string, key: Key): void {
  const { claims } = verifyAccessToken(token, key, { algorithms: [key.alg], issuer: ISS, audience: AUD });
  assert.equal(claims.sub, 'alice');
}

/** Asserts that `fn` throws a KeyInvalidError with this reason. */
function assertRefused(fn: () => unknown, reason: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KeyInvalidError, `expected KeyInvalidError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_KEY_INVALID');
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

function der(ko: KeyObject, type: 'spki' | 'pkcs8' | 'pkcs1' | 'sec1'): Uint8Array {
  return new Uint8Array(ko.export({ format: 'der', type } as never) as Buffer);
}

/** An OpenSSH public key line (RFC 4253 section 6.6, RFC 5656, RFC 8709), written independently of Tessera. */
function sshLine(jwk: Record<string, unknown>): string {
  const str = (b: Buffer | string): Buffer => {
    const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
  };
  const b64 = (m: string): Buffer => Buffer.from(jwk[m] as string, 'base64url');
  const mpint = (b: Buffer): Buffer => str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  let type: string;
  let blob: Buffer;
  if (jwk.kty === 'RSA') {
    type = 'ssh-rsa';
    blob = Buffer.concat([str(type), mpint(b64('e')), mpint(b64('n'))]);
  } else if (jwk.kty === 'OKP') {
    type = 'ssh-ed25519';
    blob = Buffer.concat([str(type), str(b64('x'))]);
  } else {
    type = 'ecdsa-sha2-nistp256';
    blob = Buffer.concat([str(type), str('nistp256'), str(Buffer.concat([Buffer.from([4]), b64('x'), b64('y')]))]);
  }
  return `${type} ${blob.toString('base64')} test@tessera`;
}

/** The asymmetric cases of the round trips, with RSA at two sizes. */
const ASYMMETRIC: { name: string; key: Key; rsa: boolean }[] = [
  { name: 'ES256', key: generateKey('ES256'), rsa: false },
  { name: 'EdDSA', key: generateKey('EdDSA'), rsa: false },
  { name: 'RS256 (2048)', key: generateKey('RS256'), rsa: true },
  { name: 'RS256 (3072)', key: generateKey('RS256', { modulusLength: 3072 }), rsa: true },
];

describe('generateKey', () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
    it(`${alg}: a private key pinned to ${alg}, with a public half`, () => {
      const key = generateKey(alg);
      assert.equal(key.alg, alg);
      assert.equal(key.kind, 'private');
      assert.equal(key.kty, { ES256: 'EC', EdDSA: 'OKP', RS256: 'RSA' }[alg]);
      const pub = key.publicKey();
      assert.equal(pub.kind, 'public');
      assert.equal(pub.kid, key.kid);
      assert.equal(pub.alg, alg);
      assertVerifies(sign(key), pub);
    });
  }

  it('RS256: 2048 bits by default, 3072 on request, exponent 65537', () => {
    for (const [i, bits] of [
      [2, 2048],
      [3, 3072],
    ] as const) {
      const key = ASYMMETRIC[i]!.key;
      const details = key.keyObject.asymmetricKeyDetails!;
      assert.equal(details.modulusLength, bits);
      assert.equal(details.publicExponent, 65537n);
      assert.equal(key.signatureLength, bits / 8);
      assertVerifies(sign(key), key.publicKey());
    }
  });

  for (const [alg, bytes] of [
    ['HS256', 32],
    ['HS384', 48],
    ['HS512', 64],
  ] as const) {
    it(`${alg}: a secret of ${bytes} bytes`, () => {
      const key = generateKey(alg);
      assert.equal(key.kind, 'secret');
      assert.equal(key.kty, 'oct');
      assert.equal(key.keyObject.symmetricKeySize, bytes);
      assert.equal(key.publicKey(), key);
      assertVerifies(sign(key), key);
    });
  }

  it('keeps a kid given as an option', () => {
    assert.equal(generateKey('ES256', { kid: 'signing-2024' }).kid, 'signing-2024');
  });

  it('refuses RSA under 2048 bits and unknown algorithms as configuration errors', () => {
    assert.throws(
      () => generateKey('RS256', { modulusLength: 1024 }),
      (e: unknown) => e instanceof ConfigError && e.option === 'modulusLength',
    );
    assert.throws(
      () => generateKey('none' as Algorithm),
      (e: unknown) => e instanceof ConfigError && e.option === 'alg',
    );
  });
});

describe('round trips of asymmetric keys', () => {
  for (const { name, key, rsa } of ASYMMETRIC) {
    const token = sign(key);
    const alg = key.alg;
    const pinned = rsa ? { alg } : {};

    /** A public import: same kid and alg, and it verifies what the original signed. */
    const checkPublic = (imported: Key): void => {
      assert.equal(imported.kind, 'public');
      assert.equal(imported.alg, alg);
      assert.equal(imported.kid, key.kid);
      assertVerifies(token, imported);
    };
    /** A private import: same kid, and the original's public half verifies what it signs. */
    const checkPrivate = (imported: Key): void => {
      assert.equal(imported.kind, 'private');
      assert.equal(imported.alg, alg);
      assert.equal(imported.kid, key.kid);
      assertVerifies(token, imported.publicKey());
      assertVerifies(sign(imported), key.publicKey());
    };

    describe(name, () => {
      it('toJwk() is public and carries kid, alg and use', () => {
        const jwk = key.toJwk();
        assert.equal(jwk.kid, key.kid);
        assert.equal(jwk.alg, alg);
        assert.equal(jwk.use, 'sig');
        for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(jwk[m], undefined, `public JWK has ${m}`);
        checkPublic(importJwk(jwk));
        checkPublic(importJwk(key.publicKey().toJwk()));
      });

      it('toJwk({ private: true }) round-trips the private key', () => {
        const jwk = key.toJwk({ private: true });
        assert.equal(typeof jwk.d, 'string');
        checkPrivate(importJwk(jwk));
        // A public key has no private form to give.
        assert.equal(key.publicKey().toJwk({ private: true }).d, undefined);
      });

      it('toPem(): SPKI and PKCS#8', () => {
        const spki = key.toPem();
        assert.match(spki, /^-----BEGIN PUBLIC KEY-----\n/);
        checkPublic(importPem(spki, pinned));
        const pkcs8 = key.toPem({ private: true });
        assert.match(pkcs8, /^-----BEGIN PRIVATE KEY-----\n/);
        checkPrivate(importPem(pkcs8, pinned));
        assertRefused(() => key.publicKey().toPem({ private: true }), 'public');
      });

      if (rsa) {
        it('toPem({ pkcs1: true }): RSA PUBLIC KEY and RSA PRIVATE KEY', () => {
          const pub = key.toPem({ pkcs1: true });
          assert.match(pub, /^-----BEGIN RSA PUBLIC KEY-----\n/);
          checkPublic(importPem(pub, { alg }));
          const priv = key.toPem({ private: true, pkcs1: true });
          assert.match(priv, /^-----BEGIN RSA PRIVATE KEY-----\n/);
          checkPrivate(importPem(priv, { alg }));
        });

        it('importDer: SPKI, PKCS#8, PKCS#1 public and private', () => {
          checkPublic(importDer(der(key.publicKeyObject, 'spki'), { type: 'spki', alg }));
          checkPrivate(importDer(der(key.keyObject, 'pkcs8'), { type: 'pkcs8', alg }));
          checkPublic(importDer(der(key.publicKeyObject, 'pkcs1'), { type: 'pkcs1', alg }));
          checkPrivate(importDer(der(key.keyObject, 'pkcs1'), { type: 'pkcs1', private: true, alg }));
        });

        it('an RSA key needs its alg from the caller when the format does not carry one', () => {
          assertRefused(() => importPem(key.toPem()), 'alg');
          const bare = withoutAlg(key.toJwk());
          assertRefused(() => importJwk(bare), 'alg');
          checkPublic(importJwk(bare, { alg }));
        });
      } else {
        it('PKCS#1 is for RSA only', () => {
          assertRefused(() => key.toPem({ pkcs1: true }), 'pkcs1');
        });

        it('importDer: SPKI and PKCS#8', () => {
          checkPublic(importDer(der(key.publicKeyObject, 'spki'), { type: 'spki' }));
          checkPrivate(importDer(der(key.keyObject, 'pkcs8'), { type: 'pkcs8' }));
          if (key.kty === 'EC') checkPrivate(importDer(der(key.keyObject, 'sec1'), { type: 'sec1' }));
        });
      }

      it('importKey detects JWK objects, JWK text, PEM, OpenSSH lines and DER bytes', () => {
        const jwk = key.toJwk();
        checkPublic(importKey(jwk));
        checkPublic(importKey(JSON.stringify(jwk)));
        checkPublic(importKey(`\n  ${JSON.stringify(jwk, null, 2)}\n`));
        checkPrivate(importKey(JSON.stringify(key.toJwk({ private: true }))));
        checkPublic(importKey(key.toPem(), pinned));
        checkPublic(importKey(`\n${key.toPem()}\n`, pinned));
        checkPrivate(importKey(key.toPem({ private: true }), pinned));
        checkPublic(importKey(sshLine(jwk), pinned));
        checkPublic(importSshPublicKey(sshLine(jwk), pinned));
        checkPublic(importKey(der(key.publicKeyObject, 'spki'), pinned));
        checkPrivate(importKey(der(key.keyObject, 'pkcs8'), pinned));
        checkPrivate(importKey(Buffer.from(der(key.keyObject, 'pkcs8')), pinned));
      });

      it('an explicit kid wins over the default', () => {
        assert.equal(importPem(key.toPem(), { ...pinned, kid: 'k1' }).kid, 'k1');
        assert.equal(importJwk({ ...key.toJwk(), kid: 'from-jwk' }).kid, 'from-jwk');
        assert.equal(importJwk({ ...key.toJwk(), kid: 'from-jwk' }, { kid: 'from-options' }).kid, 'from-options');
      });
    });
  }

  it('importKey refuses what is no key format at all', () => {
    assertRefused(() => importKey('not a key'), 'format');
    assertRefused(() => importKey('{"kty":'), 'jwk');
    assertRefused(() => importKey(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), 'der');
  });
});

describe('round trips of HMAC secrets', () => {
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(alg, () => {
      const key = generateKey(alg);
      const token = sign(key);
      const jwk = key.toJwk({ private: true });
      assert.equal(jwk.kty, 'oct');
      assert.equal(jwk.alg, alg);
      for (const imported of [
        importJwk(jwk),
        importKey(jwk),
        importKey(JSON.stringify(jwk)),
        importSecret(key.keyObject.export(), { alg }),
        importSecret(Buffer.from(jwk.k as string, 'base64url'), { alg, kid: key.kid }),
      ]) {
        assert.equal(imported.kind, 'secret');
        assert.equal(imported.kid, key.kid);
        assertVerifies(token, imported);
      }
      // A secret has no public form and no PEM form.
      assertRefused(() => key.toJwk(), 'secret');
      assertRefused(() => key.toPem(), 'secret');
    });
  }
});

describe('kid: the RFC 7638 JWK thumbprint', () => {
  for (const alg of ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256', 'HS256'] as const) {
    it(`${alg}: equals jose's calculateJwkThumbprint`, async () => {
      // Several keys for the cheap types, so that a short coordinate or a leading zero shows up.
      for (let i = 0; i < (alg.startsWith('ES') || alg === 'EdDSA' || alg === 'HS256' ? 16 : 1); i++) {
        const key = generateKey(alg);
        const jwk = key.kind === 'secret' ? key.toJwk({ private: true }) : key.toJwk();
        assert.equal(key.kid, await calculateJwkThumbprint(jwk as never, 'sha256'));
        assert.equal(jwkThumbprint(jwk), key.kid);
        if (key.kind === 'private') {
          assert.equal(importJwk({ ...key.toJwk(), kid: undefined }).kid, key.kid);
          assert.equal(importJwk({ ...key.toJwk({ private: true }), kid: undefined }).kid, key.kid);
        }
      }
    });
  }

  it('Ed448 too', async () => {
    const key = generateKey('EdDSA', { crv: 'Ed448' });
    assert.equal(key.toJwk().crv, 'Ed448');
    assert.equal(key.kid, await calculateJwkThumbprint(key.toJwk() as never));
    assertVerifies(sign(key), importJwk(key.toJwk()));
  });

  it('the example of RFC 7638 section 3.1', () => {
    const jwk = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBX' +
        'Arwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2Nc' +
        'Rwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    const thumbprint = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
    assert.equal(jwkThumbprint(jwk), thumbprint);
    assert.equal(importJwk(jwk).kid, '2011-04-29');
    assert.equal(importJwk({ ...jwk, kid: undefined }).kid, thumbprint);
    assert.equal(importPem(importJwk(jwk).toPem(), { alg: 'RS256' }).kid, thumbprint);
  });
});

/** A self-signed P-256 certificate (`openssl req -x509 -newkey ec`). */
const CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUYEgZYDTAI+czNZhqOJ6wXqOYu7YwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdGVzc2VyYS10ZXN0MB4XDTI2MTEyMzAyMjQ1OFoXDTM2MTEy
MDAyMjQ1OFowFzEVMBMGA1UEAwwMdGVzc2VyYS10ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEk1VuyBR4c1eo7JcnrEw7A+0VN6pa4Ecj6d+TZELRGgv1lyr3
t+DcmE6DppD+1Fr5zQYjPLeFwpIbsUkB5unNJKNTMFEwHQYDVR0OBBYEFARq0Y0G
UoWuSczTlAJ4WSE0cxbTMB8GA1UdIwQYMBaAFARq0Y0GUoWuSczTlAJ4WSE0cxbT
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAJ3+H7O413tK49nm
kU1isEYgz3lJO+nQ8eXvUoRDxXBnAiBTHu4uDNZV4iQZq4Fv5Flfo0Cruc/kLChL
NcPKejwbTQ==
-----END CERTIFICATE-----
`;

/** An Ed25519 key as `ssh-keygen -t ed25519` writes it (a throwaway made for this test). */
const OPENSSH_PRIVATE_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACASS+5UewEts4BEhbh+8dAx2TrT7Pj2BBt05CRgr9jafQAAAJDuwijH7sIo
xwAAAAtzc2gtZWQyNTUxOQAAACASS+5UewEts4BEhbh+8dAx2TrT7Pj2BBt05CRgr9jafQ
AAAEAT+4vP353uodfO16mwCckeMW31U6t040Mhz6cME0UKRRJL7lR7AS2zgESFuH7x0DHZ
OtPs+PYEG3TkJGCv2Np9AAAADHRlc3NlcmEtdGVzdAE=
-----END OPENSSH PRIVATE KEY-----
`;

describe('refused keys', () => {
  const ec = generateKey('ES256');
  const rsa = generateKey('RS256');

  it('RSA under 2048 bits: weak', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assertRefused(() => importPem(publicKey.export({ format: 'pem', type: 'spki' }) as string, { alg: 'RS256' }), 'weak');
    assertRefused(() => importPem(privateKey.export({ format: 'pem', type: 'pkcs1' }) as string, { alg: 'RS256' }), 'weak');
    assertRefused(() => importJwk({ ...publicKey.export({ format: 'jwk' }), alg: 'RS256' }), 'weak');
    assertRefused(() => importDer(der(publicKey, 'spki'), { type: 'spki', alg: 'PS256' }), 'weak');
  });

  it('RSA with public exponent 3: weak', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    assertRefused(() => importPem(publicKey.export({ format: 'pem', type: 'spki' }) as string, { alg: 'RS256' }), 'weak');
    assertRefused(() => importJwk({ ...privateKey.export({ format: 'jwk' }), alg: 'RS256' }), 'weak');
  });

  it('HMAC secrets shorter than the hash: weak', () => {
    assertRefused(() => importSecret(Buffer.alloc(31, 7), { alg: 'HS256' }), 'weak');
    assertRefused(() => importSecret(Buffer.alloc(47, 7), { alg: 'HS384' }), 'weak');
    assertRefused(() => importSecret(Buffer.alloc(63, 7), { alg: 'HS512' }), 'weak');
    assertRefused(() => importSecret(new Uint8Array(0), { alg: 'HS256' }), 'weak');
    assertRefused(() => importJwk({ kty: 'oct', alg: 'HS256', k: Buffer.alloc(31, 7).toString('base64url') }), 'weak');
    assertRefused(() => importJwk({ kty: 'oct', alg: 'HS384', k: Buffer.alloc(47, 7).toString('base64url') }), 'weak');
    assertRefused(() => importJwk({ kty: 'oct', alg: 'HS256', k: '' }), 'weak');
    // The boundary is accepted.
    assert.equal(importSecret(Buffer.alloc(32, 7), { alg: 'HS256' }).kind, 'secret');
    assert.equal(importJwk({ kty: 'oct', alg: 'HS384', k: Buffer.alloc(48, 7).toString('base64url') }).kind, 'secret');
  });

  it('use other than "sig"', () => {
    assertRefused(() => importJwk({ ...ec.toJwk(), use: 'enc' }), 'use');
    assertRefused(() => importJwk({ ...rsa.toJwk(), use: 'enc' }), 'use');
  });

  it('key_ops that do not allow verifying (public) or signing (private)', () => {
    assertRefused(() => importJwk({ ...ec.toJwk(), key_ops: ['encrypt'] }), 'key_ops');
    assertRefused(() => importJwk({ ...ec.toJwk(), key_ops: ['sign'] }), 'key_ops');
    assertRefused(() => importJwk({ ...ec.toJwk(), key_ops: 'verify' }), 'key_ops');
    assertRefused(() => importJwk({ ...ec.toJwk({ private: true }), key_ops: ['verify'] }), 'key_ops');
    assert.equal(importJwk({ ...ec.toJwk(), key_ops: ['verify'] }).kind, 'public');
    assert.equal(importJwk({ ...ec.toJwk({ private: true }), key_ops: ['sign'] }).kind, 'private');
  });

  it('an alg that does not fit the key', () => {
    const rsaJwk = withoutAlg(rsa.toJwk());
    const ecJwk = withoutAlg(ec.toJwk());
    assertRefused(() => importJwk({ ...rsaJwk, alg: 'ES256' }), 'alg');
    assertRefused(() => importJwk(rsaJwk, { alg: 'ES256' }), 'alg');
    assertRefused(() => importPem(rsa.toPem(), { alg: 'ES256' }), 'alg');
    assertRefused(() => importJwk({ ...ecJwk, alg: 'RS256' }), 'alg');
    assertRefused(() => importPem(ec.toPem(), { alg: 'RS256' }), 'alg');
    assertRefused(() => importJwk({ ...ecJwk, alg: 'ES512' }), 'alg');
    assertRefused(() => importPem(ec.toPem(), { alg: 'ES512' }), 'alg');
    assertRefused(() => importPem(ec.toPem(), { alg: 'HS256' }), 'alg');
    assertRefused(() => importPem(generateKey('EdDSA').toPem(), { alg: 'ES256' }), 'alg');
    assertRefused(() => importJwk(ec.toJwk(), { alg: 'ES384' }), 'alg');
  });

  it('an alg that is no JWS algorithm', () => {
    const ecJwk = withoutAlg(ec.toJwk());
    for (const alg of ['ES521', 'A256GCM', 'none', 'es256', 'constructor', '__proto__', 'toString']) {
      assertRefused(() => importJwk({ ...ecJwk, alg }), 'alg');
      assertRefused(() => importJwk(ecJwk, { alg: alg as Algorithm }), 'alg');
      assertRefused(() => importPem(ec.toPem(), { alg: alg as Algorithm }), 'alg');
      assertRefused(() => importDer(der(ec.publicKeyObject, 'spki'), { type: 'spki', alg: alg as Algorithm }), 'alg');
    }
  });

  it('an EC point not on the curve', () => {
    const jwk = ec.toJwk();
    const y = Buffer.from(jwk.y as string, 'base64url');
    y[y.length - 1]! ^= 1;
    assertRefused(() => importJwk({ ...jwk, y: y.toString('base64url') }), 'jwk');
    const spki = Buffer.from(der(ec.publicKeyObject, 'spki'));
    spki[spki.length - 1]! ^= 1; // the last byte of the uncompressed point's y
    assertRefused(() => importDer(spki, { type: 'spki' }), 'der');
  });

  // Node 24's OpenSSL refuses such a pair on import, Node 20's and 22's take it and only a signature shows
  // the mismatch: the reason is `inconsistent` on all of them, for every curve and key type.
  it('a private JWK whose public members are not its own', () => {
    const kinds = [['ES256'], ['ES384'], ['ES512'], ['EdDSA', 'Ed25519'], ['EdDSA', 'Ed448'], ['RS256']] as const;
    for (const [alg, crv] of kinds) {
      const a = generateKey(alg, crv ? { crv } : {}).toJwk({ private: true });
      const b = generateKey(alg, crv ? { crv } : {}).toJwk({ private: true });
      const privateOfA = alg === 'RS256' ? { d: a.d, p: a.p, q: a.q, dp: a.dp, dq: a.dq, qi: a.qi } : { d: a.d };
      assertRefused(() => importJwk({ ...b, ...privateOfA }), 'inconsistent');
    }
    const a = generateKey('RS256').toJwk({ private: true });
    const b = generateKey('RS256').toJwk({ private: true });
    assertRefused(() => importJwk({ ...a, n: b.n }), 'inconsistent');
  });

  it('a private JWK whose private members make no key', () => {
    const ecJwk = ec.toJwk({ private: true });
    const order = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex'); // P-256's n
    for (const d of [Buffer.alloc(32), order]) assertRefused(() => importJwk({ ...ecJwk, d: d.toString('base64url') }), 'jwk');
    const okp = generateKey('EdDSA').toJwk({ private: true });
    assertRefused(() => importJwk({ ...okp, d: Buffer.alloc(31, 1).toString('base64url') }), 'jwk');
  });

  it('encrypted PEM, PKCS#8 and legacy PEM encryption alike', () => {
    const options = { cipher: 'aes-256-cbc', passphrase: 'correct horse' };
    const pkcs8 = ec.keyObject.export({ format: 'pem', type: 'pkcs8', ...options }) as string;
    assert.match(pkcs8, /BEGIN ENCRYPTED PRIVATE KEY/);
    assertRefused(() => importPem(pkcs8), 'pem');
    assertRefused(() => importKey(pkcs8), 'pem');
    const legacy = rsa.keyObject.export({ format: 'pem', type: 'pkcs1', ...options }) as string;
    assert.match(legacy, /Proc-Type: 4,ENCRYPTED/);
    assertRefused(() => importPem(legacy, { alg: 'RS256' }), 'pem');
  });

  it('an OpenSSH private key', () => {
    assertRefused(() => importPem(OPENSSH_PRIVATE_KEY), 'pem');
    assertRefused(() => importKey(OPENSSH_PRIVATE_KEY), 'pem');
  });

  it('a certificate', () => {
    assertRefused(() => importPem(CERTIFICATE), 'pem');
    assertRefused(() => importKey(CERTIFICATE), 'pem');
  });

  it('malformed JWKs', () => {
    assertRefused(() => importJwk(null), 'jwk');
    assertRefused(() => importJwk([ec.toJwk()]), 'jwk');
    assertRefused(() => importJwk({ ...ec.toJwk(), kty: 'ec' }), 'kty');
    assertRefused(() => importJwk({ ...ec.toJwk(), kid: '' }), 'kid');
    assertRefused(() => importJwk({ ...ec.toJwk(), kid: 7 }), 'kid');
    assertRefused(() => importJwk({ kty: 'oct', alg: 'HS256', k: 'not+base64url' }), 'jwk');
    assertRefused(() => importJwk({ ...ec.toJwk(), alg: undefined, crv: 'secp256k1' }), 'crv');
    assertRefused(() => importJwk({ kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32, 9).toString('base64url') }), 'crv');
  });
});

describe('ROCA (CVE-2017-15361)', () => {
  it("refuses Wycheproof's jws_rsa_roca_key as weak", () => {
    const file = new URL('../../../testdata/wycheproof/json_web_key_test.json', import.meta.url);
    const groups = (
      JSON.parse(readFileSync(file, 'utf8')) as {
        testGroups: { comment: string; public?: { keys: Record<string, unknown>[] } }[];
      }
    ).testGroups;
    const group = groups.find((g) => g.comment === 'jws_rsa_roca_key');
    assert.ok(group?.public, 'the ROCA group is in the Wycheproof file');
    const [jwk] = group.public.keys;
    assert.ok(jwk);
    assertRefused(() => importJwk(jwk), 'weak');
    assertRefused(() => importJwk({ ...jwk, alg: undefined }, { alg: 'PS256' }), 'weak');
  });

  it('does not flag 20 freshly generated RSA keys', async () => {
    const generate = promisify(generateKeyPair);
    const pairs = await Promise.all(Array.from({ length: 20 }, () => generate('rsa', { modulusLength: 2048 })));
    for (const { publicKey } of pairs) {
      assert.equal(importJwk(publicKey.export({ format: 'jwk' }), { alg: 'RS256' }).kind, 'public');
    }
  });
});

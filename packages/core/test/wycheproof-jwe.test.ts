/**
 * Wycheproof's JWE vectors (testdata/wycheproof/json_web_crypto_test.json, groups jwe_aes and jwe_ec: 34 tests)
 * against JweDecrypter, each by its tcId's result: every `invalid` vector is refused; a `valid` one is accepted
 * when its alg and enc are ones Tessera decrypts, and refused as unsupported otherwise (the suite's valid
 * vectors use A256KW with A256CBC-HS512 and ECDH-ES+A128KW with A128CBC-HS256, which Tessera never decrypts).
 * The invalid-curve vector's epk is then put under an algorithm Tessera does decrypt, against the group's key.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  importEncryptionJwk,
  JweInvalidError,
  JweUnsupportedError,
  TokenError,
  type EncryptionKey,
  type KeyManagementAlgorithm,
} from '@tessera/core';

import { decrypterForAll } from './helpers/jwe.js';
import { rejects } from './helpers/rejects.js';

const FILE = new URL('../../../testdata/wycheproof/json_web_crypto_test.json', import.meta.url);
const SUPPORTED_ALGS = ['ECDH-ES+A256KW', 'ECDH-ES', 'RSA-OAEP-256', 'dir'];
const SUPPORTED_ENCS = ['A256GCM', 'A128GCM'];

interface Vector {
  tcId: number;
  comment: string;
  jwe: string | object;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface Group {
  type: string;
  private: Record<string, unknown>;
  tests: Vector[];
}

const groups = (JSON.parse(readFileSync(FILE, 'utf8')) as { testGroups: Group[] }).testGroups.filter(
  (g) => g.tests[0]?.jwe !== undefined,
);

/** The header of a compact vector, when it has one that parses. */
function headerOf(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The group's key as Tessera imports it for an algorithm it decrypts (EC keys), or none (the A256KW secret). */
function groupKey(group: Group, alg: KeyManagementAlgorithm): EncryptionKey | undefined {
  if (group.private.kty !== 'EC') return undefined;
  const jwk = Object.fromEntries(Object.entries(group.private).filter(([name]) => name !== 'alg'));
  return importEncryptionJwk(jwk, { alg });
}

describe('wycheproof JWE vectors (jwe_aes, jwe_ec)', () => {
  it('are the 34 vectors of the two groups', () => {
    assert.deepEqual(
      groups.map((g) => g.tests.length),
      [17, 17],
    );
  });

  for (const group of groups) {
    for (const v of group.tests) {
      it(`tc ${v.tcId} ${v.result}: ${v.comment}`, () => {
        const token = typeof v.jwe === 'string' ? v.jwe : JSON.stringify(v.jwe);
        const header = typeof v.jwe === 'string' ? headerOf(v.jwe) : undefined;
        const supported =
          header !== undefined && SUPPORTED_ALGS.includes(header.alg as string) && SUPPORTED_ENCS.includes(header.enc as string);
        const key = groupKey(group, (supported ? header.alg : 'ECDH-ES+A256KW') as KeyManagementAlgorithm);
        const keys = key === undefined ? [] : [key];
        if (v.result === 'valid' && supported) {
          assert.ok(decrypterForAll().decrypt(token, keys).jws.length > 0);
          return;
        }
        if (v.result === 'valid') {
          // Valid JOSE, but an algorithm Tessera does not take: refused before any key is looked at.
          rejects(() => decrypterForAll().decrypt(token, keys), JweUnsupportedError, {
            code: 'ERR_JWE_UNSUPPORTED',
            parameter: 'alg',
          });
          return;
        }
        assert.throws(
          () => decrypterForAll().decrypt(token, keys),
          (e: unknown) => e instanceof TokenError && (e instanceof JweInvalidError || e instanceof JweUnsupportedError),
        );
      });
    }
  }

  it("tc 83's epk (off the curve) under ECDH-ES+A256KW is refused as an invalid epk; tc 67's (on it) gets to the decryption", () => {
    const ec = groups.find((g) => g.private.kty === 'EC')!;
    const key = groupKey(ec, 'ECDH-ES+A256KW')!;
    const epkOf = (tcId: number): unknown => headerOf(ec.tests.find((t) => t.tcId === tcId)!.jwe as string)!.epk;
    const token = (epk: unknown): string => {
      const h = Buffer.from(JSON.stringify({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', epk })).toString('base64url');
      return [h, randomBytes(40), randomBytes(12), randomBytes(64), randomBytes(16)]
        .map((p, i) => (i === 0 ? p : (p as Buffer).toString('base64url')))
        .join('.');
    };
    rejects(() => decrypterForAll().decrypt(token(epkOf(83)), key), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'epk' });
    rejects(() => decrypterForAll().decrypt(token(epkOf(67)), key), JweInvalidError, {
      code: 'ERR_JWE_INVALID',
      reason: 'decryption',
    });
  });
});

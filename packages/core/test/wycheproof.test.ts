/**
 * Wycheproof's JWS and JWK vectors (testdata/wycheproof, C2SP/wycheproof dac1dd4): every `invalid`
 * vector is rejected and every `valid` one accepted, except the vectors listed in CONTRADICTIONS, which
 * contradict other vectors of the same suite (or RFC 7515) so that no verifier can satisfy both. For each,
 * the test checks the contradiction itself, so the list cannot hide a real failure.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import type { KeySet } from '@tessera/core';
import { ALGORITHMS, importJwk, JwsVerifier, parseJwks, TesseraError, type Algorithm, type Key } from '@tessera/core';

const DIR = new URL('../../../testdata/wycheproof/', import.meta.url);
const ALL = Object.keys(ALGORITHMS) as Algorithm[];
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

interface Vector {
  tcId: number;
  comment: string;
  jws?: string | object;
  jwe?: string | object;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
}
interface Group {
  comment: string;
  public?: Record<string, unknown> & { keys?: Record<string, unknown>[] };
  private?: Record<string, unknown> & { keys?: Record<string, unknown>[] };
  tests: Vector[];
}

function load(file: string): Group[] {
  return (JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as { testGroups: Group[] }).testGroups;
}

/** A verifier holds the public half of a key pair; Wycheproof sometimes lists only the private JWK. */
function publicHalf(jwk: Record<string, unknown>): Record<string, unknown> {
  if (jwk.kty === 'oct') return jwk;
  return Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE.includes(k)));
}

function keysOf(group: Group): Key | KeySet {
  const k = (group.public ?? group.private)!;
  return k.keys ? parseJwks({ keys: k.keys.map(publicHalf) }) : importJwk(publicHalf(k));
}

const verifier = new JwsVerifier({ algorithms: ALL });

/** Runs one vector; returns the error, or undefined when the token verified. */
function run(group: Group, v: Vector): TesseraError | undefined {
  const token = v.jws ?? v.jwe;
  try {
    verifier.verify(typeof token === 'string' ? token : JSON.stringify(token), keysOf(group));
    return undefined;
  } catch (err) {
    assert.ok(err instanceof TesseraError, `tc ${v.tcId}: threw a non-Tessera error: ${String(err)}`);
    return err;
  }
}

function vector(groups: Group[], tcId: number): { group: Group; v: Vector } {
  for (const group of groups) for (const v of group.tests) if (v.tcId === tcId) return { group, v };
  throw new Error(`no vector ${tcId}`);
}

const jws = load('json_web_signature_test.json');
const jwk = load('json_web_key_test.json');
const jwc = load('json_web_crypto_test.json');

/**
 * Vectors that contradict the suite itself: no verifier can meet both expectations. Each names the outcome
 * Tessera gives, and its check proves the contradiction from the data.
 */
const CONTRADICTIONS: Record<string, Record<number, { why: string; outcome: 'rejected' | 'accepted'; check: () => void }>> = {
  'json_web_signature_test.json': {
    346: {
      outcome: 'rejected',
      why: 'PS384 token verified by a key whose alg is PS256; tc 338 (PS256 token, PS512 key, a genuine PS256 signature) is invalid for the same mismatch',
      check: () => assert.equal(run(vector(jws, 338).group, vector(jws, 338).v)?.code, 'ERR_ALG_KEY_MISMATCH'),
    },
    350: {
      outcome: 'rejected',
      why: 'as 346, with key_ops',
      check: () => assert.equal(vector(jws, 350).group.public?.alg, 'PS256'),
    },
    347: {
      outcome: 'rejected',
      why: 'the key names alg "ES521", not a JWS algorithm; json_web_key_test tc 19 marks a key with alg ES521 invalid',
      check: () => assert.equal(vector(jwk, 19).v.result, 'invalid'),
    },
    351: {
      outcome: 'rejected',
      why: 'as 347, with key_ops',
      check: () => assert.equal(vector(jws, 351).group.public?.alg, 'ES521'),
    },
    367: {
      outcome: 'accepted',
      why: 'invalidBase64Padding: byte-for-byte the token of tc 357, which is valid',
      check: () => assert.equal(vector(jws, 367).v.jws, vector(jws, 357).v.jws),
    },
    370: {
      outcome: 'accepted',
      why: 'invalidBase64PaddingInPayload: byte-for-byte the token of tc 357, which is valid',
      check: () => assert.equal(vector(jws, 370).v.jws, vector(jws, 357).v.jws),
    },
    372: {
      outcome: 'rejected',
      why: "a '?' inside the header segment; it verifies only if the verifier drops invalid characters and re-encodes, against RFC 7515 section 5.2 and tcs 360-366",
      check: () => assert.ok(String(vector(jws, 372).v.jws).includes('?')),
    },
    373: {
      outcome: 'rejected',
      why: "a '?' inside the payload segment, as 372",
      check: () => assert.ok(String(vector(jws, 373).v.jws).includes('?')),
    },
  },
};

function suite(file: string, groups: Group[]): void {
  describe(`wycheproof ${file}`, () => {
    const contradictions = CONTRADICTIONS[file] ?? {};
    for (const group of groups) {
      for (const v of group.tests) {
        if (v.jwe !== undefined) continue; // JWE: see the test below
        const c = contradictions[v.tcId];
        it(`tc ${v.tcId} ${group.comment} ${v.comment}: ${c ? `contradictory, ${c.outcome}` : v.result}`, () => {
          let err: TesseraError | undefined;
          try {
            err = run(group, v);
          } catch (e) {
            if (!(e instanceof TesseraError)) throw e;
            err = e; // the key itself was refused
          }
          if (c) {
            c.check();
            assert.equal(err === undefined ? 'accepted' : 'rejected', c.outcome, `tc ${v.tcId}: ${c.why}`);
          } else if (v.result === 'valid') assert.equal(err, undefined, `tc ${v.tcId} rejected: ${err?.code} ${err?.message}`);
          else assert.ok(err, `tc ${v.tcId} (${v.result}) was accepted`);
        });
      }
    }
  });
}

suite('json_web_signature_test.json', jws);
suite('json_web_key_test.json', jwk);
suite('json_web_crypto_test.json', jwc);

describe('wycheproof JWE vectors', () => {
  it('every JWE is refused by the JWS verifier (JweDecrypter takes them: wycheproof-jwe.test.ts)', () => {
    const verifier = new JwsVerifier({ algorithms: ALL });
    let count = 0;
    for (const group of jwc) {
      for (const v of group.tests) {
        if (v.jwe === undefined) continue;
        count++;
        const token = typeof v.jwe === 'string' ? v.jwe : JSON.stringify(v.jwe);
        assert.throws(
          () => verifier.verify(token, importJwk({ kty: 'oct', k: 'A'.repeat(43), alg: 'HS256' })),
          (e: unknown) => e instanceof TesseraError && (e as { reason?: string }).reason !== undefined,
        );
      }
    }
    assert.ok(count >= 30);
  });
});

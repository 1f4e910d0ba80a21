/**
 * Interoperability with PyJWT, the JWT library of most Python services: tokens Tessera signs pass PyJWT's
 * classic `jwt.decode(token, public_pem, algorithms=[...], audience=..., issuer=...)`, and tokens PyJWT
 * signs verify in Tessera. Runs Debian's PyJWT under /usr/bin/python3 (not a pyenv python on PATH). Without
 * it the tests are skipped with the reason, except in CI, where they fail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AccessTokenVerifier, generateKey, importPem, signAccessToken, TokenTypeError, type Key } from '@tessera/core';

import { PYTHON, pythonBatch, pythonLibraryVersion, type PyResult } from './helpers/python.js';

const MISSING = 'PyJWT not installed: apt-get install -y python3-jwt python3-cryptography';
const ISS = 'https://issuer.example';
const AUD = 'orders';
const ALGS = ['RS256', 'ES256', 'EdDSA', 'HS256'] as const;

/** Reads a JSON list of requests on stdin, answers a JSON list of results (or errors) on stdout. */
const SCRIPT = `
import base64, json, sys
import jwt

def run(req):
    if req["op"] == "version":
        return {"version": jwt.__version__}
    key = req["key"]
    if req["alg"].startswith("HS"):
        key = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    if req["op"] == "decode":
        claims = jwt.decode(
            req["token"], key, algorithms=[req["alg"]], audience=req["audience"], issuer=req["issuer"],
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        return {"claims": claims, "header": jwt.get_unverified_header(req["token"])}
    return {"token": jwt.encode(req["claims"], key, algorithm=req["alg"], headers=req["headers"])}
`;

const python = pythonBatch(SCRIPT, 30_000);

const version = pythonLibraryVersion(python);
const skip = version ? false : MISSING;

/** The key material PyJWT takes: SPKI or PKCS#8 PEM, or the secret in base64url. */
function pyKey(key: Key, forSigning: boolean): string {
  if (key.kind === 'secret') return key.toJwk({ private: true }).k as string;
  return forSigning ? key.toPem({ private: true }) : key.toPem();
}

/** What PyJWT answered for one request; a PyJWT exception fails the test with its message. */
function ok(result: PyResult | undefined): PyResult {
  assert.ok(result, 'no answer from PyJWT');
  assert.equal(result.error, undefined, `PyJWT: ${result.error}`);
  return result;
}

interface Case {
  alg: (typeof ALGS)[number];
  key: Key;
  /** Signed by Tessera, for PyJWT to decode. */
  token: string;
  /** Signed by PyJWT, for Tessera to verify. */
  claims: Record<string, unknown>;
}

const now = Math.floor(Date.now() / 1000);
const cases: Case[] = ALGS.map((alg) => {
  const key = generateKey(alg);
  const input = {
    iss: ISS,
    sub: 'alice',
    aud: AUD,
    client_id: 'web',
    scope: 'orders:read',
    ttl: 60,
    claims: { roles: ['admin'] },
  };
  const claims = {
    iss: ISS,
    sub: 'bob',
    aud: [AUD, 'billing'],
    iat: now,
    exp: now + 60,
    jti: 'py-1',
    client_id: 'cli',
    scope: 'orders:write',
  };
  return { alg, key, token: signAccessToken(input, key), claims };
});
const untyped = { iss: ISS, sub: 'bob', aud: AUD, iat: now, exp: now + 60 };
const esKey = cases.find((c) => c.alg === 'ES256')!.key;

/** Every PyJWT answer, in one python run: per case a decode and an encode, then the token without typ. */
const answers: PyResult[] = version
  ? python([
      ...cases.flatMap(({ alg, key, token, claims }) => [
        { op: 'decode', token, key: pyKey(key, false), alg, audience: AUD, issuer: ISS },
        { op: 'encode', claims, key: pyKey(key, true), alg, headers: { typ: 'at+jwt', kid: key.kid } },
      ]),
      { op: 'encode', claims: untyped, key: pyKey(esKey, true), alg: 'ES256', headers: { kid: esKey.kid } },
    ])
  : [];

describe('PyJWT interoperability', () => {
  it(`PyJWT is installed for ${PYTHON}`, { skip: version || process.env.CI === 'true' ? false : MISSING }, () => {
    assert.ok(version, `${MISSING} (required when CI=true)`);
  });

  cases.forEach(({ alg, key, token, claims }, i) => {
    it(`${alg}: a token Tessera signs passes PyJWT's jwt.decode, with the same claims`, { skip }, () => {
      const out = ok(answers[2 * i]);
      const tessera = new AccessTokenVerifier({ algorithms: [alg], issuer: ISS, audience: AUD }).verifyAccessToken(
        token,
        key.publicKey(),
      );
      assert.deepEqual(out.claims, tessera.claims);
      assert.deepEqual(out.header, { alg, typ: 'at+jwt', kid: key.kid });
    });

    it(`${alg}: a token PyJWT signs verifies in Tessera`, { skip }, () => {
      const pyToken = ok(answers[2 * i + 1]).token as string;
      const verifier = new AccessTokenVerifier({ algorithms: [alg], issuer: ISS, audience: AUD });
      const verified = verifier.verifyAccessToken(pyToken, key.publicKey());
      assert.deepEqual(verified.claims, claims);
      assert.equal(verified.header.typ, 'at+jwt');
      assert.equal(verified.header.kid, key.kid);
      if (key.kind === 'private') {
        // And with the key as a verifier would get it: the SPKI PEM alone.
        assert.equal(verifier.verifyAccessToken(pyToken, importPem(key.toPem(), { alg })).claims.sub, 'bob');
      }
    });
  });

  it("PyJWT's default typ JWT is not an access token: ERR_TOKEN_TYPE", { skip }, () => {
    const pyToken = ok(answers[2 * cases.length]).token as string;
    const verifier = new AccessTokenVerifier({ algorithms: ['ES256'], issuer: ISS, audience: AUD });
    assert.throws(
      () => verifier.verifyAccessToken(pyToken, esKey.publicKey()),
      (e: unknown) => e instanceof TokenTypeError && e.code === 'ERR_TOKEN_TYPE',
    );
  });
});

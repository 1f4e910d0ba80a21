/**
 * Encrypted access tokens against jwcrypto, the JOSE library of Python services: jwcrypto decrypts the tokens
 * Tessera's encryptJwt makes, and Tessera decrypts the ones jwcrypto makes, for every supported algorithm and
 * curve. Runs Debian's python3-jwcrypto under /usr/bin/python3 (not a pyenv python on PATH). Without it the
 * tests are skipped with the reason, except in CI, where they fail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { encryptJwt } from '@tessera/core';

import { pythonBatch, pythonLibraryVersion } from './helpers/python.js';

import { decrypterForAll, innerToken, RECIPIENTS, recipientKey } from './helpers/jwe.js';

const MISSING = 'jwcrypto not installed: apt-get install -y python3-jwcrypto';

/** Reads a JSON list of requests on stdin, answers a JSON list of results (or errors) on stdout. */
const SCRIPT = `
import json, sys
from importlib.metadata import version
from jwcrypto import jwe, jwk

ALGS = ["ECDH-ES+A256KW", "ECDH-ES", "RSA-OAEP-256", "dir", "A256GCM", "A128GCM"]

def run(req):
    if req["op"] == "version":
        return {"version": version("jwcrypto")}
    key = jwk.JWK(**req["key"])
    if req["op"] == "decrypt":
        token = jwe.JWE(algs=ALGS)
        token.deserialize(req["token"], key=key)
        return {"plaintext": token.payload.decode("ascii"), "header": json.loads(token.objects["protected"])}
    token = jwe.JWE(req["plaintext"].encode("ascii"), json.dumps(req["header"]), algs=ALGS)
    token.add_recipient(key)
    return {"token": token.serialize(compact=True)}
`;

const python = pythonBatch(SCRIPT, 60_000);

const version = pythonLibraryVersion(python);
if (version === undefined) {
  if (process.env.CI === 'true') throw new Error(MISSING);
  console.log(`# interop-jwcrypto: SKIPPED, ${MISSING}`);
}
const skip = version === undefined ? MISSING : false;

describe(`encrypted access tokens and jwcrypto ${version ?? ''}`, { skip }, () => {
  it('jwcrypto decrypts what Tessera encrypts, for every supported alg and curve', () => {
    const cases = RECIPIENTS.map((r) => {
      const key = recipientKey(r);
      const inner = innerToken();
      return { r, key, inner, token: encryptJwt(inner, key.publicKey()) };
    });
    const results = python(cases.map((c) => ({ op: 'decrypt', key: c.key.toJwk({ private: true }), token: c.token })));
    cases.forEach((c, i) => {
      const res = results[i]!;
      assert.equal(res.error, undefined, `${c.r.name}: ${res.error}`);
      assert.equal(res.plaintext, c.inner, c.r.name);
      const header = res.header as Record<string, unknown>;
      assert.equal(header.alg, c.r.alg);
      assert.equal(header.enc, 'A256GCM');
      assert.equal(header.cty, 'JWT');
      assert.equal(header.kid, c.key.kid);
    });
  });

  it('Tessera decrypts what jwcrypto encrypts (cty JWT), for every supported alg and curve', () => {
    const cases = RECIPIENTS.map((r) => ({ r, key: recipientKey(r), inner: innerToken() }));
    const results = python(
      cases.map((c) => ({
        op: 'encrypt',
        key: c.key.publicKey().toJwk({ private: c.r.alg === 'dir' }),
        plaintext: c.inner,
        header: { alg: c.r.alg, enc: 'A256GCM', cty: 'JWT', kid: c.key.kid },
      })),
    );
    cases.forEach((c, i) => {
      const res = results[i]!;
      assert.equal(res.error, undefined, `${c.r.name}: ${res.error}`);
      assert.equal(decrypterForAll().decrypt(res.token as string, c.key).jws, c.inner, c.r.name);
    });
  });
});

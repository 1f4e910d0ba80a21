/**
 * Embedded and remote key headers (jwk, jku, x5u, x5c, x5t; CVE-2018-0114 and kin): a verifier that
 * trusts a key named by the token lets the attacker pick the key. Tessera never reads these headers and
 * never fetches anything: keys come only from the caller's KeySource.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  AlgorithmKeyMismatchError,
  buildJwks,
  generateKey,
  KeyNotFoundError,
  KeySet,
  SignatureInvalidError,
} from '@tessera/core';

import { accessVerifier, claims, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const BAD_SIGNATURE = { code: 'ERR_SIGNATURE_INVALID' };

/** A real JWKS server holding the attacker's keys; it counts every request it gets. */
let server: Server;
let requests = 0;
let origin = '';

before(async () => {
  server = createServer((req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(buildJwks(attackerKeys)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

/** Gives any fetch a verifier might have started the chance to reach the server, then checks it did not. */
async function assertNothingFetched(): Promise<void> {
  await sleep(20);
  assert.equal(requests, 0, 'the verifier made a request to a URL named by the token');
}

const ALGS = ['ES256', 'RS256', 'EdDSA'] as const;
const ours = Object.fromEntries(ALGS.map((alg) => [alg, generateKey(alg, { kid: `ours-${alg}` })]));
const theirs = Object.fromEntries(ALGS.map((alg) => [alg, generateKey(alg, { kid: `theirs-${alg}` })]));
const attackerKeys = Object.values(theirs);

for (const alg of ALGS) {
  describe(`embedded key headers, ${alg}`, () => {
    const our = ours[alg]!;
    const their = theirs[alg]!;
    const verifier = accessVerifier([alg]);
    const ourSet = new KeySet([our]);
    const attackerJwk = their.publicKey().toJwk();
    const attackerDer = their.publicKeyObject.export({ format: 'der', type: 'spki' }).toString('base64');

    it('a token signed by the key in its own jwk header, naming our kid, fails the signature check', () => {
      const token = forge(headerFor(our, { jwk: attackerJwk }), claims(), their);
      rejects(() => verifier.verifyAccessToken(token, our.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
      rejects(() => verifier.verifyAccessToken(token, ourSet), SignatureInvalidError, BAD_SIGNATURE);
    });

    it('a token signed by the key in its jwk header, with no kid, fails the signature check', () => {
      const token = forge(headerFor(our, { kid: undefined, jwk: attackerJwk }), claims(), their);
      rejects(() => verifier.verifyAccessToken(token, our.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
      rejects(() => verifier.verifyAccessToken(token, ourSet), SignatureInvalidError, BAD_SIGNATURE);
    });

    it("a token naming the embedded key's own kid finds no key in our set", () => {
      const token = forge(headerFor(their, { jwk: attackerJwk }), claims(), their);
      rejects(() => verifier.verifyAccessToken(token, ourSet), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    });

    it('a token signed by the key of an x5c header fails the signature check', () => {
      const token = forge(headerFor(our, { x5c: [attackerDer] }), claims(), their);
      rejects(() => verifier.verifyAccessToken(token, our.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
      rejects(() => verifier.verifyAccessToken(token, ourSet), SignatureInvalidError, BAD_SIGNATURE);
    });

    for (const header of ['jku', 'x5u'] as const) {
      it(`a token signed by a key published at its ${header} URL fails, and the URL is never fetched`, async () => {
        const url = `${origin}/${header}/jwks.json`;
        const ourKid = forge(headerFor(our, { [header]: url }), claims(), their);
        const theirKid = forge(headerFor(their, { [header]: url }), claims(), their);
        rejects(() => verifier.verifyAccessToken(ourKid, our.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
        rejects(() => verifier.verifyAccessToken(ourKid, ourSet), SignatureInvalidError, BAD_SIGNATURE);
        rejects(() => verifier.verifyAccessToken(theirKid, ourSet), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
        await assertNothingFetched();
      });
    }

    it('a token signed by our key that carries jwk, jku, x5u, x5c and x5t headers verifies; none is used', async () => {
      const header = headerFor(our, {
        jwk: attackerJwk,
        jku: `${origin}/jku`,
        x5u: `${origin}/x5u`,
        x5c: [attackerDer],
        x5t: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA',
        'x5t#S256': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      });
      const token = forge(header, claims(), our);
      const result = verifier.verifyAccessToken(token, ourSet);
      assert.equal(result.key.kid, our.kid);
      assert.deepEqual(result.header.jwk, attackerJwk);
      verifier.verifyAccessToken(token, our.publicKey());
      await assertNothingFetched();
    });
  });
}

describe('embedded HMAC key', () => {
  it('an HS256 token carrying its own oct jwk is refused by an asymmetric key', () => {
    const secret = generateKey('HS256');
    const our = ours.ES256!;
    const token = forge(headerFor(our, { alg: 'HS256', jwk: secret.toJwk({ private: true }) }), claims(), secret);
    rejects(() => accessVerifier(['ES256', 'HS256']).verifyAccessToken(token, our.publicKey()), AlgorithmKeyMismatchError, {
      code: 'ERR_ALG_KEY_MISMATCH',
    });
  });
});

/**
 * Interoperability with jose, the reference JOSE library of the field: tokens jose signs verify in
 * Tessera, tokens Tessera signs verify in jose (from the exported JWK and from the published JWKS), and
 * where Tessera is stricter than jose, the difference is a refusal with the documented code.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  AccessTokenVerifier,
  buildJwks,
  generateKey,
  importJwk,
  parseJwks,
  signAccessToken,
  TokenClaimError,
  TokenTypeError,
  UnsupportedHeaderError,
  type Key,
} from '@tessera/core';
import {
  createLocalJWKSet,
  exportJWK,
  FlattenedSign,
  flattenedVerify,
  generateKeyPair,
  generateSecret,
  importJWK,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type KeyLike,
} from 'jose';

const ISS = 'https://issuer.example';
const AUD = 'orders';
const ALGS = ['ES256', 'EdDSA', 'RS256', 'HS256'] as const;
type Alg = (typeof ALGS)[number];

/** A jose key pair (or secret) and the same key as Tessera imports it from jose's exported JWK. */
async function joseKey(alg: Alg): Promise<{ signing: KeyLike; kid: string; tessera: Key }> {
  if (alg === 'HS256') {
    const secret = (await generateSecret(alg, { extractable: true })) as KeyLike;
    const jwk = await exportJWK(secret);
    const kid = `jose-${alg}`;
    return { signing: secret, kid, tessera: importJwk({ ...jwk, alg, kid }) };
  }
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = `jose-${alg}`;
  return { signing: privateKey, kid, tessera: importJwk({ ...jwk, alg, kid }) };
}

function joseToken(alg: Alg, kid: string | undefined, header: Record<string, unknown> = { typ: 'at+jwt' }): SignJWT {
  return new SignJWT({ client_id: 'web', scope: 'orders:read orders:write' })
    .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }), ...header })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setSubject('alice')
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m');
}

describe('tokens signed by jose verify in Tessera', () => {
  for (const alg of ALGS) {
    it(alg, async () => {
      const { signing, kid, tessera } = await joseKey(alg);
      const token = await joseToken(alg, kid).sign(signing);
      const verifier = new AccessTokenVerifier({ algorithms: [alg], issuer: ISS, audience: AUD });
      const { header, claims, key } = verifier.verifyAccessToken(token, tessera);
      assert.deepEqual(header, { alg, kid, typ: 'at+jwt' });
      assert.equal(key, tessera);
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.scope, 'orders:read orders:write');
      assert.equal(claims.exp - claims.iat!, 120);

      if (alg !== 'HS256') {
        // Through a JWKS, by kid, and with the kid dropped when the set holds one key of the alg.
        const set = parseJwks({ keys: [tessera.toJwk(), generateKey('ES384').toJwk()] });
        assert.equal(verifier.verifyAccessToken(token, set).key.kid, kid);
        const noKid = await joseToken(alg, undefined).sign(signing);
        assert.equal(verifier.verifyAccessToken(noKid, set).key.kid, kid);
      }
    });
  }

  it('typ application/at+jwt is the same media type', async () => {
    const { signing, kid, tessera } = await joseKey('ES256');
    const token = await joseToken('ES256', kid, { typ: 'application/at+jwt' }).sign(signing);
    const verifier = new AccessTokenVerifier({ algorithms: ['ES256'], issuer: ISS, audience: AUD });
    assert.equal(verifier.verifyAccessToken(token, tessera).claims.sub, 'alice');
  });
});

describe('tokens signed by Tessera verify in jose', () => {
  for (const alg of ALGS) {
    it(`${alg}: with the exported JWK`, async () => {
      const key = generateKey(alg);
      const token = signAccessToken({ iss: ISS, sub: 'alice', aud: AUD, client_id: 'web', scope: ['orders:read'], ttl: 60 }, key);
      const jwk = (key.kind === 'secret' ? key.toJwk({ private: true }) : key.toJwk()) as unknown as JWK;
      const { payload, protectedHeader } = await jwtVerify(token, await importJWK(jwk, alg), {
        algorithms: [alg],
        typ: 'at+jwt',
        issuer: ISS,
        audience: AUD,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      });
      assert.deepEqual(protectedHeader, { alg, typ: 'at+jwt', kid: key.kid });
      const tessera = new AccessTokenVerifier({ algorithms: [alg], issuer: ISS, audience: AUD }).verifyAccessToken(
        token,
        key.publicKey(),
      );
      assert.deepEqual(payload, tessera.claims);
    });
  }

  it('with createLocalJWKSet over the JWKS Tessera publishes', async () => {
    const keys = [generateKey('ES256'), generateKey('EdDSA'), generateKey('RS256'), generateKey('ES256')];
    const jwks = createLocalJWKSet(buildJwks(keys) as unknown as JSONWebKeySet);
    for (const key of keys) {
      const token = signAccessToken({ iss: ISS, sub: key.kid, aud: [AUD, 'billing'], client_id: 'web', ttl: 60 }, key);
      const { payload, protectedHeader } = await jwtVerify(token, jwks, {
        typ: 'at+jwt',
        issuer: ISS,
        audience: AUD,
        algorithms: ['ES256', 'EdDSA', 'RS256'],
      });
      assert.equal(protectedHeader.kid, key.kid);
      assert.equal(payload.sub, key.kid);
      assert.deepEqual(payload.aud, [AUD, 'billing']);
    }
  });
});

describe('where jose allows what Tessera refuses', () => {
  const verifier = new AccessTokenVerifier({ algorithms: ['ES256'], issuer: ISS, audience: AUD });

  it('a token without typ (RFC 9068 requires at+jwt): ERR_TOKEN_TYPE', async () => {
    const { signing, kid, tessera } = await joseKey('ES256');
    const token = await joseToken('ES256', kid, {}).sign(signing);
    // jose accepts it when not asked for a typ ...
    await jwtVerify(token, tessera.publicKeyObject, { issuer: ISS, audience: AUD });
    // ... Tessera never does.
    assert.throws(
      () => verifier.verifyAccessToken(token, tessera),
      (e: unknown) => e instanceof TokenTypeError && e.code === 'ERR_TOKEN_TYPE',
    );
    const jwt = await joseToken('ES256', kid, { typ: 'JWT' }).sign(signing);
    assert.throws(
      () => verifier.verifyAccessToken(jwt, tessera),
      (e: unknown) => e instanceof TokenTypeError && e.code === 'ERR_TOKEN_TYPE',
    );
  });

  it('a token without exp: ERR_CLAIM_INVALID on exp', async () => {
    const { signing, kid, tessera } = await joseKey('ES256');
    const token = await new SignJWT({ client_id: 'web' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setIssuer(ISS)
      .setAudience(AUD)
      .sign(signing);
    await jwtVerify(token, tessera.publicKeyObject, { issuer: ISS, audience: AUD, typ: 'at+jwt' });
    assert.throws(
      () => verifier.verifyAccessToken(token, tessera),
      (e: unknown) =>
        e instanceof TokenClaimError && e.code === 'ERR_CLAIM_INVALID' && e.claim === 'exp' && e.reason === 'missing',
    );
  });

  it('an unencoded payload (RFC 7797, crit b64): ERR_HEADER_UNSUPPORTED', async () => {
    const { signing, kid, tessera } = await joseKey('ES256');
    // With b64=false the payload goes unencoded into the signing input; jose's flattened form leaves it to the
    // caller to place it. Make it base64url text that also decodes to a valid claim set, so that the compact
    // token parses and only the header rule can refuse it.
    const claims = { iss: ISS, aud: AUD, exp: Math.floor(Date.now() / 1000) + 60 };
    const text = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const jws = await new FlattenedSign(new TextEncoder().encode(text))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, b64: false, crit: ['b64'] })
      .sign(signing);
    const verified = await flattenedVerify({ ...jws, payload: text }, tessera.publicKeyObject);
    assert.equal(new TextDecoder().decode(verified.payload), text);
    const token = `${jws.protected}.${text}.${jws.signature}`;
    assert.throws(
      () => verifier.verifyAccessToken(token, tessera),
      (e: unknown) => e instanceof UnsupportedHeaderError && e.code === 'ERR_HEADER_UNSUPPORTED' && e.parameter === 'crit',
    );
  });
});

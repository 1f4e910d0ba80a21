/**
 * The verifier's profile: the strict RFC 9068 profile by default, and each relaxation only when the
 * options name it (accepted typ values, a missing typ, optional sub / iat / jti, further required claims,
 * iss or aud not checked, no exp). A profile that contradicts itself or the options is refused at build
 * time, naming the setting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError, generateKey, TokenClaimError, TokenExpiredError, TokenTypeError } from '@tessera/core';

import { accessVerifier, AUDIENCE, claims, claimsWithout, forge, headerFor, ISSUER, NOW } from './helpers/forge.js';
import { rejects } from './helpers/rejects.js';

const key = generateKey('ES256', { kid: 'ec' });
const token = (payload: Record<string, unknown>, header: Record<string, unknown> = headerFor(key)) => forge(header, payload, key);
const noTyp = headerFor(key);
delete noTyp.typ;

function configError(fn: () => unknown, option: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.option === option && (!message || message.test(e.message)));
}

describe('profile: typ', () => {
  it('the default accepts at+jwt only: JWT and a missing typ are refused with ERR_TOKEN_TYPE', () => {
    const v = accessVerifier(['ES256']);
    assert.equal(v.verifyAccessToken(token(claims()), key).claims.sub, 'alice');
    rejects(() => v.verifyAccessToken(token(claims(), headerFor(key, { typ: 'JWT' })), key), TokenTypeError, {
      code: 'ERR_TOKEN_TYPE',
    });
    rejects(() => v.verifyAccessToken(token(claims(), noTyp), key), TokenTypeError, { code: 'ERR_TOKEN_TYPE' });
  });

  it('typ: [at+jwt, JWT] accepts both (media-type comparison), and still refuses a missing typ', () => {
    const v = accessVerifier(['ES256'], { profile: { typ: ['at+jwt', 'JWT'] } });
    for (const typ of ['JWT', 'jwt', 'application/JWT', 'at+jwt'])
      assert.equal(v.verifyAccessToken(token(claims(), headerFor(key, { typ })), key).claims.sub, 'alice', typ);
    rejects(() => v.verifyAccessToken(token(claims(), headerFor(key, { typ: 'id+jwt' })), key), TokenTypeError, {
      code: 'ERR_TOKEN_TYPE',
    });
    rejects(() => v.verifyAccessToken(token(claims(), noTyp), key), TokenTypeError, { code: 'ERR_TOKEN_TYPE' });
  });

  it('allowMissingTyp accepts a token with no typ, and a typ that is present must still be listed', () => {
    const v = accessVerifier(['ES256'], { profile: { typ: ['JWT'], allowMissingTyp: true } });
    assert.equal(v.verifyAccessToken(token(claims(), noTyp), key).claims.sub, 'alice');
    rejects(() => v.verifyAccessToken(token(claims()), key), TokenTypeError, { code: 'ERR_TOKEN_TYPE' });
    rejects(() => v.verifyAccessToken(token(claims(), headerFor(key, { typ: 7 })), key), TokenTypeError, {
      code: 'ERR_TOKEN_TYPE',
    });
  });
});

describe('profile: claims', () => {
  it('optionalClaims relaxes exactly the claims it names', () => {
    const v = accessVerifier(['ES256'], { profile: { optionalClaims: ['jti'] } });
    assert.equal(v.verifyAccessToken(token(claimsWithout('jti')), key).claims.jti, undefined);
    rejects(() => v.verifyAccessToken(token(claimsWithout('sub')), key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'sub',
      reason: 'missing',
    });
    // Present, an optional claim is still typed.
    rejects(() => v.verifyAccessToken(token(claims({ jti: 42 })), key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'jti',
      reason: 'type',
    });
  });

  it('exp can be dropped only by allowMissingExp; an exp that is present is still enforced', () => {
    configError(
      () => accessVerifier(['ES256'], { profile: { optionalClaims: ['exp' as 'sub'] } }),
      'profile.optionalClaims',
      /allowMissingExp/,
    );
    const v = accessVerifier(['ES256'], { profile: { allowMissingExp: true } });
    assert.equal(v.verifyAccessToken(token(claimsWithout('exp')), key).claims.exp, undefined);
    rejects(() => v.verifyAccessToken(token(claims({ exp: NOW - 60 })), key), TokenExpiredError, { code: 'ERR_TOKEN_EXPIRED' });
  });

  it('ignoreIssuer and ignoreAudience: neither required nor compared; typed when present', () => {
    const v = accessVerifier(['ES256'], {
      issuer: undefined,
      audience: undefined,
      profile: { ignoreIssuer: true, ignoreAudience: true },
    });
    const bare = claimsWithout('iss');
    delete bare.aud;
    assert.equal(v.verifyAccessToken(token(bare), key).claims.sub, 'alice');
    assert.equal(
      v.verifyAccessToken(token(claims({ iss: 'https://anyone.test', aud: 'any' })), key).claims.iss,
      'https://anyone.test',
    );
    rejects(() => v.verifyAccessToken(token(claims({ iss: 7 })), key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'iss',
      reason: 'type',
    });
    rejects(() => v.verifyAccessToken(token(claims({ aud: [] })), key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'type',
    });
  });

  it('ignoreIssuer alone keeps the audience check', () => {
    const v = accessVerifier(['ES256'], { issuer: undefined, profile: { ignoreIssuer: true } });
    assert.equal(v.verifyAccessToken(token(claims({ iss: 'https://other.test' })), key).claims.aud, AUDIENCE);
    rejects(() => v.verifyAccessToken(token(claims({ aud: 'billing' })), key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'mismatch',
    });
  });
});

describe('profile: refused at build time, naming the setting', () => {
  it('contradictions and unknown settings', () => {
    configError(() => accessVerifier(['ES256'], { profile: { ignoreIssuer: true } }), 'issuer', /ignoreIssuer/);
    configError(() => accessVerifier(['ES256'], { profile: { ignoreAudience: true } }), 'audience', /ignoreAudience/);
    configError(() => accessVerifier(['ES256'], { audience: undefined }), 'audience');
    configError(() => accessVerifier(['ES256'], { typ: 'JWT', profile: { typ: ['JWT'] } }), 'typ');
    configError(() => accessVerifier(['ES256'], { profile: { typ: [] } }), 'profile.typ');
    configError(() => accessVerifier(['ES256'], { profile: { requiredClaims: ['exp'] } }), 'profile.requiredClaims');
    configError(() => accessVerifier(['ES256'], { profile: { ignoreIssuer: 'yes' as never } }), 'profile.ignoreIssuer');
    configError(() => accessVerifier(['ES256'], { profile: { allowNoExp: true } as never }), 'profile.allowNoExp');
  });

  it('the issuer given with ignoreIssuer is refused rather than silently unused', () => {
    assert.throws(() => accessVerifier(['ES256'], { issuer: ISSUER, profile: { ignoreIssuer: true } }), ConfigError);
  });
});

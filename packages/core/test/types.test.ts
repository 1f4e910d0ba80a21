/**
 * Type tests of the public API, checked by `tsc -b`: every `@ts-expect-error` below must meet a type error,
 * or the build fails ("unused directive"), and `TypeChecks` only compiles while the types are exactly as
 * stated. Where a wrong call also fails at run time, the test asserts that too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AccessTokenVerifier,
  ConfigError,
  generateKey,
  importDer,
  importSecret,
  InsufficientScopeError,
  JwsVerifier,
  KeyInvalidError,
  type parseJwks,
  requireScopes,
  signAccessToken,
  verifyAccessToken,
  type AccessTokenClaims,
  type Algorithm,
  type JwsHeader,
  type Key,
  type KeyKind,
  type KeySet,
  type ScopeMode,
  type SkippedKey,
  type TesseraError,
  type VerifiedAccessToken,
} from '@tessera/core';

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

type Verified = ReturnType<typeof verifyAccessToken>;

/** Compiles only while each of these holds. Exported so that the compiler checks it and lint sees it used. */
export type TypeChecks = [
  Expect<Equal<Verified, VerifiedAccessToken>>,
  Expect<Equal<Verified['claims']['exp'], number>>,
  Expect<Equal<Verified['claims']['iat'], number | undefined>>,
  Expect<Equal<Verified['claims']['iss'], string>>,
  Expect<Equal<Verified['claims']['aud'], string | string[]>>,
  Expect<Equal<Verified['claims']['scope'], string | undefined>>,
  Expect<Equal<Verified['claims']['roles'], unknown>>,
  Expect<Equal<Verified['header']['alg'], string>>,
  Expect<Equal<Verified['header']['kid'], string | undefined>>,
  Expect<Equal<Verified['key'], Key>>,
  Expect<Equal<Key['alg'], Algorithm>>,
  Expect<Equal<Key['kind'], KeyKind>>,
  Expect<Equal<KeyKind, 'private' | 'public' | 'secret'>>,
  Expect<Equal<ScopeMode, 'all' | 'any'>>,
  Expect<Equal<ReturnType<typeof parseJwks>, KeySet>>,
  Expect<Equal<KeySet['skipped'], readonly SkippedKey[]>>,
  Expect<Equal<ReturnType<typeof generateKey>, Key>>,
  Expect<Equal<ReturnType<typeof signAccessToken>, string>>,
  Expect<Equal<TesseraError['code'], string>>,
  Expect<Equal<InsufficientScopeError['missing'], readonly string[]>>,
  Expect<Equal<Extract<Algorithm, 'none'>, never>>,
];

/**
 * Calls that must not compile but would not fail at run time either: never called, only compiled.
 * Referenced from the test so that the function is not dead code to the linter.
 */
function mustNotCompile(claims: AccessTokenClaims, header: JwsHeader, key: Key, scopes: InsufficientScopeError): void {
  // @ts-expect-error -- exp is a number, never a string
  const exp: string = claims.exp;
  // @ts-expect-error -- iat is optional
  const iat: number = claims.iat;
  // @ts-expect-error -- kid is optional in a header
  const kid: string = header.kid;
  // @ts-expect-error -- a Key is read-only
  key.kid = 'other';
  // @ts-expect-error -- the error's lists are read-only
  scopes.missing.push('x');
  void [exp, iat, kid];
}

describe('public API types', () => {
  it('valid calls compile and run', () => {
    const key: Key = generateKey('ES256');
    const algorithms = ['ES256', 'EdDSA'] as const;
    const options = { algorithms, issuer: 'https://issuer', audience: ['orders', 'billing'] } as const;
    const verifier = new AccessTokenVerifier(options);
    const token = signAccessToken(
      { iss: 'https://issuer', sub: 'alice', aud: 'orders', client_id: 'web', scope: ['orders:read'], ttl: 60 },
      key,
    );
    const { claims, header } = verifyAccessToken(token, key.publicKey(), options);
    const exp: number = claims.exp;
    assert.equal(typeof exp, 'number');
    assert.equal(exp, claims.iat! + 60);
    assert.equal(header.kid, key.kid);
    assert.deepEqual(verifier.verifyAccessToken(token, key).claims, claims);
    const mode: ScopeMode = 'any';
    requireScopes(claims.scope?.split(' ') ?? [], ['orders:read', 'orders:write'], mode);
    new JwsVerifier({ algorithms: ['HS256'] });
    importSecret(new Uint8Array(32), { alg: 'HS256' });
    assert.equal(typeof mustNotCompile, 'function');
  });

  it('wrong calls do not compile, and fail at run time as well', () => {
    // @ts-expect-error -- 'none' is not an Algorithm
    assert.throws(() => generateKey('none'), ConfigError);
    // @ts-expect-error -- 'ES521' is not an Algorithm
    assert.throws(() => generateKey('ES521'), ConfigError);
    // @ts-expect-error -- the algorithm allowlist is required
    assert.throws(() => new AccessTokenVerifier({ issuer: 'x', audience: 'y' }), ConfigError);
    // @ts-expect-error -- the algorithm allowlist is required
    assert.throws(() => new JwsVerifier({}), ConfigError);
    // @ts-expect-error -- 'none' is never allowed
    assert.throws(() => new AccessTokenVerifier({ algorithms: ['none'], issuer: 'x', audience: 'y' }), ConfigError);
    // issuer and audience may be left out only under a profile that ignores them: checked at run time,
    // naming the setting (the type allows both, so that a profile built at run time type-checks).
    assert.throws(() => new AccessTokenVerifier({ algorithms: ['ES256'] }), { code: 'ERR_CONFIG', option: 'issuer' });
    // @ts-expect-error -- ttl is required
    assert.throws(() => signAccessToken({ iss: 'i', sub: 's', aud: 'a', client_id: 'c' }, generateKey('ES256')), ConfigError);
    // @ts-expect-error -- an HMAC secret takes an HMAC algorithm
    assert.throws(() => importSecret(new Uint8Array(32), { alg: 'RS256' }), KeyInvalidError);
    // @ts-expect-error -- importDer needs to be told the DER type
    assert.throws(() => importDer(new Uint8Array(8), {}), KeyInvalidError);
    // @ts-expect-error -- the modes are 'all' and 'any'
    assert.throws(() => requireScopes(['a'], ['b'], 'some'), InsufficientScopeError);
  });
});

/**
 * Scopes: the RFC 6749 section 3.3 grammar (single spaces between tokens of printable ASCII except '"'
 * and '\'), parsing and formatting, and the all-of / any-of checks with the error they throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AccessTokenVerifier,
  ConfigError,
  formatScope,
  generateKey,
  hasScopes,
  InsufficientScopeError,
  isScopeToken,
  parseScope,
  requireScopes,
  ScopeSyntaxError,
  signAccessToken,
  signJwt,
  TesseraError,
  TokenClaimError,
} from '@tessera/core';

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
function inGrammar(code: number): boolean {
  return code === 0x21 || (code >= 0x23 && code <= 0x5b) || (code >= 0x5d && code <= 0x7e);
}

const OFF_GRAMMAR = [
  ['double space', 'orders:read  orders:write'],
  ['leading space', ' orders:read'],
  ['trailing space', 'orders:read '],
  ['only a space', ' '],
  ['a double quote', 'orders:"read"'],
  ['a backslash', 'orders:\\read'],
  ['non-ASCII', 'commandes:créer'],
  ['a non-breaking space', 'orders:read\u00a0orders:write'],
  ['a tab', 'orders:read\torders:write'],
  ['a newline', 'orders:read\norders:write'],
  ['a NUL', 'orders:read\u0000'],
  ['DEL', 'orders:read\u007f'],
] as const;

describe('isScopeToken', () => {
  it('accepts exactly %x21 / %x23-5B / %x5D-7E, one character at a time', () => {
    for (let code = 0; code < 0x180; code++) {
      assert.equal(isScopeToken(String.fromCharCode(code)), inGrammar(code), `U+${code.toString(16).padStart(4, '0')}`);
    }
  });

  it('takes the conventional forms, and refuses the empty token', () => {
    for (const t of [
      'orders:read',
      'tessera:admin',
      'chat:room:42:publish',
      'orders:*',
      'https://api.example/orders.read',
      'openid',
      "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
    ]) {
      assert.equal(isScopeToken(t), true, t);
    }
    for (const t of ['', 'a b', 'a"', 'a\\', 'é', 'a\tb']) assert.equal(isScopeToken(t), false, JSON.stringify(t));
  });
});

describe('parseScope', () => {
  it('splits on single spaces', () => {
    assert.deepEqual(parseScope('orders:read'), ['orders:read']);
    assert.deepEqual(parseScope('orders:read orders:write chat:room:42:publish'), [
      'orders:read',
      'orders:write',
      'chat:room:42:publish',
    ]);
    assert.deepEqual(parseScope(''), []);
  });

  for (const [what, scope] of OFF_GRAMMAR) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => parseScope(scope),
        (e: unknown) => e instanceof ScopeSyntaxError && e.code === 'ERR_SCOPE_SYNTAX' && e instanceof TesseraError,
      );
    });
  }
});

describe('formatScope', () => {
  it('joins with single spaces, keeps the first of each repeat, takes any iterable', () => {
    assert.equal(formatScope(['orders:read', 'orders:write']), 'orders:read orders:write');
    assert.equal(formatScope(['b', 'a', 'b', 'a', 'c']), 'b a c');
    assert.equal(formatScope(new Set(['x', 'y'])), 'x y');
    assert.equal(formatScope([]), '');
  });

  it('is the inverse of parseScope on scope strings without repeats', () => {
    for (const scope of ['', 'a', 'orders:read orders:write', 'chat:room:42:publish tessera:admin openid']) {
      assert.equal(formatScope(parseScope(scope)), scope);
    }
  });

  it('refuses a token off the grammar, including one with a space', () => {
    for (const t of ['', 'a b', ' a', 'a"', 'a\\b', 'ü', 'a\tb']) {
      assert.throws(() => formatScope(['ok', t]), ScopeSyntaxError, JSON.stringify(t));
    }
  });
});

describe('requireScopes and hasScopes', () => {
  const granted = ['orders:read', 'orders:write', 'chat:room:42:publish'];
  const grantedSet = new Set(granted);

  /** Asserts the InsufficientScopeError's data. */
  function assertInsufficient(fn: () => void, required: string[], missing: string[], mode: 'all' | 'any'): void {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof InsufficientScopeError);
      assert.ok(e instanceof TesseraError);
      assert.equal(e.code, 'ERR_INSUFFICIENT_SCOPE');
      assert.deepEqual(e.required, required);
      assert.deepEqual(e.missing, missing);
      assert.equal(e.mode, mode);
      return true;
    });
  }

  for (const [name, g] of [
    ['an array', granted],
    ['a Set', grantedSet],
  ] as const) {
    it(`all-of (the default), granted as ${name}`, () => {
      requireScopes(g, ['orders:read']);
      requireScopes(g, ['orders:read', 'orders:write'], 'all');
      assert.equal(hasScopes(g, ['orders:read', 'chat:room:42:publish']), true);
      assertInsufficient(
        () => requireScopes(g, ['orders:read', 'orders:delete', 'admin']),
        ['orders:read', 'orders:delete', 'admin'],
        ['orders:delete', 'admin'],
        'all',
      );
      assertInsufficient(() => requireScopes(g, ['admin'], 'all'), ['admin'], ['admin'], 'all');
      assert.equal(hasScopes(g, ['orders:read', 'admin']), false);
    });

    it(`any-of, granted as ${name}`, () => {
      requireScopes(g, ['admin', 'orders:write'], 'any');
      assert.equal(hasScopes(g, ['admin', 'orders:read'], 'any'), true);
      assertInsufficient(
        () => requireScopes(g, ['admin', 'orders:delete'], 'any'),
        ['admin', 'orders:delete'],
        ['admin', 'orders:delete'],
        'any',
      );
      assert.equal(hasScopes(g, ['admin'], 'any'), false);
    });
  }

  it('an empty required list passes, whatever is granted', () => {
    for (const mode of ['all', 'any'] as const) {
      requireScopes([], [], mode);
      requireScopes(new Set(), [], mode);
      assert.equal(hasScopes([], [], mode), true);
    }
  });

  it('compares exact, case-sensitive strings: no wildcards, no implication', () => {
    assert.equal(hasScopes(['orders:*'], ['orders:read']), false);
    assert.equal(hasScopes(['orders:write'], ['orders:read']), false);
    assert.equal(hasScopes(['Orders:Read'], ['orders:read']), false);
    assert.equal(hasScopes(['orders'], ['orders:read']), false);
    assert.equal(hasScopes(['orders:read'], ['orders']), false);
    assert.equal(hasScopes(['orders:*'], ['orders:*']), true);
  });

  it('works on what parseScope returns from a verified token', () => {
    const key = generateKey('ES256');
    const token = signAccessToken(
      { iss: 'i', sub: 's', aud: 'a', client_id: 'c', scope: ['orders:read', 'chat:room:42:publish'], ttl: 60 },
      key,
    );
    const { claims } = new AccessTokenVerifier({ algorithms: ['ES256'], issuer: 'i', audience: 'a' }).verifyAccessToken(
      token,
      key,
    );
    const scopes = parseScope(claims.scope ?? '');
    requireScopes(scopes, ['chat:room:42:publish']);
    assertInsufficient(() => requireScopes(new Set(scopes), ['orders:write']), ['orders:write'], ['orders:write'], 'all');
  });
});

describe('the grammar applies to tokens too', () => {
  const key = generateKey('ES256');
  const verifier = new AccessTokenVerifier({ algorithms: ['ES256'], issuer: 'i', audience: 'a' });

  for (const [what, scope] of OFF_GRAMMAR) {
    it(`${what}: refused when signing and when verifying`, () => {
      assert.throws(
        () => signAccessToken({ iss: 'i', sub: 's', aud: 'a', client_id: 'c', scope, ttl: 60 }, key),
        (e: unknown) => e instanceof ConfigError && e.option === 'scope',
      );
      const now = Math.floor(Date.now() / 1000);
      const token = signJwt({ iss: 'i', sub: 's', aud: 'a', exp: now + 60, iat: now, jti: 'j', scope }, key, { typ: 'at+jwt' });
      assert.throws(
        () => verifier.verifyAccessToken(token, key),
        (e: unknown) => e instanceof TokenClaimError && e.claim === 'scope' && e.reason === 'syntax',
      );
    });
  }
});

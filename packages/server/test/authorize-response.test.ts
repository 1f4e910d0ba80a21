import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { authorizationResponseParams, OAuthError, queryRedirect } from '@tessera/server/internal';

/** The authorization response's parameters (code or error, state, RFC 9207 iss) and the query redirect. */
describe('authorization response', () => {
  const ISSUER = 'https://auth.example.com';
  const target = { redirectUri: 'https://app.example.com/cb', responseMode: 'query' as const, state: 'a b&c=d€' };

  it('a code with state passed through exactly and iss, read back by the client as sent', () => {
    const location = queryRedirect(target.redirectUri, authorizationResponseParams(target, ISSUER, { code: 'tsc_x' }));
    const url = new URL(location);
    assert.equal(`${url.origin}${url.pathname}`, target.redirectUri);
    assert.deepEqual(
      [...url.searchParams],
      [
        ['code', 'tsc_x'],
        ['state', 'a b&c=d€'],
        ['iss', ISSUER],
      ],
    );
  });

  it('an error with its description; no state when the request had none', () => {
    const error = new OAuthError('invalid_request', 'PKCE is required: missing code_challenge');
    const params = authorizationResponseParams({ ...target, state: undefined }, ISSUER, { error });
    assert.deepEqual(params, [
      ['error', 'invalid_request'],
      ['error_description', 'PKCE is required: missing code_challenge'],
      ['iss', ISSUER],
    ]);
  });

  it('keeps the registered query byte for byte and adds the parameters after it', () => {
    const params: [string, string][] = [['code', 'c']];
    assert.equal(
      queryRedirect('https://app.example.com/cb?tenant=a%20b&x', params),
      'https://app.example.com/cb?tenant=a%20b&x&code=c',
    );
    assert.equal(queryRedirect('https://app.example.com/cb?', params), 'https://app.example.com/cb?code=c');
    assert.equal(queryRedirect('com.example.app:/oauth', params), 'com.example.app:/oauth?code=c');
    assert.equal(queryRedirect('http://127.0.0.1:5123/cb', params), 'http://127.0.0.1:5123/cb?code=c');
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  checkAuthorization,
  loadMasterKey,
  openSqliteStore,
  parseForm,
  registerClient,
  type CheckedAuthorization,
  type SqlStore,
} from '@tessera/server/internal';

/**
 * The authorization request's checks, on clients registered in a real SQLite store: which refusals go to the
 * error page (no trusted redirect URI yet) and which back to the client, exact redirect URI matching with
 * RFC 8252's loopback port freedom, and PKCE with S256 only.
 */
describe('authorization request checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-authorize-'));
  let store: SqlStore;
  const verifier = 'dBjftJeZ4CVP-mJ0kZwbXcuGrgI5e-iG5LjCTw4l0mQ';
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  before(async () => {
    store = openSqliteStore(join(dir, 'tessera.db'));
    await store.migrate();
    const master = loadMasterKey({ masterKey: randomBytes(32).toString('base64url'), masterKeyFile: '', create: false });
    const apps = [
      { id: 'spa', redirectUris: ['https://app.example.com/cb', 'https://app.example.com/cb?x=1'] },
      { id: 'native', redirectUris: ['http://127.0.0.1/callback', 'http://[::1]:7000/callback'] },
      { id: 'par', redirectUris: ['https://par.example.com/cb'], requirePar: true },
    ];
    for (const app of apps) {
      const flow = { grantTypes: ['authorization_code', 'refresh_token'], scopes: ['profile', 'orders:read'] } as const;
      const input = { ...app, grantTypes: [...flow.grantTypes], scopes: [...flow.scopes], audiences: ['api'] };
      await registerClient(store, master, { ...input, authMethod: 'none' }, Date.now());
    }
    await registerClient(
      store,
      master,
      { id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] },
      Date.now(),
    );
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const good = {
    client_id: 'spa',
    redirect_uri: 'https://app.example.com/cb',
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'af0ifjsldkj',
  };
  const check = (params: Record<string, string> | string) =>
    checkAuthorization(parseForm(typeof params === 'string' ? params : new URLSearchParams(params).toString()), (id) =>
      store.clients.get(id),
    );
  /** `good` without the named parameters. */
  const without = (...names: string[]) => Object.fromEntries(Object.entries(good).filter(([k]) => !names.includes(k)));
  /** The refusal's error and where it goes: 'page', or the redirect URI it is sent back to. */
  function refused(r: CheckedAuthorization): { error: string; to: string } {
    assert.equal(r.ok, false, 'expected a refusal');
    if (r.ok) throw new Error('unreachable');
    return { error: r.error.error, to: r.redirect ? r.redirect.redirectUri : 'page' };
  }

  it('accepts a complete request: code, S256, a registered redirect URI; state kept as sent', async () => {
    const r = await check(good);
    assert.ok(r.ok);
    assert.equal(r.request.client.id, 'spa');
    assert.equal(r.request.redirectUri, 'https://app.example.com/cb');
    assert.equal(r.request.state, 'af0ifjsldkj');
    assert.equal(r.request.responseMode, 'query');
    assert.equal(r.request.codeChallenge, challenge);
    assert.deepEqual(r.request.scopes, ['profile', 'orders:read']);
    assert.deepEqual(r.request.audience, ['api']);
    const post = await check({ ...good, response_mode: 'form_post', scope: 'profile' });
    assert.ok(post.ok);
    assert.equal(post.request.responseMode, 'form_post');
    assert.deepEqual(post.request.scopes, ['profile']);
  });

  it('unknown, missing or non-flow client: the error page, never a redirect', async () => {
    assert.deepEqual(refused(await check({ ...good, client_id: 'nobody' })), { error: 'invalid_client', to: 'page' });
    assert.deepEqual(refused(await check({ ...good, client_id: 'svc' })), { error: 'invalid_client', to: 'page' });
    assert.deepEqual(refused(await check(without('client_id'))), { error: 'invalid_request', to: 'page' });
    assert.deepEqual(refused(await check(`${new URLSearchParams(good)}&client_id=spa`)), {
      error: 'invalid_request',
      to: 'page',
    });
  });

  it('redirect-uri-variations: each near miss of a registered URI gets the error page', async () => {
    const nearMisses = [
      'https://app.example.com/cb/',
      'https://app.example.com/CB',
      'https://APP.example.com/cb',
      'https://app.example.com/cb?x=2',
      'https://app.example.com/cb?y=1',
      'https://app.example.com/cb#x',
      'https://user@app.example.com/cb',
      'https://app.example.com@evil.example.org/cb',
      'https://app.example.com:8443/cb',
      'http://app.example.com/cb',
      'https://app.example.com.evil.example.org/cb',
      'https://app.example.com/cb/../cb',
      '',
    ];
    for (const uri of nearMisses)
      assert.deepEqual(refused(await check({ ...good, redirect_uri: uri })), { error: 'invalid_request', to: 'page' }, uri);
    assert.deepEqual(refused(await check(without('redirect_uri'))), { error: 'invalid_request', to: 'page' });
    assert.ok((await check({ ...good, redirect_uri: 'https://app.example.com/cb?x=1' })).ok, 'a registered query matches');
  });

  it('loopback redirect URIs match with any port (RFC 8252 section 7.3), and nothing else about them varies', async () => {
    const native = { ...good, client_id: 'native' };
    for (const uri of [
      'http://127.0.0.1/callback',
      'http://127.0.0.1:51004/callback',
      'http://[::1]/callback',
      'http://[::1]:8/callback',
    ])
      assert.ok((await check({ ...native, redirect_uri: uri })).ok, uri);
    for (const uri of [
      'http://127.0.0.1:51004/callback/',
      'http://127.0.0.1:51004/other',
      'http://localhost:51004/callback',
      'https://127.0.0.1:51004/callback',
      'http://127.0.0.2:51004/callback',
      'http://127.0.0.1:80/callback',
      'http://u@127.0.0.1:51004/callback',
    ])
      assert.deepEqual(refused(await check({ ...native, redirect_uri: uri })), { error: 'invalid_request', to: 'page' }, uri);
  });

  it('pkce-downgrade: plain, a missing method, a missing or malformed challenge are refused back to the client', async () => {
    const cases: Record<string, string>[] = [
      { ...good, code_challenge_method: 'plain', code_challenge: verifier },
      { ...good, code_challenge_method: 'plain' },
      { ...good, code_challenge_method: '' },
      { ...good, code_challenge: '' },
      { ...good, code_challenge: `${challenge}A` },
      { ...good, code_challenge: challenge.replace(/.$/, '=') },
    ];
    for (const params of [...cases, without('code_challenge_method'), without('code_challenge')]) {
      const r = refused(await check(params));
      assert.deepEqual(r, { error: 'invalid_request', to: 'https://app.example.com/cb' }, JSON.stringify(params));
    }
  });

  it('after the redirect URI is trusted, other refusals go back to it with the state', async () => {
    const cases: [Record<string, string> | string, string][] = [
      [{ ...good, response_type: 'token' }, 'unsupported_response_type'],
      [{ ...good, response_type: 'code id_token' }, 'unsupported_response_type'],
      [{ ...good, response_type: '' }, 'invalid_request'],
      [{ ...good, response_mode: 'fragment' }, 'invalid_request'],
      [{ ...good, scope: 'admin' }, 'invalid_scope'],
      [{ ...good, resource: 'https://elsewhere.example.com' }, 'invalid_target'],
      [{ ...good, state: 's'.repeat(1025) }, 'invalid_request'],
      // request-object-smuggling: parameters inside a request object would bypass these checks.
      [{ ...good, request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6ImFkbWluIn0.' }, 'request_not_supported'],
      [`${new URLSearchParams(good)}&scope=profile&scope=orders:read`, 'invalid_request'],
    ];
    for (const [params, error] of cases) {
      const r = await check(params);
      assert.deepEqual(refused(r), { error, to: 'https://app.example.com/cb' }, JSON.stringify(params));
      assert.ok(!r.ok && r.redirect);
      const long = typeof params !== 'string' && params.state !== good.state;
      assert.equal(r.redirect.state, long ? undefined : good.state);
      assert.equal(r.redirect.responseMode, 'query');
    }
  });

  it('a client that must push its requests (require-PAR) is refused unless the request was pushed', async () => {
    const par = { ...good, client_id: 'par', redirect_uri: 'https://par.example.com/cb' };
    assert.deepEqual(refused(await check(par)), { error: 'invalid_request', to: 'https://par.example.com/cb' });
    const pushed = await checkAuthorization(parseForm(new URLSearchParams(par).toString()), (id) => store.clients.get(id), {
      pushed: true,
    });
    assert.equal(pushed.ok, true);
  });

  it('a checked request never carries request_uri: refused when pushed (RFC 9126 section 2.1), and unresolved otherwise', async () => {
    for (const pushed of [true, false]) {
      const r = await checkAuthorization(
        parseForm(new URLSearchParams({ ...good, request_uri: 'urn:ietf:params:oauth:request_uri:x' }).toString()),
        (id) => store.clients.get(id),
        { pushed },
      );
      assert.deepEqual(refused(r), { error: 'invalid_request', to: 'page' });
    }
  });
});

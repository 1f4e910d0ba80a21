/**
 * ServiceTokenSource (client credentials for services) against a real auth server: one cached token per
 * audience and scope set, one request for any number of concurrent callers, renewal ahead of expiry in the
 * background, backoff after a failed renewal, never a token past its expiry, private_key_jwt, and errors
 * that carry the OAuth code without the secret. Token requests are counted by the server's own metric.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { ConfigError, decodeUnverified, generateKey } from '@tessera/core';
import { ServiceTokenSource, TokenRequestError, type ServiceTokenSourceOptions } from '@tessera/verifier';

import { until } from '@tessera/testing';

import { type ClientCreds } from './helpers/oauth.js';
import { metric } from './helpers/revocations.js';
import { startServer, type TestServer } from './helpers/server.js';

const TEST_TIMEOUT = { timeout: 20_000 };

/** The global fetch, counting the requests a source makes (nothing is changed). */
function countingFetch(): { attempts: { failed: boolean; done: boolean }[]; fetch: typeof fetch } {
  const attempts: { failed: boolean; done: boolean }[] = [];
  return {
    attempts,
    fetch: (input, init) => {
      const a = { failed: false, done: false };
      attempts.push(a);
      return fetch(input, init).then(
        (res) => {
          a.done = true;
          return res;
        },
        (err: unknown) => {
          a.failed = true;
          a.done = true;
          throw err;
        },
      );
    },
  };
}

describe('ServiceTokenSource against a real auth server', () => {
  let t: TestServer;
  let svc: ClientCreds;

  before(async () => {
    t = await startServer();
    svc = await t.client({
      id: 'billing-worker',
      grantTypes: ['client_credentials'],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['orders', 'invoices'],
    });
  });
  after(() => t.close());

  const issued = () => metric(t, 'tessera_tokens_issued_total', { grant: 'client_credentials', outcome: 'success' });

  function source(extra: Partial<ServiceTokenSourceOptions> = {}): ServiceTokenSource {
    return new ServiceTokenSource({
      tokenEndpoint: `${t.url}/oauth/token`,
      clientId: svc.id,
      clientSecret: svc.secret,
      ...extra,
    });
  }

  it('caches one token per audience and scope set: a second call makes no request', async () => {
    const src = source();
    const before = await issued();
    const a = await src.getToken({ audience: 'orders', scope: 'orders:read orders:write' });
    assert.equal(await issued(), before + 1);
    assert.equal(await src.getToken({ audience: 'orders', scope: 'orders:read orders:write' }), a);
    assert.equal(
      await src.getToken({ audience: 'orders', scope: ['orders:write', 'orders:read', 'orders:read'] }),
      a,
      'the same scope set, written otherwise',
    );
    assert.equal(await issued(), before + 1);
    const claims = decodeUnverified(a).payload;
    assert.equal(claims.aud, 'orders');
    assert.equal(claims.scope, 'orders:read orders:write');

    const b = await src.getToken({ audience: 'invoices', scope: 'orders:read orders:write' });
    const c = await src.getToken({ audience: 'orders', scope: 'orders:read' });
    assert.equal(await issued(), before + 3);
    assert.equal(decodeUnverified(b).payload.aud, 'invoices');
    assert.equal(decodeUnverified(c).payload.scope, 'orders:read');
    assert.equal(await src.getToken({ audience: 'invoices', scope: 'orders:write orders:read' }), b);
    assert.equal(await src.getToken({ audience: 'orders', scope: 'orders:read' }), c);
    assert.equal(await issued(), before + 3);
  });

  it('100 concurrent getToken() calls make exactly one token request', async () => {
    const src = source();
    const before = await issued();
    const tokens = await Promise.all(
      Array.from({ length: 100 }, () => src.getToken({ audience: 'orders', scope: 'orders:read' })),
    );
    assert.equal(new Set(tokens).size, 1);
    assert.equal(await issued(), before + 1);
  });

  it(
    'renews ahead of expiry: past refreshAt it serves the cached token, renews in the background, then serves the new one',
    TEST_TIMEOUT,
    async () => {
      const clock = { t: Date.now() };
      const src = source({ now: () => clock.t, random: () => 0 });
      const request = { audience: 'orders', scope: 'orders:read' };
      const before = await issued();
      const first = await src.getToken(request);
      const lifetimeMs =
        ((decodeUnverified(first).payload.exp as number) - (decodeUnverified(first).payload.iat as number)) * 1000;

      clock.t += lifetimeMs * 0.8 - 1_000;
      assert.equal(await src.getToken(request), first, 'before refreshAt: the cached token, no request');
      assert.equal(await issued(), before + 1);

      clock.t += 2_000;
      assert.equal(await src.getToken(request), first, 'past refreshAt: still the cached token at once');
      const renewed = await until('the background renewal', async () => {
        const tok = await src.getToken(request);
        return tok !== first ? tok : undefined;
      });
      assert.equal(await issued(), before + 2, 'one renewal, however many calls meanwhile');
      assert.notEqual(decodeUnverified(renewed).payload.jti, decodeUnverified(first).payload.jti);
      assert.equal(await src.getToken(request), renewed);
      assert.equal(await issued(), before + 2);
    },
  );

  it('dates a token from when it was requested, not from when the answer came: a slow answer does not stretch its life', async () => {
    const clock = { t: Date.now() };
    // The answer takes 10 s (by the source's clock): the token's lifetime started when it was requested.
    const slow: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      clock.t += 10_000;
      return res;
    };
    const src = source({ now: () => clock.t, random: () => 0, fetch: slow });
    const requestedAt = clock.t;
    const first = await src.getToken({ audience: 'orders' });
    const { exp, iat } = decodeUnverified(first).payload as { exp: number; iat: number };
    clock.t = Math.max(requestedAt + (exp - iat) * 1000, exp * 1000) + 1;
    const next = await src.getToken({ audience: 'orders' });
    assert.notEqual(next, first, 'the first token has expired: a new one');
  });

  it('private_key_jwt: authenticates with a signed assertion, a fresh one per request', async () => {
    const key = generateKey('ES256', { kid: 'worker-key' });
    const jwtClient = await t.client({
      id: 'jwt-worker',
      authMethod: 'private_key_jwt',
      jwks: { keys: [key.publicKey().toJwk()] },
      grantTypes: ['client_credentials'],
      scopes: ['orders:read'],
      audiences: ['orders'],
    });
    const src = new ServiceTokenSource({ tokenEndpoint: `${t.url}/oauth/token`, clientId: jwtClient.id, privateKey: key });
    const before = await issued();
    const a = await src.getToken({ audience: 'orders' });
    assert.equal(decodeUnverified(a).payload.client_id, jwtClient.id);
    assert.equal(await src.getToken({ audience: 'orders' }), a);
    // Another scope set: a second request, so a second assertion (a replayed jti would be refused).
    const b = await src.getToken({ audience: 'orders', scope: 'orders:read' });
    assert.notEqual(b, a);
    assert.equal(await issued(), before + 2);

    const wrongKey = new ServiceTokenSource({
      tokenEndpoint: `${t.url}/oauth/token`,
      clientId: jwtClient.id,
      privateKey: generateKey('ES256', { kid: 'worker-key' }),
    });
    await assert.rejects(
      wrongKey.getToken({ audience: 'orders' }),
      (err: unknown) => err instanceof TokenRequestError && err.error === 'invalid_client' && err.status === 401,
    );
  });

  it('a wrong secret: TokenRequestError invalid_client, status 401, and the secret appears nowhere in the error', async () => {
    const secret = 'wrong-secret-7f3a9c1e-do-not-leak';
    for (const src of [source({ clientSecret: secret }), source({ clientId: 'no-such-client', clientSecret: secret })]) {
      const err = await src.getToken({ audience: 'orders' }).then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof TokenRequestError);
      assert.equal(err.code, 'ERR_TOKEN_REQUEST');
      assert.equal(err.error, 'invalid_client');
      assert.equal(err.status, 401);
      for (const text of [err.message, String(err), err.stack ?? '', inspect(err, { depth: 5 }), JSON.stringify(err)]) {
        assert.ok(!text.includes(secret), `secret in: ${text}`);
        assert.ok(!text.includes(Buffer.from(`${svc.id}:${secret}`).toString('base64')), 'encoded credentials');
      }
    }
    // The real secret does not appear in an error either (an audience the client may not have).
    const err = await source()
      .getToken({ audience: 'not-allowed' })
      .then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e as TokenRequestError,
      );
    assert.equal(err.error, 'invalid_target');
    assert.equal(err.status, 400);
    assert.equal(err.description, 'the requested audience is not allowed for this client', "the server's error_description");
    assert.ok(!inspect(err).includes(svc.secret!));
  });

  it('a scope the client may not have: TokenRequestError invalid_scope', async () => {
    await assert.rejects(
      source().getToken({ audience: 'orders', scope: 'admin:all' }),
      (err: unknown) => err instanceof TokenRequestError && err.error === 'invalid_scope' && err.status === 400,
    );
  });

  it('refuses a configuration without exactly one credential, or with refreshAt outside (0, 1)', () => {
    const base = { tokenEndpoint: `${t.url}/oauth/token`, clientId: svc.id };
    assert.throws(() => new ServiceTokenSource(base), ConfigError);
    assert.throws(() => new ServiceTokenSource({ ...base, clientSecret: 's', privateKey: generateKey('ES256') }), ConfigError);
    assert.throws(() => new ServiceTokenSource({ ...base, privateKey: generateKey('ES256').publicKey() }), ConfigError);
    assert.throws(() => new ServiceTokenSource({ ...base, clientId: '', clientSecret: 's' }), ConfigError);
    for (const refreshAt of [0, 1, -0.5, 1.5, Number.NaN])
      assert.throws(() => new ServiceTokenSource({ ...base, clientSecret: 's', refreshAt }), ConfigError);
  });
});

describe('ServiceTokenSource when the token endpoint is down', () => {
  it(
    'serves the cached token while it is valid, backs off between failed renewals, and never returns an expired token',
    TEST_TIMEOUT,
    async () => {
      const t = await startServer();
      let closed = false;
      try {
        const c = await t.client({
          id: 'worker',
          grantTypes: ['client_credentials'],
          scopes: ['orders:read'],
          audiences: ['orders'],
        });
        const clock = { t: Date.now() };
        const counted = countingFetch();
        const src = new ServiceTokenSource({
          tokenEndpoint: `${t.url}/oauth/token`,
          clientId: c.id,
          clientSecret: c.secret,
          now: () => clock.t,
          random: () => 0,
          backoffMs: 500,
          maxBackoffMs: 2_000,
          fetch: counted.fetch,
        });
        const token = await src.getToken();
        const { exp, iat } = decodeUnverified(token).payload as { exp: number; iat: number };
        const lifetimeMs = (exp - iat) * 1000;
        const issuedAt = clock.t;
        assert.equal(counted.attempts.length, 1);

        await t.close();
        closed = true;

        // Past refreshAt: the cached token, and one renewal attempt, which fails.
        clock.t = issuedAt + lifetimeMs * 0.8 + 1;
        assert.equal(await src.getToken(), token);
        await until('the failed renewal', () => counted.attempts.length === 2 && counted.attempts[1]!.failed);
        await new Promise((r) => setImmediate(r));

        // Within the backoff (500 ms, then 1 s, then 2 s at most): no new attempt, the cached token.
        const attemptsAt = (n: number) =>
          until(`renewal attempt ${n} to fail`, () => counted.attempts.length === n && counted.attempts[n - 1]!.done);
        assert.equal(await src.getToken(), token);
        clock.t += 499;
        assert.equal(await src.getToken(), token);
        assert.equal(counted.attempts.length, 2, 'no attempt within the first backoff');
        clock.t += 1;
        assert.equal(await src.getToken(), token);
        await attemptsAt(3);
        await new Promise((r) => setImmediate(r));
        clock.t += 999;
        assert.equal(await src.getToken(), token);
        assert.equal(counted.attempts.length, 3, 'the backoff doubled');
        clock.t += 1;
        assert.equal(await src.getToken(), token);
        await attemptsAt(4);
        await new Promise((r) => setImmediate(r));
        for (let i = 0; i < 3; i++) {
          clock.t += 1_999;
          assert.equal(await src.getToken(), token);
          assert.equal(counted.attempts.length, 4 + i, 'the backoff is capped at maxBackoffMs, not shorter');
          clock.t += 1;
          assert.equal(await src.getToken(), token);
          await attemptsAt(5 + i);
          await new Promise((r) => setImmediate(r));
        }

        // Expired: no token rather than an expired one.
        clock.t = issuedAt + lifetimeMs;
        await assert.rejects(
          src.getToken(),
          (err: unknown) => err instanceof TokenRequestError && err.code === 'ERR_TOKEN_REQUEST' && err.status === undefined,
        );
      } finally {
        if (!closed) await t.close();
      }
    },
  );
});

describe('ServiceTokenSource when the token endpoint comes back', () => {
  it('fails while the server is down, then gets a fresh token once it is up again', TEST_TIMEOUT, async () => {
    const t = await startServer();
    const port = Number(new URL(t.url).port);
    const c = await t.client({
      id: 'returning',
      grantTypes: ['client_credentials'],
      scopes: ['orders:read'],
      audiences: ['orders'],
    });
    const src = new ServiceTokenSource({
      tokenEndpoint: `${t.url}/oauth/token`,
      clientId: c.id,
      clientSecret: c.secret,
      backoffMs: 50,
      maxBackoffMs: 200,
    });
    const first = await src.getToken();
    await t.close(true);
    // Nothing cached any more (as after an expiry): the source has to reach the endpoint, which is down.
    src.clear();
    await assert.rejects(src.getToken(), (e: unknown) => e instanceof TokenRequestError && e.status === undefined);
    // The same server (data folder, port, issuer) starts again.
    const back = await startServer({ dir: t.dir, overrides: { port } });
    try {
      let token: string | undefined;
      await until('a token from the restarted server', async () => {
        token = await src.getToken().catch(() => undefined);
        return token !== undefined;
      });
      assert.notEqual(token, first);
      assert.equal((decodeUnverified(token!).payload as { client_id: string }).client_id, 'returning');
    } finally {
      await back.close();
    }
  });
});

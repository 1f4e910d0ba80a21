/** Remote JWKS against a real HTTP server: rotation, unknown kid, endpoint down, slow endpoint, bad JSON. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { generateKey, KeyNotFoundError, signAccessToken } from '@tessera/core';
import { createVerifier, JwksFetchError, KeysUnavailableError, type Verifier, type VerifierOptions } from '@tessera/verifier';
import { until } from '@tessera/testing';

import { AUDIENCE, ISSUER, startJwksServer, TestIssuer, type JwksServer } from './helpers/issuer.js';

describe('remote JWKS', () => {
  let issuer: TestIssuer;
  let server: JwksServer;
  let verifier: Verifier | undefined;
  let clock: number;
  const now = () => clock;
  /** Tokens valid for two days of test-clock time. */
  const token = (key = issuer.key) => issuer.token({ ttl: 172_800 }, { now, key });

  function make(options: Partial<VerifierOptions> = {}): Verifier {
    verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwksUri: server.url,
      now,
      cache: false,
      ...options,
    });
    return verifier;
  }

  beforeEach(async () => {
    clock = Date.now();
    issuer = new TestIssuer('ES256');
    server = await startJwksServer(issuer);
  });
  afterEach(async () => {
    verifier?.close();
    verifier = undefined;
    await server.close();
  });

  it('fetches once for many concurrent first requests', async () => {
    const v = make();
    const results = await Promise.all(Array.from({ length: 50 }, () => v.verify(token())));
    assert.equal(results.length, 50);
    assert.equal(server.requests, 1);
  });

  it('rotation: a token signed by a newly published key verifies after one refetch', async () => {
    const v = make();
    await v.verify(token());
    clock += 31_000; // past the unknown-kid cooldown
    const next = issuer.rotate();
    const p = await v.verify(token(next));
    assert.equal(p.sub, 'alice');
    assert.equal(server.requests, 2);
    // The old key is still published and still verifies.
    await v.verify(token(issuer.keys[0]));
    assert.equal(server.requests, 2);
  });

  it('an unknown kid refetches at most once per cooldown, and concurrent misses share that fetch', async () => {
    const v = make({ jwksOptions: { cooldownMs: 30_000 } });
    await v.verify(token());
    const stranger = generateKey('ES256');
    const forged = signAccessToken({ iss: ISSUER, sub: 'mallory', aud: AUDIENCE, client_id: 'x', ttl: 3600 }, stranger, { now });

    // Within the cooldown of the first fetch: no refetch at all.
    await assert.rejects(v.verify(forged), KeyNotFoundError);
    assert.equal(server.requests, 1);

    clock += 31_000;
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => v.verify(forged)));
    assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof KeyNotFoundError));
    assert.equal(server.requests, 2, 'twenty concurrent misses caused one fetch');

    for (let i = 0; i < 10; i++) await assert.rejects(v.verify(forged), KeyNotFoundError);
    assert.equal(server.requests, 2, 'further misses inside the cooldown cause none');
  });

  it('endpoint down: the last good keys keep serving up to the maximum stale age, then it fails closed, then recovers', async () => {
    const v = make({ jwksOptions: { maxStaleMs: 600_000 } });
    await v.verify(token());
    server.mode = 'down';
    clock += 301_000; // past max-age=300
    await v.verify(token()); // stale keys still serve; a background refresh is attempted
    await until('the background refresh', () => server.requests >= 2);
    assert.equal(server.requests, 2);
    clock += 600_000; // past the maximum stale age
    await assert.rejects(v.verify(token()), (err: unknown) => err instanceof KeysUnavailableError);
    server.mode = 'ok';
    clock += 60_000; // past the retry backoff
    const p = await v.verify(token());
    assert.equal(p.sub, 'alice');
  });

  it('a slow endpoint times out and, with no keys yet, verification fails closed', async () => {
    server.mode = 'slow';
    const v = make({ jwksOptions: { timeoutMs: 200 } });
    const started = Date.now();
    await assert.rejects(v.verify(token()), (err: unknown) => {
      assert.ok(err instanceof KeysUnavailableError);
      assert.ok(err.cause instanceof JwksFetchError);
      assert.equal(err.cause.reason, 'timeout');
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
  });

  it('while a fetch has just failed, requests fail fast instead of each waiting for the endpoint', async () => {
    server.mode = 'down';
    const v = make();
    await assert.rejects(v.verify(token()), KeysUnavailableError);
    await assert.rejects(v.verify(token()), KeysUnavailableError);
    assert.equal(server.requests, 1, 'the second request did not refetch during the backoff');
  });

  it('bad JSON is refused and the previous keys stay in use', async () => {
    const v = make();
    await v.verify(token());
    server.mode = 'bad-json';
    clock += 301_000;
    await v.verify(token());
    await until('the background refresh', () => server.requests >= 2);
    assert.equal(server.requests, 2);
    await v.verify(token());
  });

  it('bad JSON with no previous keys fails closed', async () => {
    server.mode = 'bad-json';
    const v = make();
    await assert.rejects(
      v.verify(token()),
      (err: unknown) => err instanceof KeysUnavailableError && (err.cause as JwksFetchError).reason === 'invalid',
    );
  });

  it('an oversized JWKS response is refused', async () => {
    server.mode = 'huge';
    const v = make();
    await assert.rejects(
      v.verify(token()),
      (err: unknown) => err instanceof KeysUnavailableError && (err.cause as JwksFetchError).reason === 'too_large',
    );
  });

  it('Cache-Control max-age is honoured within the configured bounds', async () => {
    server.cacheControl = 'max-age=5'; // below the 30 s floor
    const v = make();
    await v.verify(token());
    clock += 10_000;
    await v.verify(token());
    assert.equal(server.requests, 1, 'max-age=5 is raised to the 30 s minimum');
    clock += 25_000;
    await v.verify(token());
    await until('the refresh past 30 s', () => server.requests >= 2);
    assert.equal(server.requests, 2, 'past 30 s the keys are refreshed');

    server.cacheControl = 'max-age=86400'; // above the 10 min ceiling
    clock += 60_000;
    await v.verify(token());
    await until('the refresh that reads max-age=86400', () => server.requests >= 3);
    const after = server.requests;
    clock += 601_000;
    await v.verify(token());
    await until('the refresh past 10 minutes', () => server.requests >= after + 1);
    assert.equal(server.requests, after + 1, 'max-age=86400 is capped at 10 minutes');
  });

  it('refreshes in the background before the cache lifetime ends', async () => {
    server.cacheControl = 'max-age=1';
    verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwksUri: server.url,
      jwksOptions: { minCacheMs: 0, refreshAt: 0.1 },
    });
    await verifier.verify(issuer.token());
    const fetchedAt = Date.now();
    assert.equal(server.requests, 1);
    // The refresh runs on a real timer (a tenth of the 1 s lifetime), with no request to trigger it.
    await until('a background refresh', () => server.requests >= 2);
    assert.ok(Date.now() - fetchedAt < 1_000, 'before the cache lifetime (1 s) ended');
  });
});

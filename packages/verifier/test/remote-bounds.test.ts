/**
 * What the verifier fetches stays where it was configured and within its bounds, and what it reports of its
 * connections is true: a JWKS redirect is refused (jwks-redirect), a chunked revocation snapshot larger
 * than the cap is cut off as it streams (snapshot-chunked-oversize), and a Redis-mode revocation list says
 * `connected: false` while its Redis is gone (redis-disconnect).
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';

import { createRevocationList, createVerifier, KeysUnavailableError, RevocationsUnavailableError } from '@tessera/verifier';
import { RedisProcess, redisServerAvailable, until } from '@tessera/testing';
import { Redis } from 'ioredis';

import { AUDIENCE, ISSUER, startJwksServer, TestIssuer } from './helpers/issuer.js';

async function serve(listener: RequestListener): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url, server, close };
}

describe('jwks-redirect: a JWKS endpoint that redirects elsewhere is not followed', () => {
  it('the redirect is refused, verification fails closed, and the redirect target is never asked', async () => {
    const issuer = new TestIssuer('ES256');
    const target = await startJwksServer(issuer);
    const redirector = await serve((_req, res) => void res.writeHead(302, { location: target.url }).end());
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwksUri: `${redirector.url}/.well-known/jwks.json`,
      cache: false,
    });
    try {
      await assert.rejects(verifier.verify(issuer.token()), (e: unknown) => {
        assert.ok(e instanceof KeysUnavailableError);
        const cause = (e as { cause?: { code?: string; reason?: string; message?: string } }).cause;
        assert.equal(cause?.code, 'ERR_JWKS_FETCH');
        assert.equal(cause?.reason, 'status');
        assert.match(cause?.message ?? '', /redirect \(HTTP 302\)/);
        return true;
      });
      assert.equal(target.requests, 0);
    } finally {
      verifier.close();
      await redirector.close();
      await target.close();
    }
  });
});

describe('snapshot-chunked-oversize: a revocation snapshot streamed without Content-Length is capped', () => {
  it('a chunked body past maxSnapshotBytes is cut off and refused; the list does not load', async () => {
    let sent = 0;
    let aborted = false;
    const api = await serve((req, res) => {
      if (!req.url?.startsWith('/revocations') || req.url !== '/revocations') return void res.writeHead(404).end();
      // No Content-Length: Transfer-Encoding chunked, one 16 KiB chunk after another, for as long as it is read.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"sequence":0,"revocations":[');
      const chunk = `${'{"kind":"jti","jti":"x","expiresAt":1,"seq":1},'.repeat(340)}`;
      const pump = () => {
        while (!aborted && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('{}]}');
      };
      res.on('close', () => (aborted = true));
      pump();
    });
    const errors: unknown[] = [];
    const list = createRevocationList({
      issuer: api.url,
      token: () => 'service-token',
      maxSnapshotBytes: 256 * 1024,
      backoffMs: 60_000,
      onError: (e) => errors.push(e),
    });
    try {
      await until('the snapshot is refused', () => errors.length > 0, 10_000);
      const err = errors[0];
      assert.ok(err instanceof RevocationsUnavailableError, String(err));
      assert.match(err.message, /too large/);
      await until('the server sees the connection dropped', () => aborted, 10_000);
      assert.ok(sent < 4 * 1024 * 1024, `read stopped early (${sent} bytes sent)`);
      assert.equal(list.current, false);
    } finally {
      list.close();
      await api.close();
    }
  });
});

describe('redis-disconnect: the Redis-mode revocation list reports its connection truthfully', async () => {
  const available = await redisServerAvailable();
  it(
    'connected is false while its Redis is down, and true again once it is back',
    { skip: !available && 'no redis-server' },
    async () => {
      const redis = await RedisProcess.start();
      const api = await serve((req, res) => {
        if (req.url !== '/revocations') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"sequence":0,"revocations":[]}');
      });
      const subscriber = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
      subscriber.on('error', () => {});
      const list = createRevocationList({ issuer: api.url, token: () => 'service-token', redis: { subscriber } });
      try {
        await list.ready(10_000);
        await until('connected', () => list.connected, 10_000);
        await redis.kill();
        await until('disconnected', () => !list.connected, 10_000);
        await redis.start();
        await until('connected again', () => list.connected, 10_000);
        assert.equal(list.current, true);
      } finally {
        list.close();
        // Not quit(): with the server down it would wait for a reconnection that never comes.
        await redis.kill();
        subscriber.disconnect();
        await api.close();
      }
    },
  );
});

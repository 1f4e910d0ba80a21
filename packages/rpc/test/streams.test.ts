/**
 * Server streams that outlive their token: they end with Unauthenticated (`token_expired`) at the token's
 * expiry, on every protocol; the handler is stopped; a revoked token ends its stream at once; and
 * resumeStream carries on from the last message with a fresh token from a ServiceTokenSource.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Code, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createTokenInterceptor, resumeStream } from '@tessera/rpc';
import { SteppedClock, until } from '@tessera/testing';
import { ServiceTokenSource } from '@tessera/verifier';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { AUDIENCE, startAuthServer, startVerifier, type AuthServer, type Creds } from './helpers/auth-server.js';
import { connectH2, grpcJs, grpcTransport, grpcWebH1, type Outcome } from './helpers/callers.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

/** Token lifetime of the short-lived client, seconds. */
const TTL = 2;

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; jti: string };
const expOf = (token: string) => claimsOf(token).exp;

describe('server streams and token lifetime', () => {
  let auth: AuthServer;
  let v: Awaited<ReturnType<typeof startVerifier>>;
  let inv: Inventory;
  let brief: Creds;

  before(async () => {
    auth = await startAuthServer();
    v = await startVerifier(auth);
    inv = await startInventory({ verifier: v.verifier, revocations: v.revocations, gate: true });
    brief = await auth.client('brief', ['inventory:read'], { accessTokenTtl: TTL });
  });
  after(async () => {
    await inv.close();
    v.close();
    await auth.close();
  });

  it('a stream ends with Unauthenticated (token_expired) at the token expiry: Connect, gRPC, gRPC-Web, @grpc/grpc-js', async () => {
    const token = await auth.token(brief);
    const expiresAt = expOf(token) * 1000;
    const callers = [connectH2(inv), grpcTransport(inv), grpcWebH1(inv), grpcJs(inv)];
    const endedBefore = inv.seen.streamsEnded;
    const results = await Promise.all(
      callers.map(async (c) => {
        const outcome = await c.stream(`Bearer ${token}`, 10_000, { intervalMs: 50 });
        return { name: c.name, outcome, at: Date.now() };
      }),
    );
    for (const c of callers) c.close();
    for (const { name, outcome, at } of results) {
      assert.equal(outcome.ok, false, name);
      const o = outcome as Extract<Outcome, { ok: false }>;
      assert.equal(o.code, Code.Unauthenticated, `${name}: ${Code[o.code]} ${o.message}`);
      assert.equal(o.reason, 'token_expired', name);
      assert.equal(o.message, 'the access token expired', name);
      assert.ok(o.events!.length >= 5, `${name} got events first (${o.events!.length})`);
      assert.ok(at >= expiresAt - 20 && at < expiresAt + 1_000, `${name} ended ${at - expiresAt} ms after exp`);
    }
    await until('every handler to stop', () => inv.seen.streamsEnded === endedBefore + callers.length);
  });

  it('a stream ends at once when its token is revoked (the verifier follows the revocation list)', async () => {
    const leaker = await auth.client('leaker', ['inventory:read']);
    const token = await auth.token(leaker);
    const caller = connectH2(inv);
    const started = Date.now();
    const ended = caller.stream(`Bearer ${token}`, 10_000, { intervalMs: 20 });
    const jti = claimsOf(token).jti;
    await until('the stream to start', () => inv.seen.calls.some((c) => c.method === 'watchStock' && c.tokenId === jti));
    // Stays: events flow a moment before the revocation (the caller reports what it got only when the stream ends).
    await new Promise((r) => setTimeout(r, 100));
    await auth.revoke(leaker, token);
    const outcome = await ended;
    assert.equal(outcome.ok, false);
    const o = outcome as Extract<Outcome, { ok: false }>;
    assert.equal(o.code, Code.Unauthenticated);
    assert.equal(o.reason, 'token_invalid');
    assert.ok(o.events!.length > 0);
    assert.ok(Date.now() - started < 5_000, 'well before the token expiry (10 min)');
  });

  it('resumeStream re-opens from the last message with a fresh token from a ServiceTokenSource', async () => {
    const tokens = new ServiceTokenSource({ tokenEndpoint: auth.tokenEndpoint, clientId: brief.id, clientSecret: brief.secret });
    const client = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(tokens, { audience: AUDIENCE, scope: ['inventory:read'] })],
      }),
    );
    const callsBefore = inv.seen.calls.length;
    const seqs: bigint[] = [];
    const events = resumeStream((after?: bigint) => client.watchStock({ sku: 'sku-1', after: after ?? 0n, intervalMs: 50 }), {
      cursor: (e) => e.seq,
      beforeResume: () => tokens.clear(),
    });
    for await (const e of events) {
      seqs.push(e.seq);
      const opened = inv.seen.calls.slice(callsBefore).filter((c) => c.method === 'watchStock');
      if (opened.length >= 2 && seqs.length >= 3 * (opened.length - 1) + 3) break; // a few events after the resume
      if (seqs.length > 400) assert.fail('no resume happened');
    }
    const opened = inv.seen.calls.slice(callsBefore).filter((c) => c.method === 'watchStock');
    assert.equal(opened.length, 2, 'one re-open');
    assert.notEqual(opened[0]!.tokenId, opened[1]!.tokenId, 'the second stream carries a new token');
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => BigInt(i + 1)),
      'every event once, in order, across the re-open',
    );
  });

  it('resumeStream gives up after maxResumes re-opens that bring no message', async () => {
    let opens = 0;
    const expired = await auth.token(brief);
    // A service whose clock has passed the token's exp (within the verifier's tolerance, so streams end at once).
    const clock = new SteppedClock();
    const late = await startInventory({ verifier: v.verifier, revocations: v.revocations, gate: true, now: clock.now });
    clock.advance(Math.max(0, expOf(expired) * 1000 - clock.now() + 10));
    try {
      const client = createClient(InventoryService, createConnectTransport({ baseUrl: late.h2, httpVersion: '2' }));
      const events = resumeStream(
        () => {
          opens++;
          return client.watchStock({ sku: 'sku-1' }, { headers: { authorization: `Bearer ${expired}` } });
        },
        { cursor: (e) => e.seq, maxResumes: 2, retryDelayMs: 10 },
      );
      await assert.rejects(events.next(), (err: { code?: Code }) => err.code === Code.Unauthenticated);
      assert.equal(opens, 3, 'the first open and two re-opens');
    } finally {
      await late.close();
    }
  });
});

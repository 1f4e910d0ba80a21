/**
 * The verifier's RevocationList (createRevocationList) following a real auth server: the snapshot, the event
 * stream, the Verifier's cache kept honest, fail-closed staleness through every adapter, reconnection to a
 * restarted server, and reports of revoked tokens presented.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';
import {
  createRevocationList,
  createVerifier,
  RevocationsUnavailableError,
  TokenRevokedError,
  type RevocationList,
  type RevocationListOptions,
  type Verifier,
} from '@tessera/verifier';

import { until } from '@tessera/testing';

import { contextOf } from '@tessera/server/internal';

import { tokenOf } from './helpers/admin-api.js';
import { assertTokenResponse, login, revoke, type ClientCreds } from './helpers/oauth.js';
import { feedClient, feedToken, freePort } from './helpers/revocations.js';
import { startServer, type Json, type TestServer } from './helpers/server.js';
import { verifierHosts, type VerifierHost } from './helpers/verifier-hosts.js';

const PASSWORD = 'a long enough password';
const TEST_TIMEOUT = { timeout: 30_000 };

interface Call {
  url: string;
  method: string;
  lastEventId: string | null;
  failed: boolean;
}

/** The global fetch, with a record of each request the list makes (nothing is changed). */
function recordingFetch(): { calls: Call[]; fetch: typeof fetch } {
  const calls: Call[] = [];
  const f: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const call: Call = {
      url,
      method: init?.method ?? 'GET',
      lastEventId: new Headers(init?.headers).get('last-event-id'),
      failed: false,
    };
    calls.push(call);
    return fetch(input, init).catch((err: unknown) => {
      call.failed = true;
      throw err;
    });
  };
  return { calls, fetch: f };
}

/** Everything a test sets up on a server: clients, a role, and a way to get tokens. */
interface Setup {
  feed: ClientCreds;
  app: ClientCreds;
  svc: ClientCreds;
}

async function setUp(t: TestServer): Promise<Setup> {
  const feed = await feedClient(t, 'orders-api');
  const app = await t.client({
    id: 'web',
    grantTypes: ['password', 'refresh_token'],
    scopes: ['orders:read'],
    audiences: ['orders'],
    firstParty: true,
  });
  const svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['orders:read'], audiences: ['orders'] });
  await contextOf(t.server).store.roles.put({ name: 'user', permissions: ['orders:read'] });
  return { feed, app, svc };
}

function claims(token: string) {
  return decodeUnverified(token).payload;
}

function verifierFor(t: TestServer, list: RevocationList): Verifier {
  return createVerifier({
    issuer: t.url,
    audience: 'orders',
    algorithms: ['ES256'],
    jwksUri: `${t.url}/.well-known/jwks.json`,
    revocations: list,
  });
}

async function assertRevoked(v: Verifier, token: string): Promise<void> {
  await assert.rejects(v.verify(token), (err: unknown) => err instanceof TokenRevokedError && err.code === 'ERR_TOKEN_REVOKED');
}

describe('RevocationList against a real auth server', () => {
  let t: TestServer;
  let s: Setup;
  const lists: RevocationList[] = [];
  const verifiers: Verifier[] = [];

  before(async () => {
    t = await startServer({ overrides: { revocationHeartbeatSeconds: 1 } });
    s = await setUp(t);
    await t.user('alice', PASSWORD, ['user']);
    await t.user('bob', PASSWORD, ['user']);
  });
  after(async () => {
    for (const l of lists) l.close();
    for (const v of verifiers) v.close();
    await t.close();
  });

  function list(extra: Partial<RevocationListOptions> = {}): RevocationList {
    const l = createRevocationList({
      issuer: t.url,
      clientId: s.feed.id,
      clientSecret: s.feed.secret,
      backoffMs: 50,
      maxBackoffMs: 200,
      ...extra,
    });
    lists.push(l);
    return l;
  }

  function verifier(l: RevocationList): Verifier {
    const v = verifierFor(t, l);
    verifiers.push(v);
    return v;
  }

  async function userToken(username: string): Promise<string> {
    const r = await login(t, s.app, username, PASSWORD);
    assertTokenResponse(r);
    return r.body.access_token!;
  }

  it('ready() resolves once the snapshot is loaded, with the revocations made before', TEST_TIMEOUT, async () => {
    const early = await tokenOf(t, s.svc);
    assert.equal((await revoke(t, s.svc, early)).status, 200);
    const l = list();
    assert.throws(() => l.isRevoked(claims(early)), RevocationsUnavailableError, 'fails closed until loaded');
    await l.ready(5_000);
    assert.equal(l.current, true);
    assert.equal(l.isRevoked(claims(early)), true);
    assert.equal(l.isRevoked(claims(await tokenOf(t, s.svc))), false);
    const snap = (await (
      await fetch(`${t.url}/revocations`, { headers: { authorization: `Bearer ${await feedToken(t, s.feed)}` } })
    ).json()) as Json;
    assert.equal(l.sequence, snap.sequence);
    assert.equal(l.size, snap.revocations.length);
    await until('the event stream to open', () => l.connected);
  });

  it('ready() with a timeout rejects while the list cannot load (credentials refused)', TEST_TIMEOUT, async () => {
    const l = list({ clientSecret: 'wrong secret', onError: () => {} });
    await assert.rejects(l.ready(300), RevocationsUnavailableError);
  });

  it('a token function works in place of client credentials', TEST_TIMEOUT, async () => {
    const l = list({ clientId: undefined, clientSecret: undefined, token: () => feedToken(t, s.feed) });
    await l.ready(5_000);
    await until('the event stream to open', () => l.connected);
  });

  it('revocations made through the server’s HTTP API reach the list', TEST_TIMEOUT, async () => {
    const l = list();
    await l.ready(5_000);
    const svcToken = await tokenOf(t, s.svc);
    assert.equal((await revoke(t, s.svc, svcToken)).status, 200);
    await until('the RFC 7009 revocation to reach the list', () => l.isRevoked(claims(svcToken)));

    const aliceToken = await userToken('alice');
    assert.equal(l.isRevoked(claims(aliceToken)), false);
    const r = await t.admin('POST', '/admin/revoke', { subject: 'user-alice' });
    assert.equal(r.status, 200);
    await until('the subject cut-off to reach the list', () => l.isRevoked(claims(aliceToken)));
    assert.equal(l.sequence, r.body.seq);
  });

  it(
    'a token verified and cached before its revocation is refused afterwards, and its cache entry dropped',
    TEST_TIMEOUT,
    async () => {
      const l = list();
      await l.ready(5_000);
      const v = verifier(l);
      const keep = await tokenOf(t, s.svc);
      const doomed = await tokenOf(t, s.svc);
      await v.verify(keep);
      await v.verify(doomed);
      await v.verify(doomed);
      assert.equal(v.cacheSize, 2);
      assert.equal(v.authorizeCached(`Bearer ${doomed}`)?.tokenId, claims(doomed).jti);

      assert.equal((await revoke(t, s.svc, doomed)).status, 200);
      await until('the revocation to reach the list', () => l.isRevoked(claims(doomed)));
      assert.equal(v.cacheSize, 1, 'the revoked token left the cache');
      assert.equal(v.authorizeCached(`Bearer ${doomed}`), undefined);
      await assertRevoked(v, doomed);
      await assert.rejects(v.authorize(`Bearer ${doomed}`), TokenRevokedError);
      assert.equal((await v.verify(keep)).tokenId, claims(keep).jti);
      assert.equal(v.cacheSize, 1, 'a refused token is not cached');
    },
  );

  it('a subject cut-off refuses all of that user’s earlier tokens at once, not one issued after', TEST_TIMEOUT, async () => {
    const l = list();
    await l.ready(5_000);
    const v = verifier(l);
    const bob = [await userToken('bob'), await userToken('bob'), await userToken('bob')];
    const other = await tokenOf(t, s.svc);
    for (const tok of [...bob, other]) await v.verify(tok);
    assert.equal(v.cacheSize, 4);

    const r = await t.admin('POST', '/admin/revoke', { subject: 'user-bob' });
    assert.equal(r.status, 200);
    await until('the cut-off to reach the list', () => l.sequence >= r.body.seq);
    assert.equal(v.cacheSize, 1, 'every earlier token of bob left the cache at once');
    for (const tok of bob) await assertRevoked(v, tok);
    assert.equal((await v.verify(other)).sub, s.svc.id);

    const fresh = await userToken('bob');
    assert.equal((await v.verify(fresh)).sub, 'user-bob', 'a token issued after the cut-off is accepted');
  });

  it(
    'recovers when its own client is cut off: the stream ends, the refused token is dropped, a fresh one resumes it',
    TEST_TIMEOUT,
    async () => {
      const own = await feedClient(t, 'orders-api-cut-off');
      const rec = recordingFetch();
      const l = list({ clientId: own.id, clientSecret: own.secret, fetch: rec.fetch, onError: () => {} });
      await l.ready(5_000);
      await until('the event stream to open', () => l.connected);
      const tokenRequests = () => rec.calls.filter((c) => c.url.endsWith('/oauth/token')).length;
      assert.equal(tokenRequests(), 1);

      const r = await t.admin('POST', '/admin/revoke', { client_id: own.id });
      assert.equal(r.status, 200);
      await until('a fresh token for the list', () => tokenRequests() === 2);
      await until('the stream to reopen', () => l.connected && l.sequence >= r.body.seq);

      const svcToken = await tokenOf(t, s.svc);
      assert.equal((await revoke(t, s.svc, svcToken)).status, 200);
      await until('a later revocation to reach the list', () => l.isRevoked(claims(svcToken)));
    },
  );

  it('reportRevokedUse: a revoked token presented 5 times makes exactly one anomaly event', TEST_TIMEOUT, async () => {
    const rec = recordingFetch();
    const l = list({ reportRevokedUse: true, fetch: rec.fetch });
    await l.ready(5_000);
    const v = verifier(l);
    const tok = await tokenOf(t, s.svc);
    const jti = claims(tok).jti as string;
    await v.verify(tok);
    assert.equal((await revoke(t, s.svc, tok)).status, 200);
    // Waits on the sequence, not on isRevoked (which would itself report the token).
    const seq = await snapshotSeqOf(jti);
    await until('the revocation to reach the list', () => l.sequence >= seq);
    for (let i = 0; i < 5; i++) await assertRevoked(v, tok);

    const events = await until('the anomaly event', async () => {
      const res = await t.admin('GET', '/admin/audit?type=anomaly.revoked_token_used');
      const mine = (res.body.items as Json[]).filter((e) => e.data.jti === jti);
      return mine.length > 0 ? mine : undefined;
    });
    assert.equal(rec.calls.filter((c) => c.url.endsWith('/revocations/reports')).length, 1, 'one report request');
    assert.equal(events.length, 1);
    const [e] = events;
    assert.equal(e.actor, s.feed.id, 'the reporting client');
    assert.equal(e.client_id, s.svc.id);
    assert.equal(e.subject, s.svc.id);
    assert.equal(e.data.seq, seq);
  });

  async function snapshotSeqOf(value: string): Promise<number> {
    const res = await fetch(`${t.url}/revocations`, { headers: { authorization: `Bearer ${await feedToken(t, s.feed)}` } });
    const entry = ((await res.json()) as Json).revocations.find((r: Json) => r.value === value);
    assert.ok(entry, `a record for ${value}`);
    return entry.seq as number;
  }
});

describe('RevocationList when the server goes away and comes back', () => {
  it(
    'answers until maxStaleMs, then fails closed (503 through every adapter) unless whenStale is accept; reconnects and resumes after a restart',
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      let t = await startServer({ overrides: { port, revocationHeartbeatSeconds: 1 } });
      const url = t.url;
      const dir = t.dir;
      const cleanups: (() => Promise<void> | void)[] = [];
      try {
        const s = await setUp(t);
        // The lists' clock moves only when the test moves it: staleness is decided by the test, not by timing.
        const clock = { t: Date.now() };
        const rec = recordingFetch();
        const common = {
          issuer: url,
          clientId: s.feed.id,
          clientSecret: s.feed.secret,
          backoffMs: 50,
          maxBackoffMs: 200,
          maxStaleMs: 1_500,
          now: () => clock.t,
          onError: () => {},
        };
        const strict = createRevocationList({ ...common, fetch: rec.fetch });
        const lenient = createRevocationList({ ...common, whenStale: 'accept' });
        cleanups.push(
          () => strict.close(),
          () => lenient.close(),
        );
        await Promise.all([strict.ready(5_000), lenient.ready(5_000)]);
        const v = verifierFor(t, strict);
        cleanups.push(() => v.close());
        const hosts: VerifierHost[] = await verifierHosts(v);
        cleanups.push(...hosts.map((h) => () => h.close()));

        const good = await tokenOf(t, s.svc);
        const revokedEarly = await tokenOf(t, s.svc);
        const revokedWhileAway = await tokenOf(t, s.svc);
        for (const h of hosts) {
          for (const tok of [good, revokedEarly, revokedWhileAway])
            assert.equal((await h.get(`Bearer ${tok}`)).status, 200, h.name);
        }
        assert.equal((await revoke(t, s.svc, revokedEarly)).status, 200);
        await until(
          'the revocation to reach both lists',
          () => strict.isRevoked(claims(revokedEarly)) && lenient.isRevoked(claims(revokedEarly)),
        );
        const seqBeforeStop = strict.sequence;

        // The server stops: the lists keep answering from what they hold...
        await t.close(true);
        await until('the lists to see the stream end', () => !strict.connected && !lenient.connected);
        const callsAtStop = rec.calls.length;
        assert.equal(strict.current, true);
        assert.equal(strict.isRevoked(claims(good)), false);
        assert.equal(strict.isRevoked(claims(revokedEarly)), true);
        for (const h of hosts) {
          assert.equal((await h.get(`Bearer ${good}`)).status, 200, `${h.name}: still current`);
          assert.equal((await h.get(`Bearer ${revokedEarly}`)).status, 401, h.name);
        }

        // ...until maxStaleMs has passed without word from the server.
        clock.t += 1_501;
        assert.equal(strict.current, false);
        assert.throws(
          () => strict.isRevoked(claims(good)),
          (err: unknown) => err instanceof RevocationsUnavailableError && err.code === 'ERR_REVOCATIONS_UNAVAILABLE',
        );
        for (const h of hosts) {
          for (const tok of [good, revokedEarly]) {
            const r = await h.get(`Bearer ${tok}`);
            assert.equal(r.status, 503, `${h.name}: ${r.status} ${r.body}`);
            assert.equal(r.headers.get('retry-after'), '5', h.name);
            assert.equal(JSON.parse(r.body).error, 'temporarily_unavailable', h.name);
          }
        }
        assert.equal(lenient.current, false);
        assert.equal(lenient.isRevoked(claims(good)), false, 'whenStale accept: keeps answering');
        assert.equal(lenient.isRevoked(claims(revokedEarly)), true);

        // The list retries with backoff while the server is away.
        await until('two failed reconnection attempts', () => rec.calls.slice(callsAtStop).filter((c) => c.failed).length >= 2);

        // Meanwhile a revocation is recorded (an instance on the same database, elsewhere).
        const other = await startServer({ dir, overrides: { issuer: url, port: 0 } });
        const otherUrl = `http://127.0.0.1:${(other.server.app.server.address() as AddressInfo).port}`;
        assert.equal((await revoke({ ...other, url: otherUrl }, s.svc, revokedWhileAway)).status, 200);
        await other.close(true);

        // The server comes back on the same port and data: the list reconnects and resumes where it stopped.
        t = await startServer({ dir, overrides: { port, revocationHeartbeatSeconds: 1 } });
        assert.equal(t.url, url);
        await until(
          'the strict list to enforce the revocation made while it was away',
          () => strict.current && strict.isRevoked(claims(revokedWhileAway)),
          10_000,
        );
        await until('the lenient list too', () => lenient.isRevoked(claims(revokedWhileAway)), 10_000);
        const since = rec.calls.slice(callsAtStop);
        assert.ok(
          since.some((c) => c.url === `${url}/revocations/stream` && !c.failed && c.lastEventId === String(seqBeforeStop)),
          'resumed the stream from the last sequence number it held',
        );
        assert.equal(since.filter((c) => c.url === `${url}/revocations`).length, 0, 'no snapshot reload was needed');
        assert.equal(strict.isRevoked(claims(good)), false);
        for (const h of hosts) {
          assert.equal((await h.get(`Bearer ${good}`)).status, 200, h.name);
          assert.equal((await h.get(`Bearer ${revokedWhileAway}`)).status, 401, h.name);
        }
      } finally {
        for (const c of cleanups.reverse()) await c();
        await t.close();
      }
    },
  );
});

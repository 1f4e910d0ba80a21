/**
 * The revocation feed of the auth server: GET /revocations (snapshot), GET /revocations/stream (server-sent
 * events) and POST /revocations/reports, each behind an access token of this issuer for
 * `<issuer>/revocations` with scope `tessera:revocations`. Real server, real HTTP.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified, generateKey, signAccessToken } from '@tessera/core';
import { REVOCATIONS_SCOPE } from '@tessera/verifier';

import { until } from '@tessera/testing';

import { contextOf } from '@tessera/server/internal';

import { tokenOf } from './helpers/admin-api.js';
import { assertTokenResponse, login, refresh, revoke, type ClientCreds } from './helpers/oauth.js';
import {
  feedClient,
  feedToken,
  metric,
  openStream,
  revocationsAudience,
  seqs,
  within,
  type EventStream,
} from './helpers/revocations.js';
import { startServer, type Json, type TestServer } from './helpers/server.js';

const PASSWORD = 'a long enough password';
const TEST_TIMEOUT = { timeout: 20_000 };

interface Snapshot {
  sequence: number;
  revocations: { seq: number; kind: string; value: string; cutoff: number | null; expiresAt: number }[];
}

async function snapshot(t: TestServer, token: string): Promise<Snapshot> {
  const res = await fetch(`${t.url}/revocations`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return (await res.json()) as Snapshot;
}

/** Calls each feed endpoint with this Authorization header (or none). */
async function callEach(
  t: TestServer,
  authorization: string | undefined,
): Promise<{ path: string; status: number; headers: Headers; body: Json }[]> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const calls = [
    { path: '/revocations', init: { headers } },
    { path: '/revocations/stream', init: { headers } },
    {
      path: '/revocations/reports',
      init: { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"jti":"x"}' },
    },
  ];
  const out = [];
  for (const c of calls) {
    const res = await fetch(t.url + c.path, c.init);
    const text = await res.text();
    out.push({ path: c.path, status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined });
  }
  return out;
}

function assertRefused(answers: Awaited<ReturnType<typeof callEach>>, status: number, error: string | undefined): void {
  for (const a of answers) {
    assert.equal(a.status, status, `${a.path}: ${a.status} ${JSON.stringify(a.body)}`);
    const challenge = a.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer realm="tessera-revocations"/, a.path);
    if (error === undefined) assert.doesNotMatch(challenge, /error=/, a.path);
    else {
      assert.match(challenge, new RegExp(`error="${error}"`), a.path);
      assert.equal(a.body.error, error, a.path);
    }
  }
}

describe('revocation feed', () => {
  let t: TestServer;
  /** Shifts the server's clock (expiry tests); always put back to 0. */
  const clock = { offset: 0 };
  let feed: ClientCreds;
  let token: string;
  let app: ClientCreds;
  let svc: ClientCreds;
  const open: EventStream[] = [];

  before(async () => {
    t = await startServer({ now: () => Date.now() + clock.offset, overrides: { revocationHeartbeatSeconds: 1 } });
    feed = await feedClient(t, 'edge-gateway');
    token = await feedToken(t, feed);
    app = await t.client({
      id: 'notes-app',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['notes:read'],
      audiences: ['notes'],
      firstParty: true,
    });
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['notes:read'], audiences: ['notes'] });
    await contextOf(t.server).store.roles.put({ name: 'user', permissions: ['notes:read'] });
  });
  after(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  async function stream(tok: string | undefined, resume: { lastEventId?: string; after?: string } = {}): Promise<EventStream> {
    const s = await openStream(t, tok, resume);
    open.push(s);
    return s;
  }

  /** Revokes a fresh service token through RFC 7009; returns its jti. */
  async function revokeOne(): Promise<string> {
    const tok = await tokenOf(t, svc);
    const r = await revoke(t, svc, tok);
    assert.equal(r.status, 200);
    return decodeUnverified(tok).payload.jti as string;
  }

  describe('access', () => {
    it('refuses a request without a token: 401 with a Bearer challenge and no error code', async () => {
      assertRefused(await callEach(t, undefined), 401, undefined);
      assertRefused(await callEach(t, `Basic ${Buffer.from(`${feed.id}:${feed.secret}`).toString('base64')}`), 401, undefined);
    });

    it('refuses a token for another audience', async () => {
      const other = await t.client({
        id: 'wrong-audience',
        grantTypes: ['client_credentials'],
        scopes: [REVOCATIONS_SCOPE],
        audiences: ['notes'],
      });
      assertRefused(await callEach(t, `Bearer ${await tokenOf(t, other)}`), 401, 'invalid_token');
      // An admin token is for <issuer>/admin: not a credential for the feed.
      assertRefused(await callEach(t, `Bearer ${await t.adminToken()}`), 401, 'invalid_token');
    });

    it('refuses a token without the tessera:revocations scope: 403 insufficient_scope', async () => {
      const noScope = await t.client({
        id: 'no-scope',
        grantTypes: ['client_credentials'],
        scopes: ['notes:read'],
        audiences: [revocationsAudience(t)],
      });
      const answers = await callEach(t, `Bearer ${await tokenOf(t, noScope)}`);
      assertRefused(answers, 403, 'insufficient_scope');
      for (const a of answers) assert.match(a.headers.get('www-authenticate')!, /scope="tessera:revocations"/);
    });

    it('refuses a token of another signer, and a malformed one', async () => {
      const forged = signAccessToken(
        { iss: t.url, sub: feed.id, aud: revocationsAudience(t), client_id: feed.id, scope: [REVOCATIONS_SCOPE], ttl: 300 },
        generateKey('ES256', { kid: 'not-ours' }),
      );
      assertRefused(await callEach(t, `Bearer ${forged}`), 401, 'invalid_token');
      assertRefused(await callEach(t, 'Bearer not.a.jwt'), 401, 'invalid_token');
    });

    it('refuses a revoked token', async () => {
      const c = await feedClient(t, 'revoked-gateway');
      const tok = await feedToken(t, c);
      assert.equal((await fetch(`${t.url}/revocations`, { headers: { authorization: `Bearer ${tok}` } })).status, 200);
      assert.equal((await revoke(t, c, tok)).status, 200);
      assertRefused(await callEach(t, `Bearer ${tok}`), 401, 'invalid_token');
    });

    it('refuses an expired token', async () => {
      const tok = await feedToken(t, feed);
      const exp = decodeUnverified(tok).payload.exp as number;
      clock.offset = exp * 1000 - Date.now() + 10_000;
      try {
        const answers = await callEach(t, `Bearer ${tok}`);
        assertRefused(answers, 401, 'invalid_token');
        assert.equal(answers[0]!.body.error_description, 'the access token expired');
      } finally {
        clock.offset = 0;
      }
    });
  });

  describe('GET /revocations', () => {
    it(
      'lists what RFC 7009, admin revoke, refresh-token reuse, user disable and client delete record',
      TEST_TIMEOUT,
      async () => {
        const before = await snapshot(t, token);

        // RFC 7009 revocation of an access token: its jti, until it expires.
        const accessToken = await tokenOf(t, svc);
        const claims = decodeUnverified(accessToken).payload;
        assert.equal((await revoke(t, svc, accessToken)).status, 200);

        // Admin revoke of a subject: a cut-off for every token issued before now.
        const alice = await t.user('alice', PASSWORD, ['user']);
        const t0 = Date.now();
        const adminRevoke = await t.admin('POST', '/admin/revoke', { subject: alice });
        assert.equal(adminRevoke.status, 200, JSON.stringify(adminRevoke.body));
        const t1 = Date.now();

        // Refresh-token reuse: the whole family (its access tokens carry it as sid).
        await t.user('bob', PASSWORD, ['user']);
        const first = await login(t, app, 'bob', PASSWORD);
        assertTokenResponse(first);
        assertTokenResponse(await refresh(t, app, first.body.refresh_token!));
        assert.equal((await refresh(t, app, first.body.refresh_token!)).status, 400);
        const family = decodeUnverified(first.body.access_token!).payload.sid as string;

        // User disabled through the admin API.
        const carol = await t.user('carol', PASSWORD, ['user']);
        assert.equal((await t.admin('POST', `/admin/users/${carol}/disable`)).status, 200);

        // Client deleted through the admin API.
        await t.client({ id: 'doomed', grantTypes: ['client_credentials'], scopes: ['notes:read'], audiences: ['notes'] });
        assert.equal((await t.admin('DELETE', '/admin/clients/doomed')).status, 204);

        const after = await snapshot(t, token);
        const added = after.revocations.filter((r) => r.seq > before.sequence);
        assert.deepEqual(
          added.map((r) => [r.kind, r.value]),
          [
            ['jti', claims.jti],
            ['subject', alice],
            ['family', family],
            ['subject', carol],
            ['client', 'doomed'],
          ],
        );
        for (const r of after.revocations)
          assert.deepEqual(Object.keys(r).sort(), ['cutoff', 'expiresAt', 'kind', 'seq', 'value']);
        const seqList = after.revocations.map((r) => r.seq);
        assert.deepEqual(
          seqList,
          [...seqList].sort((a, b) => a - b),
          'in sequence order',
        );
        assert.equal(new Set(seqList).size, seqList.length, 'no sequence number twice');
        assert.equal(after.sequence, Math.max(...seqList));
        assert.equal(after.sequence, before.sequence + 5);

        const [jti, subject, fam, disabled, client] = added as [Snapshot['revocations'][number], ...Snapshot['revocations']];
        assert.equal(jti.cutoff, null);
        assert.equal(jti.expiresAt, ((claims.exp as number) + 60) * 1000);
        assert.ok(subject!.cutoff! >= t0 && subject!.cutoff! <= t1, 'the cut-off is the time of the request');
        assert.equal(adminRevoke.body.seq, subject!.seq);
        assert.ok(subject!.expiresAt > subject!.cutoff!);
        assert.equal(fam!.cutoff, null);
        assert.ok(fam!.expiresAt > Date.now());
        assert.equal(typeof disabled!.cutoff, 'number');
        assert.equal(typeof client!.cutoff, 'number');
      },
    );
  });

  describe('GET /revocations/stream', () => {
    it('opens as an event stream that asks to reconnect after 1 s', async () => {
      const s = await stream(token);
      assert.equal(s.status, 200);
      assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(s.headers.get('cache-control'), 'no-store');
      await until('the retry field', () => s.retries.length > 0);
      assert.deepEqual(s.retries, [1000]);
      s.close();
    });

    it('replays only the records after Last-Event-ID, in order, then live ones', TEST_TIMEOUT, async () => {
      const base = (await snapshot(t, token)).sequence;
      const jtis = [await revokeOne(), await revokeOne(), await revokeOne()];
      for (const resume of [{ lastEventId: String(base + 1) }, { after: String(base + 1) }]) {
        const s = await stream(token, resume);
        await s.next('the replay of the last record', (e) => e.id === String(base + 3));
        assert.deepEqual(seqs(s), [base + 2, base + 3]);
        assert.deepEqual(
          s.named('revocation').map((e) => [e.id, (JSON.parse(e.data) as { value: string }).value]),
          [
            [String(base + 2), jtis[1]],
            [String(base + 3), jtis[2]],
          ],
        );
        s.close();
      }
      const s = await stream(token, { lastEventId: String(base + 3) });
      await s.next('a heartbeat', (e) => e.event === 'heartbeat');
      assert.deepEqual(seqs(s), [], 'nothing to replay');
      const live = await revokeOne();
      const e = await s.next('the live record', (ev) => ev.event === 'revocation');
      assert.equal(e.id, String(base + 4));
      assert.deepEqual(
        JSON.parse(e.data),
        (await snapshot(t, token)).revocations.find((r) => r.value === live),
      );
    });

    it('without Last-Event-ID replays every record in force', async () => {
      const snap = await snapshot(t, token);
      const s = await stream(token);
      await s.next('the last record', (e) => e.id === String(snap.sequence));
      assert.deepEqual(
        seqs(s),
        snap.revocations.map((r) => r.seq),
      );
      s.close();
    });

    it('has no duplicate and no gap across the replay/live boundary while revocations are being made', TEST_TIMEOUT, async () => {
      const base = (await snapshot(t, token)).sequence;
      const tokens = await Promise.all(Array.from({ length: 40 }, () => tokenOf(t, svc)));
      const streams: EventStream[] = [];
      const revoking = (async () => {
        // Four at a time, so that records are made while streams open and while replays are written.
        for (let i = 0; i < tokens.length; i += 4) await Promise.all(tokens.slice(i, i + 4).map((tok) => revoke(t, svc, tok)));
      })();
      const opening = (async () => {
        for (let i = 0; i < 8; i++) {
          streams.push(await stream(token, { lastEventId: String(base) }));
          await new Promise((r) => setImmediate(r));
        }
      })();
      await Promise.all([revoking, opening]);
      const final = await snapshot(t, token);
      assert.equal(final.sequence, base + tokens.length);
      const expected = final.revocations.filter((r) => r.seq > base).map((r) => r.seq);
      assert.equal(expected.length, tokens.length);
      for (const [i, s] of streams.entries()) {
        await s.next(`record ${final.sequence} on stream ${i}`, (e) => e.id === String(final.sequence));
        assert.deepEqual(seqs(s), expected, `stream ${i}: every record once, in order`);
        s.close();
      }
    });

    it('sends heartbeats carrying the current sequence number', TEST_TIMEOUT, async () => {
      const seq = (await snapshot(t, token)).sequence;
      const s = await stream(token, { lastEventId: String(seq) });
      const first = await s.next('a heartbeat', (e) => e.event === 'heartbeat');
      assert.deepEqual(JSON.parse(first.data), { seq });
      assert.equal(first.id, undefined, 'a heartbeat does not move Last-Event-ID');
      await revokeOne();
      const later = await s.next(
        'a heartbeat after the revocation',
        (e) => e.event === 'heartbeat' && e.data === JSON.stringify({ seq: seq + 1 }),
      );
      assert.ok(later);
      s.close();
    });

    it('refuses a Last-Event-ID or after= that is not a sequence number: 400', async () => {
      for (const bad of ['abc', '-1', '1.5', '1e3', '0x10', '+1', '1 2', '9'.repeat(16)]) {
        for (const resume of [{ lastEventId: bad }, { after: bad }]) {
          const s = await stream(token, resume);
          assert.equal(s.status, 400, `${JSON.stringify(resume)}: ${s.status}`);
          assert.equal(JSON.parse(s.body).error, 'invalid_request');
        }
      }
    });

    it('answers a Last-Event-ID beyond its sequence with a reset event, then streams live records', TEST_TIMEOUT, async () => {
      const seq = (await snapshot(t, token)).sequence;
      const s = await stream(token, { lastEventId: String(seq + 1000) });
      assert.equal(s.status, 200);
      const reset = await s.next('a reset', (e) => e.event === 'reset');
      assert.deepEqual(JSON.parse(reset.data), { seq });
      assert.deepEqual(seqs(s), [], 'nothing replayed');
      await revokeOne();
      const live = await s.next('the live record after the reset', (e) => e.event === 'revocation');
      assert.equal(live.id, String(seq + 1));
      s.close();
    });

    it('ends when the token that opened it expires', TEST_TIMEOUT, async () => {
      // Client access tokens live at least 30 s: the server's clock is moved to 2 s before this one expires.
      const shortLived = await feedClient(t, 'short-lived-gateway', { accessTokenTtl: 30 });
      const tok = await feedToken(t, shortLived);
      const exp = decodeUnverified(tok).payload.exp as number;
      clock.offset = exp * 1000 - Date.now() - 2_000;
      try {
        const s = await stream(tok);
        assert.equal(s.status, 200);
        await within('the stream to end with its token', 10_000, s.done);
        assert.equal(s.ended, true, 'ended by the server');
        // The same token cannot open it again.
        clock.offset = exp * 1000 - Date.now() + 10_000;
        assert.equal((await stream(tok)).status, 401);
      } finally {
        clock.offset = 0;
      }
    });
    it('ends when the token that opened it is revoked, or its client deleted', TEST_TIMEOUT, async () => {
      const gw = await feedClient(t, 'gateway-to-revoke');
      const tok = await feedToken(t, gw);
      const s = await stream(tok);
      await s.next('a heartbeat', (e) => e.event === 'heartbeat');
      assert.equal((await revoke(t, gw, tok)).status, 200);
      await within('the stream to end after its token was revoked', 5_000, s.done);
      assert.equal(s.ended, true);

      const doomed = await feedClient(t, 'gateway-to-delete');
      const s2 = await stream(await feedToken(t, doomed));
      await s2.next('a heartbeat', (e) => e.event === 'heartbeat');
      assert.equal((await t.admin('DELETE', '/admin/clients/gateway-to-delete')).status, 204);
      await within('the stream to end after its client was deleted', 5_000, s2.done);
      assert.equal(s2.ended, true);
    });
  });

  describe('POST /revocations/reports', () => {
    it('records an anomaly event with the reporting client as actor: 202', async () => {
      const res = await fetch(`${t.url}/revocations/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jti: 'reported-jti', sub: 'user-dave', client_id: 'notes-app', seq: 7 }),
      });
      assert.equal(res.status, 202);
      assert.equal(await res.text(), '');
      const item = await until('the anomaly event', async () => {
        const r = await t.admin('GET', '/admin/audit?type=anomaly.revoked_token_used');
        return (r.body.items as Json[]).find((e) => e.data.jti === 'reported-jti');
      });
      assert.equal(item.actor, feed.id);
      assert.equal(item.subject, 'user-dave');
      assert.equal(item.client_id, 'notes-app');
      assert.equal(item.outcome, 'failure');
      assert.deepEqual(item.data, { jti: 'reported-jti', seq: 7 });
    });

    it('refuses a malformed report: 400', async () => {
      for (const body of ['{"jti":1}', '{"seq":0}', '{"seq":"7"}', '{"other":"x"}', '[]', '{', `{"jti":"${'x'.repeat(300)}"}`]) {
        const res = await fetch(`${t.url}/revocations/reports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        });
        assert.equal(res.status, 400, body);
        await res.body?.cancel();
      }
    });
  });

  describe('metrics', () => {
    it('counts open streams', TEST_TIMEOUT, async () => {
      for (const s of open) s.close();
      await until(
        'every stream of the earlier tests to close',
        async () => (await metric(t, 'tessera_revocation_streams')) === 0,
      );
      const a = await stream(token);
      const b = await stream(token);
      await until('two open streams', async () => (await metric(t, 'tessera_revocation_streams')) === 2);
      a.close();
      b.close();
      await until('no open stream', async () => (await metric(t, 'tessera_revocation_streams')) === 0);
      assert.equal(await metric(t, 'tessera_revocation_sequence'), (await snapshot(t, token)).sequence);
    });
  });
});

describe('revocation stream lifecycle', () => {
  it('server close() ends open streams and does not hang', TEST_TIMEOUT, async () => {
    const t = await startServer({ overrides: { revocationHeartbeatSeconds: 1 } });
    const tok = await feedToken(t, await feedClient(t, 'gw'));
    const streams = [await openStream(t, tok), await openStream(t, tok, { lastEventId: '0' })];
    await Promise.all(streams.map((s) => s.next('the first heartbeat', (e) => e.event === 'heartbeat')));
    await within('server close()', 5_000, t.close());
    await within('the streams to end', 5_000, Promise.all(streams.map((s) => s.done)));
    for (const s of streams) assert.equal(s.ended, true);
  });

  it(
    'replays a large backlog (9,000 records: more than the unread-bytes bound, under the replay limit) to a client that reads, without dropping it',
    TEST_TIMEOUT,
    async () => {
      // Regression: the replay is written at once, so past ~1 MiB it tripped the bound meant for clients that
      // do not read; end() then hit `stop` before its declaration, the stream hung, and close() with it.
      const t = await startServer({ overrides: { revocationHeartbeatSeconds: 1 } });
      try {
        const tok = await feedToken(t, await feedClient(t, 'far-behind-gw'));
        const now = Date.now();
        const registry = contextOf(t.server).revocations;
        for (let i = 0; i < 9_000; i++)
          await registry.revoke('jti', randomUUID(), { expiresAt: now + 3_600_000, reason: 'test', now });
        const s = await openStream(t, tok, { lastEventId: '0' });
        await s.next('the last record of the replay', (e) => e.id === String(registry.sequence), 10_000);
        assert.equal(seqs(s).length, 9_000);
        await s.next('a heartbeat after the replay', (e) => e.event === 'heartbeat');
        assert.equal(s.ended, false, 'the stream stays open');
        s.close();
      } finally {
        await t.close();
      }
    },
  );

  it(
    'drops a client that never reads once its backlog passes the bound, keeps one that reads, and close() still does not hang',
    TEST_TIMEOUT,
    async () => {
      const t = await startServer({ overrides: { revocationHeartbeatSeconds: 1 } });
      const tok = await feedToken(t, await feedClient(t, 'stalled-gw'));
      const { port } = new URL(t.url);
      const reader = await openStream(t, tok);
      const socket = connect(Number(port), '127.0.0.1');
      try {
        await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
        socket.write(
          `GET /revocations/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${tok}\r\nAccept: text/event-stream\r\n\r\n`,
        );
        // Reads the status line, then stops reading for good: the kernel buffers fill, then the server's.
        await new Promise<void>((resolve) => socket.once('data', () => resolve()));
        socket.pause();
        await until('both streams to open', async () => (await metric(t, 'tessera_revocation_streams')) === 2);

        // Large records (64 KiB values, through the registry) fill the buffers quickly; one at a time, with a
        // turn of the event loop between them, so that the client that reads (in this process) can.
        const big = 'v'.repeat(64 * 1024);
        const now = Date.now();
        let made = 0;
        await until(
          'the server to drop the stalled stream',
          async () => {
            await contextOf(t.server).revocations.revoke('jti', `${big}${++made}`, {
              expiresAt: now + 3_600_000,
              reason: 'test',
              now,
            });
            await new Promise((r) => setTimeout(r, 1));
            return (await metric(t, 'tessera_revocation_streams')) === 1;
          },
          15_000,
        );
        assert.ok(made < 2_000, `dropped after ${made} records`);
        await reader.next('every record on the stream that reads', (e) => e.id === String(made), 10_000);
        assert.equal(seqs(reader).length, made);
        assert.equal(reader.ended, false, 'the client that reads keeps its stream');
        assert.equal(await metric(t, 'tessera_revocation_streams'), 1);
        await within('server close() with a stalled client connected', 5_000, t.close());
        await within('the reading stream to end', 5_000, reader.done);
      } finally {
        reader.close();
        socket.destroy();
      }
    },
  );
});

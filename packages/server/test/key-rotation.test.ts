import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { TesseraError, type JsonWebKeySet } from '@tessera/core';
import { createServer } from '@tessera/server';
import { registerClient, type KeyState, type SqlStore, contextOf } from '@tessera/server/internal';
import { until } from '@tessera/testing';
import { createVerifier } from '@tessera/verifier';

import { kidOf, tokenOf } from './helpers/admin-api.js';
import { refuseWrites } from './helpers/faults.js';
import { type ClientCreds } from './helpers/oauth.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The walk through time goes in steps of 100 s: jwksMaxAge and the rotation interval are whole steps. */
const STEP = 100_000;
const JWKS_MAX_AGE = 300;
const ACCESS_TTL = 600;
/** A client whose tokens live longer than the server default: retired keys must outlive them too. */
const LONG_TTL = 1_800;
/** The key manager's tracks: the main algorithm, and RS256 kept beside it for ID tokens. */
const TRACKS = ['ES256', 'RS256'] as const;

/** A server on a fake clock, not listening: requests go through app.inject(), the schedule through tick(). */
async function clockServer(start: number) {
  const clock = { ms: start };
  const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
  const server = await createServer({
    now: () => clock.ms,
    tickMs: 24 * HOUR,
    env: {},
    overrides: {
      dataDir: dir,
      port: 0,
      logLevel: 'silent',
      jwksMaxAge: JWKS_MAX_AGE,
      keyRotationInterval: 3_600,
      accessTokenTtl: ACCESS_TTL,
    },
  });
  const ctx = contextOf(server);
  const clients = [];
  for (const [id, ttl] of [
    ['short', null],
    ['long', LONG_TTL],
  ] as const) {
    const { secret } = await registerClient(
      ctx.store,
      ctx.master,
      { id, grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'], accessTokenTtl: ttl },
      clock.ms,
    );
    clients.push({ id, secret: secret! });
  }
  return {
    clock,
    server,
    clients,
    async token(c: { id: string; secret: string }): Promise<string> {
      const r = await server.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: basic(c.id, c.secret), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      });
      assert.equal(r.statusCode, 200, r.body);
      return (JSON.parse(r.body) as { access_token: string }).access_token;
    },
    async jwks(): Promise<JsonWebKeySet> {
      const r = await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['cache-control'], `public, max-age=${JWKS_MAX_AGE}`);
      return JSON.parse(r.body) as JsonWebKeySet;
    },
    /** The keys' states, of one track (algorithm) or of all. */
    states(alg?: string): Map<string, KeyState> {
      return new Map(
        ctx.keys
          .list()
          .filter((k) => alg === undefined || k.alg === alg)
          .map((k) => [k.kid, k.state]),
      );
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('key rotation schedule (fake clock)', () => {
  let s: Awaited<ReturnType<typeof clockServer>>;
  const start = Date.UTC(2030, 0, 1);

  /** What the walk through time saw, per kid. */
  const firstPublished = new Map<string, number>();
  const firstSigned = new Map<string, number>();
  const lastExpiry = new Map<string, number>();
  const unpublishedAt = new Map<string, number>();
  const stateHistory = new Map<string, KeyState[]>();
  const verifyFailures: string[] = [];
  let manual: { kid: string; activatesAt: number; at: number } | undefined;

  before(async () => {
    s = await clockServer(start);
    const { clock } = s;
    /** The newest token of each kid that has not expired yet. */
    const live = new Map<string, string>();
    let rotatedOnce = false;
    // Four and a half hours: four scheduled rotations and one manual one.
    for (let step = 0; step * STEP <= 4.5 * HOUR; step++) {
      clock.ms = start + step * STEP;
      await contextOf(s.server).keys.tick(clock.ms);
      const states = s.states();
      for (const [kid, state] of states) {
        const h = stateHistory.get(kid) ?? [];
        if (h[h.length - 1] !== state) h.push(state);
        stateHistory.set(kid, h);
      }
      // Each track (the ES256 keys of access tokens, the RS256 keys of ID tokens) has its own active and next key.
      for (const alg of TRACKS) {
        const track = [...s.states(alg).values()];
        assert.equal(track.filter((st) => st === 'active').length, 1, `one active ${alg} key at step ${step}`);
        assert.equal(track.filter((st) => st === 'next').length, 1, `one next ${alg} key at step ${step}`);
      }

      const jwks = await s.jwks();
      const published = new Set(jwks.keys.map((k) => k.kid as string));
      for (const kid of published) if (!firstPublished.has(kid)) firstPublished.set(kid, clock.ms);
      for (const kid of firstPublished.keys())
        if (!published.has(kid) && !unpublishedAt.has(kid)) unpublishedAt.set(kid, clock.ms);

      for (const c of s.clients) {
        const token = await s.token(c);
        const kid = kidOf(token);
        if (!firstSigned.has(kid)) firstSigned.set(kid, clock.ms);
        const ttl = c.id === 'long' ? LONG_TTL : ACCESS_TTL;
        lastExpiry.set(kid, Math.max(lastExpiry.get(kid) ?? 0, Math.floor(clock.ms / 1000) * 1000 + ttl * 1000));
        if (c.id === 'long') live.set(kid, token);
      }
      // Every token still valid verifies against the JWKS as published now.
      const v = createVerifier({
        issuer: s.server.config.issuer,
        audience: 'api',
        algorithms: ['ES256'],
        jwks,
        now: () => clock.ms,
        cache: false,
      });
      for (const [kid, token] of live) {
        if (lastExpiry.get(kid)! <= clock.ms) {
          live.delete(kid);
          continue;
        }
        await v
          .verify(token)
          .catch((err: unknown) =>
            verifyFailures.push(
              `${kid} at +${(clock.ms - start) / 1000} s: ${err instanceof TesseraError ? err.code : String(err)}`,
            ),
          );
      }

      // Right after the first scheduled rotation, ask for one now: the fresh next key must still wait.
      const active = [...s.states('ES256')].find(([, st]) => st === 'active')![0];
      if (!rotatedOnce && firstSigned.size > 1 && firstSigned.get(active) === clock.ms) {
        rotatedOnce = true;
        const r = await contextOf(s.server).keys.rotateNow(clock.ms);
        manual = { ...r, at: clock.ms };
        assert.equal(s.states().get(r.kid), 'next', 'a next key published a moment ago does not sign yet');
      }
    }
  });
  after(() => s.close());

  it('takes each key of each track through next -> active -> retired -> removed, in order', () => {
    const order: KeyState[] = ['next', 'active', 'retired', 'removed'];
    for (const alg of TRACKS) {
      const kids = new Set(s.states(alg).keys());
      const [initial, ...rest] = [...stateHistory.entries()].filter(([kid]) => kids.has(kid));
      assert.deepEqual(initial![1], ['active', 'retired', 'removed'], `the first ${alg} key starts active`);
      for (const [kid, h] of rest) assert.deepEqual(h, order.slice(0, h.length), `${kid}: ${h.join(' -> ')}`);
      const complete = rest.filter(([, h]) => h.length === 4);
      assert.ok(complete.length >= 3, `${complete.length} ${alg} keys went the whole way`);
    }
  });

  it('publishes the next key at least jwksMaxAge before it signs', () => {
    const signers = [...firstSigned.keys()].slice(1);
    assert.ok(signers.length >= 4, `${signers.length} rotations`);
    for (const kid of signers) {
      const lead = firstSigned.get(kid)! - firstPublished.get(kid)!;
      assert.ok(lead >= JWKS_MAX_AGE * 1000, `${kid} published ${lead / 1000} s before it signed`);
    }
  });

  it('a rotation asked for right after a scheduled one waits out jwksMaxAge', () => {
    assert.ok(manual, 'the manual rotation ran');
    assert.equal(manual.activatesAt, firstPublished.get(manual.kid)! + JWKS_MAX_AGE * 1000);
    assert.ok(manual.activatesAt > manual.at);
    assert.equal(firstSigned.get(manual.kid), manual.activatesAt, 'and then signs as soon as it may');
  });

  it('keeps a retired key published until the last token it signed has expired, then removes it', () => {
    const removed = [...unpublishedAt.keys()];
    assert.ok(removed.length >= 3);
    assert.ok(
      removed.some((kid) => !lastExpiry.has(kid)),
      'RS256 keys (which sign no access token) are removed too',
    );
    for (const kid of removed) {
      const gone = unpublishedAt.get(kid)!;
      if (lastExpiry.has(kid))
        assert.ok(
          gone >= lastExpiry.get(kid)!,
          `${kid} left the JWKS ${(lastExpiry.get(kid)! - gone) / 1000} s before its last token expired`,
        );
      const rec = contextOf(s.server)
        .keys.list()
        .find((k) => k.kid === kid)!;
      assert.equal(rec.state, 'removed');
      // A token signed at the instant of retirement, by the longest-lived client, plus 60 s of clock skew.
      assert.equal(rec.removeAfter, rec.retiredAt! + (LONG_TTL + 60) * 1000);
      assert.ok(gone < rec.removeAfter! + STEP, `${kid} stayed ${(gone - rec.removeAfter!) / 1000} s past removeAfter`);
    }
    assert.deepEqual(verifyFailures, []);
  });

  it('overlapping schedule changes promote once: one active key, one next key', async () => {
    const keys = contextOf(s.server).keys;
    const next = keys.list().find((k) => k.state === 'next' && k.alg === 'ES256')!;
    const due = Math.max(next.activatesAt, next.createdAt + JWKS_MAX_AGE * 1000);
    s.clock.ms = due;
    await Promise.all([keys.tick(due), keys.tick(due), keys.rotateNow(due), keys.reload(), keys.tick(due)]);
    for (const alg of TRACKS) {
      const states = keys
        .list()
        .filter((k) => k.alg === alg)
        .map((k) => k.state);
      assert.equal(states.filter((st) => st === 'active').length, 1, alg);
      assert.equal(states.filter((st) => st === 'next').length, 1, alg);
    }
    assert.equal(keys.list().find((k) => k.state === 'active' && k.alg === 'ES256')!.kid, next.kid);
    assert.equal(new Set(keys.list().map((k) => k.kid)).size, keys.list().length, 'no key listed twice');
  });
});

describe('key rotation under load', () => {
  let t: TestServer;
  let svc: ClientCreds;
  before(async () => {
    t = await startServer({ overrides: { jwksMaxAge: 1 }, tickMs: 25 });
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'] });
  });
  after(() => t.close());

  it('verifiers keep accepting every token through two rotations', async () => {
    const jwksUri = `${t.url}/.well-known/jwks.json`;
    const common = { issuer: t.url, audience: 'api', algorithms: ['ES256'] as const, jwksUri, cache: false as const };
    const verifiers = {
      // Refetches at once for an unknown kid.
      eager: createVerifier({ ...common, jwksOptions: { minCacheMs: 0, cooldownMs: 0 } }),
      // Never refetches for an unknown kid within the test: it relies on keys being published ahead.
      cached: createVerifier({ ...common, jwksOptions: { minCacheMs: 0, cooldownMs: 60_000 } }),
    };
    const failures: string[] = [];
    const kids: string[] = [];
    let verified = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const token = await tokenOf(t, svc);
        const kid = kidOf(token);
        if (kids[kids.length - 1] !== kid) kids.push(kid);
        for (const [name, v] of Object.entries(verifiers)) {
          try {
            await v.verify(token);
            verified++;
          } catch (err) {
            failures.push(`${name} ${kid}: ${err instanceof TesseraError ? err.code : String(err)}`);
          }
        }
      }
    };
    const waitForKid = (kid: string) => until(`${kid} to sign`, () => kids[kids.length - 1] === kid);
    /** Load under the key that signs now: some more tokens issued and verified by every verifier. */
    const underLoad = (what: string) => {
      const mark = verified;
      return until(what, () => verified >= mark + 40);
    };

    const initial = kidOf(await tokenOf(t, svc));
    const workers = Array.from({ length: 4 }, worker);
    const rotated: string[] = [];
    try {
      for (let round = 0; round < 2; round++) {
        await underLoad(`load before rotation ${round + 1}`);
        const r = await t.admin('POST', '/admin/keys/rotate');
        assert.equal(r.status, 200);
        rotated.push(r.body.kid);
        await waitForKid(r.body.kid);
      }
      await underLoad('load after the last rotation');
    } finally {
      stop = true;
      await Promise.all(workers);
      for (const v of Object.values(verifiers)) v.close();
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(new Set(kids), new Set([initial, ...rotated]));
    assert.equal(new Set([initial, ...rotated]).size, 3, 'the kid changed twice');
    assert.ok(verified > 50, `${verified} verifications`);
  });
});

/**
 * Key promotion retires the active key and activates the next: an instance that reloads the keys between the two
 * writes must never find no key to sign with.
 */
describe('key promotion seen half way', () => {
  const start = Date.UTC(2031, 0, 1);

  it('crash-between-key-retire-and-activate: the promotion is undone whole and tokens are still signed', async () => {
    const s = await clockServer(start);
    try {
      const before = kidOf(await s.token(s.clients[0]!));
      // The second write of the promotion (the next key becoming active) refused by the real database.
      const heal = await refuseWrites(contextOf(s.server).store as SqlStore, 'signing_keys', 'update', `NEW.state = 'active'`);
      s.clock.ms += 2 * HOUR;
      await assert.rejects(contextOf(s.server).keys.tick(s.clock.ms));
      await contextOf(s.server).keys.reload();
      assert.deepEqual(
        [...s.states('ES256').values()].sort(),
        ['active', 'next'],
        'the keys are as they were: one active, one next',
      );
      assert.equal(kidOf(await s.token(s.clients[0]!)), before);
      await heal();
      assert.equal(await contextOf(s.server).keys.tick(s.clock.ms), true);
      assert.notEqual(kidOf(await s.token(s.clients[0]!)), before, 'the promotion goes through once the database takes it');
    } finally {
      await s.close();
    }
  });

  it('no-active-key-in-the-store: an instance keeps signing with the last active key it had', async () => {
    const s = await clockServer(start);
    try {
      const ctx = contextOf(s.server);
      const active = ctx.keys.list().find((k) => k.state === 'active' && k.alg === 'ES256')!;
      // The store as an older version left it between the two writes of a promotion: no active key.
      await ctx.store.keys.update(active.kid, { state: 'retired', retiredAt: s.clock.ms, removeAfter: s.clock.ms + HOUR });
      await ctx.keys.reload();
      assert.equal(ctx.keys.list().filter((k) => k.state === 'active' && k.alg === 'ES256').length, 0);
      const token = await s.token(s.clients[0]!);
      assert.equal(kidOf(token), active.kid);
      // Verifiers still find that key in the JWKS.
      assert.ok((await s.jwks()).keys.some((k) => k.kid === active.kid));
    } finally {
      await s.close();
    }
  });
});

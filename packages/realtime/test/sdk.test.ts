/**
 * The gateway through the real `centrifuge` client SDK (Node, `ws` as its WebSocket): what an application
 * using it relies on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createVerifier } from '@tessera/verifier';
import { buildJwks } from '@tessera/core';
import { signSubscriptionToken, SUBSCRIPTION_TOKEN_TYPE } from '@tessera/realtime';
import { until } from '@tessera/testing';

import { ManualClock } from './helpers/clock.js';
import { assertRefreshedInPlace, AUDIENCE, ISSUER, once, startGateway, type Harness } from './helpers/gateway.js';

const CHAT = ['chat:room:*:subscribe', 'chat:room:*:publish', 'chat:room:*:presence', 'chat:room:*:history'];

interface Ctx {
  code: number;
  reason: string;
}

describe('centrifuge SDK against the gateway', () => {
  let h: Harness;
  before(async () => {
    h = await startGateway();
  });
  after(() => h.close());

  it('connect carries the token in the connect command; the reply gives the client id and a ttl', async () => {
    const c = h.client({ token: h.token('alice', CHAT, 60) });
    c.connect();
    const ctx = await once<{ client: string; transport: string }>(c, 'connected');
    assert.match(ctx.client, /^[0-9a-f-]{36}$/);
    assert.equal(ctx.transport, 'websocket');
    c.disconnect();
  });

  it('a publication reaches every subscriber, with the publisher as info', async () => {
    const a = h.client({ token: h.token('alice', CHAT) });
    const b = h.client({ token: h.token('bob', CHAT) });
    a.connect();
    b.connect();
    const sa = a.newSubscription('chat:room:pub');
    const sb = b.newSubscription('chat:room:pub');
    sa.subscribe();
    sb.subscribe();
    await Promise.all([once(sa, 'subscribed'), once(sb, 'subscribed')]);
    const got = once<{ data: unknown; info?: { user: string } }>(sb, 'publication');
    await sa.publish({ text: 'hello bob' });
    const pub = await got;
    assert.deepEqual(pub.data, { text: 'hello bob' });
    assert.equal(pub.info?.user, 'alice');
    a.disconnect();
    b.disconnect();
  });

  it('20 token refreshes on one connection: no reconnect, the subscription keeps receiving', async () => {
    const next = () => h.token('alice', CHAT, 1.3);
    await assertRefreshedInPlace(h, { token: next() }, next, 'chat:room:refresh', 20, 60_000);
  });

  it('subscribe without the right: unsubscribed with 103 permission denied; unknown namespace: 102', async () => {
    const c = h.client({ token: h.token('alice', ['chat:room:1:subscribe']) });
    c.connect();
    await once(c, 'connected');
    const denied = c.newSubscription('chat:room:2');
    denied.subscribe();
    const u = await once<Ctx>(denied, 'unsubscribed');
    assert.equal(u.code, 103);
    assert.equal(u.reason, 'permission denied');
    const unknown = c.newSubscription('nowhere:1');
    unknown.subscribe();
    assert.equal((await once<Ctx>(unknown, 'unsubscribed')).code, 102);
    // The pattern matches whole segments only.
    const deeper = c.newSubscription('chat:room:1:typing');
    deeper.subscribe();
    assert.equal((await once<Ctx>(deeper, 'unsubscribed')).code, 103);
    assert.equal(c.state, 'connected');
    c.disconnect();
  });

  it('publish without the right is refused with 103, and nobody receives it', async () => {
    const reader = h.client({ token: h.token('bob', ['chat:room:*:subscribe']) });
    reader.connect();
    const sub = reader.newSubscription('chat:room:ro');
    let received = 0;
    sub.on('publication', () => received++);
    sub.subscribe();
    await once(sub, 'subscribed');
    await assert.rejects(sub.publish({ text: 'x' }), (e: { code: number }) => e.code === 103);
    await assert.rejects(reader.publish('chat:room:ro', { text: 'y' }), (e: { code: number }) => e.code === 103);
    // A publication after the refused ones: the channel delivers in order, so it comes after any of them.
    const marker = once<{ data: unknown }>(sub, 'publication');
    await h.gateway.publish('chat:room:ro', 'marker');
    assert.equal((await marker).data, 'marker');
    assert.equal(received, 1, 'only the marker');
    reader.disconnect();
  });

  it('a refresh whose token narrows the scopes ends the subscriptions it no longer grants (code 2000)', async () => {
    let narrowed = false;
    const c = h.client({
      token: h.token('carol', ['chat:room:keep:subscribe', 'chat:room:lose:subscribe'], 1.3),
      getToken: async () => {
        narrowed = true;
        return h.token('carol', ['chat:room:keep:subscribe'], 30);
      },
    });
    c.connect();
    await once(c, 'connected');
    const keep = c.newSubscription('chat:room:keep');
    const lose = c.newSubscription('chat:room:lose');
    keep.subscribe();
    lose.subscribe();
    await Promise.all([once(keep, 'subscribed'), once(lose, 'subscribed')]);
    const u = await once<Ctx>(lose, 'unsubscribed', 5_000);
    assert.equal(narrowed, true);
    assert.equal(u.code, 2000);
    assert.equal(keep.state, 'subscribed');
    const got = once<{ data: unknown }>(keep, 'publication');
    await h.gateway.publish('chat:room:keep', 'still here');
    assert.equal((await got).data, 'still here');
    c.disconnect();
  });

  it("refresh with another user's token: disconnected with 3500 and no reconnect", async () => {
    const c = h.client({
      token: h.token('frank', CHAT, 1.2),
      getToken: async () => h.token('mallory', CHAT, 60),
    });
    c.connect();
    await once(c, 'connected');
    const ctx = await once<Ctx>(c, 'disconnected', 5_000);
    assert.equal(ctx.code, 3500);
    assert.equal(c.state, 'disconnected');
  });

  it('an invalid token at connect: 3500, no reconnect; an expired one: the SDK asks getToken', async () => {
    const bad = h.client({ token: h.token('gina', CHAT).slice(0, -4) + 'AAAA' });
    bad.connect();
    assert.equal((await once<Ctx>(bad, 'disconnected')).code, 3500);
    let asked = 0;
    const expired = h.client({
      token: h.token('gina', CHAT, -10),
      getToken: async () => {
        asked++;
        return h.token('gina', CHAT, 60);
      },
    });
    expired.connect();
    await once(expired, 'connected', 5_000);
    assert.equal(asked, 1);
    expired.disconnect();
  });

  it('presence, presence stats, join and leave, history', async () => {
    const a = h.client({ token: h.token('hank', CHAT) });
    const b = h.client({ token: h.token('ivy', CHAT) });
    a.connect();
    const sa = a.newSubscription('chat:room:pres');
    sa.subscribe();
    await once(sa, 'subscribed');
    const joined = once<{ info: { user: string } }>(sa, 'join', 5_000, (e) => e.info.user === 'ivy');
    b.connect();
    const sb = b.newSubscription('chat:room:pres');
    sb.subscribe();
    await once(sb, 'subscribed');
    assert.equal((await joined).info.user, 'ivy');
    const stats = await sa.presenceStats();
    assert.deepEqual(stats, { numClients: 2, numUsers: 2 });
    const presence = await sa.presence();
    assert.deepEqual(
      Object.values(presence.clients)
        .map((i) => i.user)
        .sort(),
      ['hank', 'ivy'],
    );
    await sa.publish('one');
    await sa.publish('two');
    await sa.publish('three');
    const hist = await sa.history({ limit: 2, reverse: true });
    assert.deepEqual(
      hist.publications.map((p) => p.data),
      ['three', 'two'],
    );
    assert.equal(hist.offset, 3);
    const left = once<{ info: { user: string } }>(sa, 'leave', 5_000, (e) => e.info.user === 'ivy');
    b.disconnect();
    await left;
    assert.deepEqual(await sa.presenceStats(), { numClients: 1, numUsers: 1 });
    a.disconnect();
  });

  it('history and presence need their own rights, and a namespace that keeps them (108 otherwise)', async () => {
    const c = h.client({ token: h.token('jack', ['chat:room:*:subscribe', 'news:*:subscribe', 'news:*:history']) });
    c.connect();
    await once(c, 'connected');
    const s = c.newSubscription('chat:room:h');
    s.subscribe();
    await once(s, 'subscribed');
    await assert.rejects(s.history({ limit: 5 }), (e: { code: number }) => e.code === 103);
    await assert.rejects(s.presence(), (e: { code: number }) => e.code === 103);
    const n = c.newSubscription('news:today');
    n.subscribe();
    await once(n, 'subscribed');
    await assert.rejects(n.history({ limit: 5 }), (e: { code: number }) => e.code === 108);
    c.disconnect();
  });

  it('personal channel user#<sub>: its owner subscribes, nobody else; only the server publishes to it', async () => {
    const owner = h.client({ token: h.token('kim', []) });
    const other = h.client({ token: h.token('lee', CHAT) });
    owner.connect();
    other.connect();
    const mine = owner.newSubscription('user#kim');
    mine.subscribe();
    await once(mine, 'subscribed');
    const theirs = other.newSubscription('user#kim');
    theirs.subscribe();
    assert.equal((await once<Ctx>(theirs, 'unsubscribed')).code, 103);
    await assert.rejects(owner.publish('user#kim', 'self'), (e: { code: number }) => e.code === 103);
    const got = once<{ data: unknown }>(mine, 'publication');
    await h.gateway.publish('user#kim', { notice: 'for kim' });
    assert.deepEqual((await got).data, { notice: 'for kim' });
    owner.disconnect();
    other.disconnect();
  });
});

/** The `exp` of a token, in ms. */
const expiryOf = (token: string): number =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;

describe("the gateway's timers, on a clock the test moves", () => {
  let h: Harness;
  const clock = new ManualClock();
  before(async () => {
    h = await startGateway({ clock, limits: { expiryGraceMs: 300, presenceTtlMs: 3_000 } });
  });
  after(() => h.close());

  it('no refresh: disconnected at exp (plus grace) with 3005 "connection expired"', async () => {
    const token = h.token('dave', CHAT, 1.5);
    // The application's token endpoint never answers, so no refresh reaches the gateway.
    const c = h.client({ token, getToken: () => new Promise<string>(() => undefined) });
    c.connect();
    await once(c, 'connected');
    const dropped = once<Ctx>(c, 'connecting', 5_000, (e) => e.code !== 0);
    await clock.advance(expiryOf(token) + 300 - clock.now() - 1);
    // A reply after the last millisecond of grace: the connection was still there.
    await c.publish('chat:room:expiry', 'still here');
    await clock.advance(1);
    const ctx = await dropped;
    assert.equal(ctx.code, 3005);
    assert.equal(ctx.reason, 'connection expired');
    c.disconnect();
  });

  it('presence entries are renewed while the client stays subscribed, long past their ttl', async () => {
    const c = h.client({ token: h.token('pia', CHAT, 600) });
    c.connect();
    const sub = c.newSubscription('chat:room:renewed');
    sub.subscribe();
    await once(sub, 'subscribed');
    const users = async () => Object.values(await h.gateway.presence('chat:room:renewed')).map((i) => i.user);
    assert.deepEqual(await users(), ['pia']);
    // Ten presence ttls: the hub renews the entry every third of one.
    for (let i = 0; i < 10; i++) await clock.advance(3_000);
    assert.deepEqual(await users(), ['pia']);
    c.disconnect();
  });

  it('after an expiry disconnect the SDK gets a fresh token, reconnects and recovers what it missed', async () => {
    let fresh = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const token = h.token('erin', CHAT, 1.2);
    const c = h.client({
      token,
      getToken: async () => {
        await gate;
        fresh = true;
        return h.token('erin', CHAT, 60);
      },
    });
    c.connect();
    await once(c, 'connected');
    const sub = c.newSubscription('chat:room:recover');
    sub.subscribe();
    await once(sub, 'subscribed');
    await h.gateway.publish('chat:room:recover', 'before');
    const dropped = once<Ctx>(c, 'connecting', 5_000, (e) => e.code !== 0);
    // Past exp plus grace (the disconnect), and on by a second: the token the SDK holds is expired when it
    // comes back with it, so it asks for a new one.
    await clock.advance(expiryOf(token) + 1_300 - clock.now());
    assert.equal((await dropped).code, 3005);
    // Published while the client is away.
    await h.gateway.publish('chat:room:recover', 'missed-1');
    await h.gateway.publish('chat:room:recover', 'missed-2');
    const seen: unknown[] = [];
    sub.on('publication', (p: { data: unknown }) => seen.push(p.data));
    const resubscribed = once<{ recovered: boolean; wasRecovering: boolean }>(sub, 'subscribed', 10_000);
    release();
    await once(c, 'connected', 10_000);
    const ctx = await resubscribed;
    assert.equal(fresh, true);
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    assert.deepEqual(seen, ['missed-1', 'missed-2']);
    c.disconnect();
  });
});

describe('subscription tokens', () => {
  let h: Harness;
  before(async () => {
    const { generateKey } = await import('@tessera/core');
    const key = await generateKey('EdDSA');
    const subscriptionVerifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      jwks: buildJwks([key]),
      typ: SUBSCRIPTION_TOKEN_TYPE,
      clockTolerance: 0,
      cache: false,
    });
    h = await startGateway({ key, subscriptionVerifier });
  });
  after(() => h.close());

  const subToken = (sub: string, channel: string, ttl: number) =>
    signSubscriptionToken(h.key, { issuer: ISSUER, audience: AUDIENCE, sub, channel, ttl });

  it('a channel that requires one refuses scopes alone, takes the token, and refreshes it in place', async () => {
    const c = h.client({ token: h.token('mia', ['private:*:subscribe']) });
    c.connect();
    await once(c, 'connected');
    const noToken = c.newSubscription('private:vault');
    noToken.subscribe();
    assert.equal((await once<Ctx>(noToken, 'unsubscribed')).code, 103);
    c.removeSubscription(noToken);
    let calls = 0;
    const s = c.newSubscription('private:vault', {
      getToken: async () => {
        calls++;
        // Short first token so sub_refresh happens; each one is for this user and channel.
        return subToken('mia', 'private:vault', 2);
      },
    });
    let subscribedEvents = 0;
    s.on('subscribed', () => subscribedEvents++);
    s.subscribe();
    await once(s, 'subscribed');
    await until('getToken called three times', () => calls >= 3, 10_000);
    assert.equal(subscribedEvents, 1, 'refreshed in place, never resubscribed');
    const got = once<{ data: unknown }>(s, 'publication');
    await h.gateway.publish('private:vault', 'secret');
    assert.equal((await got).data, 'secret');
    c.disconnect();
  });

  it('a token for another channel or another user is refused with 103', async () => {
    const c = h.client({ token: h.token('noah', []) });
    c.connect();
    await once(c, 'connected');
    const wrongChannel = c.newSubscription('private:a', { token: subToken('noah', 'private:b', 60) });
    wrongChannel.subscribe();
    assert.equal((await once<Ctx>(wrongChannel, 'unsubscribed')).code, 103);
    const wrongUser = c.newSubscription('private:c', { token: subToken('olga', 'private:c', 60) });
    wrongUser.subscribe();
    assert.equal((await once<Ctx>(wrongUser, 'unsubscribed')).code, 103);
    // An access token is not a subscription token (typ differs).
    const accessToken = c.newSubscription('private:d', { token: h.token('noah', ['private:*:subscribe']) });
    accessToken.subscribe();
    assert.equal((await once<Ctx>(accessToken, 'unsubscribed')).code, 103);
    c.disconnect();
  });
});

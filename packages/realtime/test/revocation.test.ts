/**
 * With a real auth server: users log in with the password grant, connect with the `centrifuge` SDK, and
 * are cut off when their token or their whole account is revoked. The gateway follows the server's
 * revocation stream, as every verifier does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createGateway, type Gateway } from '@tessera/realtime';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';

import { startAuthServer, type AuthServer } from './helpers/auth.js';
import { CHANNELS, once } from './helpers/gateway.js';

interface Ctx {
  code: number;
  reason: string;
}

describe('revocation disconnects', () => {
  let auth: AuthServer;
  let gateway: Gateway;
  let wsUrl: string;
  let closeVerifier: () => void;
  const clients: Centrifuge[] = [];

  const connect = async (token: string): Promise<Centrifuge> => {
    const c = new Centrifuge(wsUrl, { websocket: WebSocket, token, minReconnectDelay: 50, maxReconnectDelay: 200 });
    clients.push(c);
    c.connect();
    await once(c, 'connected');
    return c;
  };

  before(async () => {
    auth = await startAuthServer();
    for (const u of ['ann', 'ben', 'cat']) await auth.user(u);
    const v = await auth.gatewayVerifier();
    closeVerifier = v.close;
    gateway = createGateway({ verifier: v.verifier, revocations: v.revocations, channels: CHANNELS });
    ({ wsUrl } = await gateway.listen());
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await gateway.close();
    closeVerifier();
    await auth.close();
  });

  it('a revoked access token: its connection is closed with 3500 "token revoked", others stay', async () => {
    const t1 = await auth.login('ann');
    const t2 = await auth.login('ann');
    const c1 = await connect(t1);
    const c2 = await connect(t2);
    const sub = c2.newSubscription('chat:room:r');
    sub.subscribe();
    await once(sub, 'subscribed');
    const cut = once<Ctx>(c1, 'disconnected', 5_000);
    await auth.revoke(t1);
    const ctx = await cut;
    assert.equal(ctx.code, 3500);
    assert.equal(ctx.reason, 'token revoked');
    assert.equal(c2.state, 'connected');
    const got = once<{ data: unknown }>(sub, 'publication');
    await gateway.publish('chat:room:r', 'after');
    assert.equal((await got).data, 'after');
  });

  it('the revoked token cannot connect again', async () => {
    const t = await auth.login('ann');
    await auth.revoke(t);
    // The list applies the revocation before the revoke call returns, at most a few ms after.
    const deadline = Date.now() + 5_000;
    for (;;) {
      const c = new Centrifuge(wsUrl, { websocket: WebSocket, token: t });
      clients.push(c);
      c.connect();
      const ctx = await Promise.race([once<Ctx>(c, 'disconnected', 5_000), once(c, 'connected', 5_000).then(() => undefined)]);
      if (ctx) {
        assert.equal(ctx.code, 3500);
        break;
      }
      c.disconnect();
      assert.ok(Date.now() < deadline, 'still accepted');
    }
  });

  it("a user's cut-off (admin revoke of the subject) closes every connection of that user, nobody else's", async () => {
    const ben1 = await connect(await auth.login('ben'));
    const ben2 = await connect(await auth.login('ben'));
    const cat = await connect(await auth.login('cat'));
    const cut1 = once<Ctx>(ben1, 'disconnected', 5_000);
    const cut2 = once<Ctx>(ben2, 'disconnected', 5_000);
    await auth.revokeSubject('user-ben');
    assert.equal((await cut1).code, 3500);
    assert.equal((await cut2).code, 3500);
    assert.equal(cat.state, 'connected');
    assert.equal(gateway.stats().connections >= 1, true);
  });
});

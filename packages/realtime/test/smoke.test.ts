import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { once, startGateway, type Harness } from './helpers/gateway.js';

describe('smoke', () => {
  let h: Harness;
  before(async () => {
    h = await startGateway();
  });
  after(() => h.close());

  it('connects, subscribes, publishes and receives', async () => {
    const c = h.client({ token: h.token('alice', ['chat:room:*:subscribe', 'chat:room:*:publish']) });
    c.connect();
    await once(c, 'connected');
    const sub = c.newSubscription('chat:room:1');
    sub.subscribe();
    await once(sub, 'subscribed');
    const got = once<{ data: unknown }>(sub, 'publication');
    await sub.publish({ text: 'hi' });
    assert.deepEqual((await got).data, { text: 'hi' });
  });
});

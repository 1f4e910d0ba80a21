/** The channel-rights grammar: what a scope grants, and what it never does. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ChannelPolicy, type ChannelAction } from '@tessera/realtime';

const policy = new ChannelPolicy({ namespaces: { chat: {}, news: { history: { size: 10, ttlSeconds: 60 } } } });

function allows(scopes: string[], channel: string, action: ChannelAction, sub = 'u1'): boolean {
  const info = policy.describe(channel);
  assert.ok(info.ok, `${channel} should be a valid channel`);
  return policy.rights(scopes, sub).allows(channel, info, action);
}

describe('channel names', () => {
  it('namespace channels, personal channels, and refusals', () => {
    assert.deepEqual(policy.describe('chat:room:1'), { ok: true, personal: false, owner: undefined, options: {} });
    assert.equal(policy.describe('user#42').ok, true);
    for (const bad of [
      '',
      'chat',
      'chat:',
      'chat::x',
      'chat:a b',
      'chat:a/b',
      'chat:é',
      'user#',
      'user#a\u0000b',
      'x'.repeat(256),
    ]) {
      assert.deepEqual(policy.describe(bad), { ok: false, reason: 'invalid' }, JSON.stringify(bad));
    }
    assert.deepEqual(policy.describe('other:x'), { ok: false, reason: 'unknown' });
    assert.deepEqual(new ChannelPolicy({ namespaces: {}, personal: false }).describe('user#1'), { ok: false, reason: 'unknown' });
  });

  it('refuses bad namespace options at construction', () => {
    assert.throws(() => new ChannelPolicy({ namespaces: { 'a:b': {} } }), /namespace name/);
    assert.throws(() => new ChannelPolicy({ namespaces: { a: { joinLeave: true } } }), /joinLeave: needs presence/);
    assert.throws(() => new ChannelPolicy({ namespaces: { a: { history: { size: -1, ttlSeconds: 1 } } } }), /history.size/);
  });
});

describe('rights from scopes', () => {
  it('a literal scope grants exactly its channel and action', () => {
    assert.equal(allows(['chat:room:1:subscribe'], 'chat:room:1', 'subscribe'), true);
    assert.equal(allows(['chat:room:1:subscribe'], 'chat:room:1', 'publish'), false);
    assert.equal(allows(['chat:room:1:subscribe'], 'chat:room:2', 'subscribe'), false);
  });

  it('* matches one whole segment, never more, never a prefix', () => {
    assert.equal(allows(['chat:room:*:subscribe'], 'chat:room:abc', 'subscribe'), true);
    assert.equal(allows(['chat:room:*:subscribe'], 'chat:room:abc:typing', 'subscribe'), false);
    assert.equal(allows(['chat:room:*:subscribe'], 'chat:lobby', 'subscribe'), false);
    assert.equal(allows(['chat:*:subscribe'], 'chat:room:1', 'subscribe'), false);
    assert.equal(allows(['chat:ro*:subscribe'], 'chat:room', 'subscribe'), false);
  });

  it('a * namespace, an unknown namespace, other scope forms and unknown actions grant nothing', () => {
    assert.equal(allows(['*:room:subscribe'], 'chat:room', 'subscribe'), false);
    assert.equal(allows(['other:room:subscribe', 'chat:read', 'chat:room', 'orders:read'], 'chat:room', 'subscribe'), false);
    assert.equal(allows(['chat:room:admin'], 'chat:room', 'subscribe'), false);
    assert.equal(allows([], 'chat:room', 'subscribe'), false);
  });

  it('presence and history are their own actions', () => {
    assert.equal(allows(['news:*:history'], 'news:today', 'history'), true);
    assert.equal(allows(['news:*:history'], 'news:today', 'subscribe'), false);
    assert.equal(allows(['news:*:subscribe'], 'news:today', 'history'), false);
    assert.equal(allows(['news:*:presence'], 'news:today', 'presence'), true);
  });

  it('user#<sub>: the owner reads, nobody publishes from a connection, scopes do not widen it', () => {
    assert.equal(allows([], 'user#u1', 'subscribe', 'u1'), true);
    assert.equal(allows([], 'user#u1', 'history', 'u1'), true);
    assert.equal(allows([], 'user#u1', 'publish', 'u1'), false);
    assert.equal(allows(['user#u1:subscribe', 'user:*:subscribe'], 'user#u1', 'subscribe', 'u2'), false);
    assert.equal(allows([], 'user#u1', 'subscribe', 'U1'), false);
  });
});

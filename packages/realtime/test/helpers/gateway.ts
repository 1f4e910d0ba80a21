/**
 * A real gateway on 127.0.0.1 port 0 with tokens signed by a key of the test's own, and clients made with
 * the `centrifuge` SDK over `ws`, as a Node application would use them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { buildJwks, generateKey, signJwt, type Key } from '@tessera/core';
import {
  createGateway,
  type Broker,
  type ChannelOptions,
  type Gateway,
  type GatewayOptions,
  type Limits,
} from '@tessera/realtime';
import { until } from '@tessera/testing';
import { createVerifier, type Verifier } from '@tessera/verifier';
import { Centrifuge, type Options as CentrifugeOptions } from 'centrifuge';
import WebSocket from 'ws';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'realtime';

export const CHANNELS: ChannelOptions = {
  namespaces: {
    chat: { history: { size: 50, ttlSeconds: 300 }, presence: true, joinLeave: true },
    news: {},
    private: { subscriptionTokenRequired: true },
  },
};

export interface Harness {
  gateway: Gateway;
  verifier: Verifier;
  key: Key;
  url: string;
  wsUrl: string;
  /** An access token for the gateway: `ttl` in seconds (fractions allowed), `scopes` granted; on the gateway's clock. */
  token(sub: string, scopes: readonly string[], ttl?: number, extra?: Record<string, unknown>): string;
  /** A centrifuge client; stopped by close(). */
  client(options: Partial<CentrifugeOptions>): Centrifuge;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<GatewayOptions, 'verifier' | 'limits'>> {
  limits?: Partial<Limits>;
  broker?: Broker;
  key?: Key;
  verifier?: Verifier;
}

export async function startGateway(options: HarnessOptions = {}): Promise<Harness> {
  const key = options.key ?? (await generateKey('EdDSA'));
  const verifier =
    options.verifier ??
    createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      jwks: buildJwks([key]),
      clockTolerance: 0,
      cache: false,
      // One time for the gateway, its verifier and the tokens below.
      ...(options.clock ? { now: () => options.clock!.now() } : {}),
    });
  const { limits, ...rest } = options;
  delete rest.key;
  delete rest.verifier;
  const gateway = createGateway({ channels: CHANNELS, ...rest, verifier, limits: { expiryGraceMs: 300, ...limits } });
  const { url, wsUrl } = await gateway.listen();
  const clients: Centrifuge[] = [];
  return {
    gateway,
    verifier,
    key,
    url,
    wsUrl,
    token(sub, scopes, ttl = 60, extra = {}) {
      const now = (options.clock?.now() ?? Date.now()) / 1000;
      return signJwt(
        {
          iss: ISSUER,
          sub,
          aud: AUDIENCE,
          iat: Math.floor(now),
          exp: now + ttl,
          jti: randomUUID(),
          client_id: 'web',
          scope: scopes.join(' '),
          ...extra,
        },
        key,
        { typ: 'at+jwt' },
      );
    },
    client(opts) {
      const c = new Centrifuge(wsUrl, { websocket: WebSocket, minReconnectDelay: 50, maxReconnectDelay: 200, ...opts });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await gateway.close();
    },
  };
}

/** Resolves with the first event `name` of `emitter` for which `match` holds; rejects after `ms`. */
export function once<T = unknown>(
  emitter: { on(name: string, f: (e: T) => void): unknown; removeListener(name: string, f: (e: T) => void): unknown },
  name: string,
  ms = 5_000,
  match: (e: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(name, f);
      reject(new Error(`no ${name} event within ${ms} ms`));
    }, ms);
    const f = (e: T) => {
      if (!match(e)) return;
      clearTimeout(timer);
      emitter.removeListener(name, f);
      resolve(e);
    };
    emitter.on(name, f);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A centrifuge client made with `options`, its `getToken` giving `next()`, connected and subscribed to `channel`
 * (its tokens need the presence right there) until it has fetched `refreshes` tokens; then asserts that it is
 * still its first connection (connected once, never disconnected, the same client in the channel's presence)
 * and that the subscription still receives.
 */
export async function assertRefreshedInPlace(
  h: Harness,
  options: Partial<CentrifugeOptions>,
  next: () => string,
  channel: string,
  refreshes: number,
  ms: number,
): Promise<void> {
  let issued = 0;
  const c = h.client({
    ...options,
    getToken: async () => {
      issued++;
      return next();
    },
  });
  let connecting = 0;
  let disconnected = 0;
  c.on('connecting', () => connecting++);
  c.on('disconnected', () => disconnected++);
  c.connect();
  const { client } = await once<{ client: string }>(c, 'connected');
  const sub = c.newSubscription(channel);
  sub.subscribe();
  await once(sub, 'subscribed');
  await until(`${refreshes} token refreshes`, () => issued >= refreshes, ms);
  // One 'connecting' for the first connect, none since.
  assert.equal(connecting, 1);
  assert.equal(disconnected, 0);
  assert.equal(c.state, 'connected');
  const got = once<{ data: unknown }>(sub, 'publication');
  await h.gateway.publish(channel, { n: 1 });
  assert.deepEqual((await got).data, { n: 1 });
  // Still the same connection on the server.
  const presence = await sub.presence();
  assert.ok(Object.keys(presence.clients).includes(client));
  c.disconnect();
}

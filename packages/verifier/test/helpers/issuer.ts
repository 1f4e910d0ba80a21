import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { buildJwks, generateKey, signAccessToken, type AccessTokenInput, type Algorithm, type Key } from '@tessera/core';

export const ISSUER = 'https://auth.test';
export const AUDIENCE = 'orders';

/** A test issuer: signing keys and a token factory. */
export class TestIssuer {
  keys: Key[];
  constructor(readonly alg: Algorithm = 'ES256') {
    this.keys = [generateKey(alg)];
  }
  get key(): Key {
    return this.keys[this.keys.length - 1]!;
  }
  rotate(): Key {
    this.keys.push(generateKey(this.alg));
    return this.key;
  }
  jwks() {
    return buildJwks(this.keys);
  }
  token(overrides: Partial<AccessTokenInput> = {}, options: { now?: () => number; key?: Key } = {}): string {
    return signAccessToken(
      { iss: ISSUER, sub: 'alice', aud: AUDIENCE, client_id: 'web', scope: 'orders:read', ttl: 300, ...overrides },
      options.key ?? this.key,
      { now: options.now },
    );
  }
}

export interface JwksServer {
  url: string;
  requests: number;
  /** What the next requests get. */
  mode: 'ok' | 'down' | 'slow' | 'bad-json' | 'huge';
  cacheControl: string | undefined;
  delayMs: number;
  close(): Promise<void>;
}

/** A real HTTP server on port 0 serving the issuer's current JWKS, with switchable failure modes. */
export async function startJwksServer(issuer: TestIssuer): Promise<JwksServer> {
  const state: JwksServer = {
    url: '',
    requests: 0,
    mode: 'ok',
    cacheControl: 'max-age=300',
    delayMs: 0,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    state.requests++;
    const reply = () => {
      switch (state.mode) {
        case 'down':
          res.writeHead(503).end('unavailable');
          return;
        case 'bad-json':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [');
          return;
        case 'huge':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [], pad: 'x'.repeat(1 << 20) }));
          return;
        default:
          res.writeHead(200, {
            'content-type': 'application/json',
            ...(state.cacheControl ? { 'cache-control': state.cacheControl } : {}),
          });
          res.end(JSON.stringify(issuer.jwks()));
      }
    };
    if (state.mode === 'slow' || state.delayMs > 0) setTimeout(reply, state.mode === 'slow' ? 10_000 : state.delayMs).unref();
    else reply();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A URL on which nothing listens. */
export async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}/jwks.json`;
}

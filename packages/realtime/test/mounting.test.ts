/** Where the gateway runs: on an existing Node HTTP server beside its routes, and on its own port over TLS. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { buildJwks, generateKey } from '@tessera/core';
import { createGateway } from '@tessera/realtime';
import { createVerifier } from '@tessera/verifier';
import { Centrifuge } from 'centrifuge';
import WebSocket, { type ClientOptions } from 'ws';

import { AUDIENCE, CHANNELS, ISSUER, once, startGateway } from './helpers/gateway.js';
import { selfSignedCertificate } from './helpers/tls.js';

describe('mounting', () => {
  it('attach(): the WebSocket path on an existing server, whose own routes keep working', async () => {
    const h = await startGateway();
    const app = createServer((req, res) => {
      if (h.gateway.handleApiRequest(req, res)) return;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('app route');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const port = (app.address() as AddressInfo).port;
    try {
      await h.gateway.attach(app);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/anything`)).text(), 'app route');
      const c = new Centrifuge(`ws://127.0.0.1:${port}/connection/websocket`, {
        websocket: WebSocket,
        token: h.token('amy', ['news:*:subscribe']),
      });
      c.connect();
      await once(c, 'connected');
      const sub = c.newSubscription('news:a');
      sub.subscribe();
      await once(sub, 'subscribed');
      const got = once<{ data: unknown }>(sub, 'publication');
      const api = await fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token('svc', ['realtime:publish'])}` },
        body: JSON.stringify({ channel: 'news:a', data: 'via the app server' }),
      });
      assert.equal(api.status, 200);
      assert.equal((await got).data, 'via the app server');
      c.disconnect();
    } finally {
      await h.close();
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    }
  });

  it('listen({ tls }): wss:// with the given certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
    const key = await generateKey('EdDSA');
    const gateway = createGateway({
      verifier: createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], jwks: buildJwks([key]) }),
      channels: CHANNELS,
    });
    try {
      selfSignedCertificate(dir);
      const cert = readFileSync(join(dir, 'cert.pem'));
      const { wsUrl } = await gateway.listen({ tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
      assert.match(wsUrl, /^wss:\/\//);
      // A client that trusts exactly this certificate.
      class Trusting extends WebSocket {
        constructor(url: string, protocols?: string | string[], options: ClientOptions = {}) {
          super(url, protocols, { ...options, ca: cert });
        }
      }
      const { signJwt } = await import('@tessera/core');
      const now = Math.floor(Date.now() / 1000);
      const token = signJwt(
        { iss: ISSUER, aud: AUDIENCE, sub: 'tls', iat: now, exp: now + 60, jti: 'tls-1', scope: 'news:*:subscribe' },
        key,
        { typ: 'at+jwt' },
      );
      const c = new Centrifuge(wsUrl, { websocket: Trusting, token });
      c.connect();
      await once(c, 'connected');
      c.disconnect();
      // An untrusting client does not get through.
      const plain = new WebSocket(wsUrl);
      const err = await new Promise<Error>((r) => plain.on('error', r));
      assert.match(err.message, /self[- ]signed|unable to verify|certificate/i);
    } finally {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

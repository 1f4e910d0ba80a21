import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { AUDIENCE, generateKeyFiles, ISSUER, leaksToken, signToken, tempDir, tessera } from './helpers/cli.js';

/** A real JWKS endpoint on port 0: /jwks.json serves the key set, anything else 404. */
function jwksServer(jwks: string, requests: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' });
      res.end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('token verify --jwks URL (through @tessera/verifier, against a real HTTP server)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: Server;
  let base: string;
  let token: string;
  const requests: string[] = [];

  before(async () => {
    tmp = await tempDir();
    await generateKeyFiles('EdDSA', tmp.dir);
    token = await signToken(join(tmp.dir, 'private.jwk.json'), ['--scope', 'orders:read']);
    server = await jwksServer(await readFile(join(tmp.dir, 'jwks.json'), 'utf8'), requests);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await tmp.remove();
  });

  const verifyArgs = (url: string, audience = AUDIENCE) => [
    'token',
    'verify',
    '--jwks',
    url,
    '--issuer',
    ISSUER,
    '--audience',
    audience,
    '--alg',
    'EdDSA',
  ];

  it('fetches the JWKS and verifies: exit 0, claims on stdout', async () => {
    const before = requests.length;
    const started = Date.now();
    const r = await tessera(verifyArgs(`${base}/jwks.json`), { input: `${token}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const claims = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.scope, 'orders:read');
    assert.deepEqual(requests.slice(before), ['/jwks.json']);
    assert.ok(Date.now() - started < 4000, 'the command exits as soon as it is done (no refresh timer or socket keeps it alive)');
  });

  it('a wrong audience is refused the same way as with a file: exit 1, ERR_CLAIM_INVALID', async () => {
    const r = await tessera(verifyArgs(`${base}/jwks.json`, 'billing'), { input: token });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: ERR_CLAIM_INVALID: /);
    assert.ok(!leaksToken(r.stderr, token));
  });

  it('an endpoint that answers 404: exit 1, fails closed, and says why', async () => {
    const r = await tessera(verifyArgs(`${base}/missing.json`), { input: token });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: ERR_KEYS_UNAVAILABLE: .*ERR_JWKS_FETCH: JWKS endpoint answered HTTP 404/);
    assert.ok(!leaksToken(r.stderr, token));
  });

  it('an endpoint nobody listens on: exit 1', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await tessera(verifyArgs(`http://127.0.0.1:${port}/jwks.json`), { input: token });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: ERR_KEYS_UNAVAILABLE: /);
  });
});

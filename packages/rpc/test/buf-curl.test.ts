/**
 * `buf curl` (the npm @bufbuild/buf binary: a client nobody here wrote), Connect protocol, schema from the
 * .proto, against the protected service: the right code and message for each bad token, the answer for a
 * good one. Skipped, with the reason, when the binary cannot run on this platform.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import { nextRevocation, startAuthServer, startVerifier, type AuthServer } from './helpers/auth-server.js';
import { PROTO_ROOT } from './helpers/callers.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

function findBuf(): { path?: string; skip?: string } {
  try {
    const pkg = createRequire(import.meta.url).resolve('@bufbuild/buf/package.json');
    const path = join(dirname(pkg), 'bin', 'buf');
    return existsSync(path) ? { path } : { skip: '@bufbuild/buf has no bin/buf' };
  } catch {
    return { skip: '@bufbuild/buf is not installed' };
  }
}

interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function bufCurl(buf: string, args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(buf, ['curl', '--schema', PROTO_ROOT, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const found = findBuf();
let runnable = found;
if (found.path !== undefined) {
  // The package installs a binary for this platform only when one exists; check that it runs.
  const probe = await new Promise<string | undefined>((resolve) =>
    execFile(found.path!, ['--version'], { timeout: 30_000 }, (err, stdout) =>
      resolve(err ? `buf does not run here: ${err.message}` : stdout.trim() === '' ? 'buf --version printed nothing' : undefined),
    ),
  );
  if (probe !== undefined) runnable = { skip: probe };
}
if (runnable.skip !== undefined) console.log(`# buf curl tests skipped: ${runnable.skip}`);

describe('buf curl (Connect protocol) against the protected service', { skip: runnable.skip }, () => {
  let auth: AuthServer;
  let v: Awaited<ReturnType<typeof startVerifier>>;
  let inv: Inventory;
  let good: string;
  let underScoped: string;
  let expired: string;
  let revoked: string;
  const buf = runnable.path!;
  const clock = new SteppedClock();

  before(async () => {
    auth = await startAuthServer();
    v = await startVerifier(auth, { clockTolerance: 0, now: clock.now });
    inv = await startInventory({ verifier: v.verifier, revocations: v.revocations, gate: true });
    good = await auth.token(await auth.client('reader', ['inventory:read']));
    underScoped = await auth.token(await auth.client('auditor', ['inventory:audit']));
    expired = await auth.token(await auth.client('brief', ['inventory:read'], { accessTokenTtl: 1 }));
    const leaker = await auth.client('leaker', ['inventory:read']);
    revoked = await auth.token(leaker);
    const applied = nextRevocation(v.revocations, () => true);
    await auth.revoke(leaker, revoked);
    await applied;
    const exp = (JSON.parse(Buffer.from(expired.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    // The verifier's clock passes the brief token's exp.
    clock.advance(Math.max(0, exp * 1000 - clock.now() + 50));
  });
  after(async () => {
    await inv.close();
    v.close();
    await auth.close();
  });

  const url = (path: string) => `${inv.h1}/inventory.v1.InventoryService/${path}`;
  const rpc = (path: string, data: string, headers: string[] = []) =>
    bufCurl(buf, ['--protocol', 'connect', ...headers.flatMap((h) => ['-H', h]), '-d', data, url(path)]);

  for (const [name, headers, code, message] of [
    ['no token', [], 'unauthenticated', 'a bearer token is required'],
    [
      'malformed header',
      ['Authorization: Bearer a b'],
      'unauthenticated',
      'the authorization header is not a valid bearer credential',
    ],
    ['invalid token', ['Authorization: Bearer abc.def.ghi'], 'unauthenticated', 'the access token is invalid'],
  ] as const) {
    it(`${name}: ${code}`, async () => {
      const r = await rpc('GetStock', '{"sku":"sku-1"}', [...headers]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`"code":\\s*"${code}"`), r.stderr);
      assert.ok(r.stderr.includes(message), r.stderr);
    });
  }

  it('expired token: unauthenticated, "the access token expired"', async () => {
    const r = await rpc('GetStock', '{"sku":"sku-1"}', [`Authorization: Bearer ${expired}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"code":\s*"unauthenticated"/, r.stderr);
    assert.ok(r.stderr.includes('the access token expired'), r.stderr);
  });

  it('revoked token (RFC 7009): unauthenticated', async () => {
    const r = await rpc('GetStock', '{"sku":"sku-1"}', [`Authorization: Bearer ${revoked}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"code":\s*"unauthenticated"/, r.stderr);
    assert.ok(r.stderr.includes('the access token is invalid'), r.stderr);
  });

  it('under-scoped token: permission_denied', async () => {
    const r = await rpc('GetStock', '{"sku":"sku-1"}', [`Authorization: Bearer ${underScoped}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"code":\s*"permission_denied"/, r.stderr);
  });

  it('good token: the answer, with the caller the handler saw', async () => {
    const r = await rpc('GetStock', '{"sku":"sku-1"}', [`Authorization: Bearer ${good}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { sku: 'sku-1', quantity: 42, caller: 'reader' });
  });

  it('a public method needs no token', async () => {
    const r = await rpc('Health', '{}');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { status: 'ok' });
  });

  it('a server stream with a good token (HTTP/2 prior knowledge)', async () => {
    const r = await bufCurl(buf, [
      '--protocol',
      'connect',
      '--http2-prior-knowledge',
      '-H',
      `Authorization: Bearer ${good}`,
      '-d',
      '{"sku":"sku-1","intervalMs":1}',
      '--timeout',
      '0.3s',
      `${inv.h2}/inventory.v1.InventoryService/WatchStock`,
    ]);
    // The stream never ends by itself: buf's timeout ends it, after some events.
    assert.match(r.stdout, /"seq":\s*"1"/, r.stderr);
    assert.match(r.stderr, /deadline_exceeded/, r.stderr);
  });
});

/**
 * The commands that call a running server's OAuth endpoints (`token get`, `token introspect`, `token revoke`)
 * against a hostile or mistyped --issuer: credentials, a query or a fragment in the URL are refused before any
 * request and never echoed; a server's error and error_description reach the terminal only when they keep
 * to RFC 6749's characters, so a hostile server cannot write escape sequences; and each command sends the
 * same client_secret_basic credentials (RFC 6749 section 2.3.1 encoding).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { tessera } from '../helpers/cli.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln';
/** Each command with its positional arguments. */
const COMMANDS = [
  ['token', 'get'],
  ['token', 'introspect', TOKEN],
  ['token', 'revoke', TOKEN],
] as const;
const SECRET = 'p@ss w+rd:ü';

describe('attack: a hostile or mistyped token endpoint', () => {
  let server: Server;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request\u001b[2J', error_description: 'see \u001b]0;pwned\u0007 here' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('issuer-with-credentials: an --issuer with user:password@, a query or a fragment is refused and not echoed', async () => {
    for (const command of COMMANDS) {
      for (const issuer of [
        url.replace('://', '://admin:hunter2-echo@'),
        `${url}?client_secret=hunter2-echo`,
        `${url}#hunter2-echo`,
        'ftp://hunter2-echo.example',
      ]) {
        const before = seen.length;
        const r = await tessera([...command, '--issuer', issuer, '--client-id', 'x'], {
          env: { TESSERA_CLIENT_SECRET: 'x' },
        });
        assert.equal(r.code, 2, `${command.join(' ')} ${issuer}: ${r.stderr}`);
        assert.match(r.stderr, /ERR_USAGE: --issuer must/);
        assert.ok(!r.stderr.includes('hunter2'), r.stderr);
        assert.equal(seen.length, before, 'no request was sent');
      }
    }
  });

  it('terminal-escape-injection: a hostile error or error_description is not printed', async () => {
    for (const command of COMMANDS) {
      const r = await tessera([...command, '--issuer', url, '--client-id', 'x'], { env: { TESSERA_CLIENT_SECRET: 'x' } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /HTTP 400/);
      assert.ok(!r.stderr.includes('\u001b') && !r.stderr.includes('pwned') && !r.stderr.includes('\u0007'), r.stderr);
    }
  });

  it('basic-auth-drift: every command sends the same RFC 6749 section 2.3.1 credentials', async () => {
    const sent: string[] = [];
    for (const command of COMMANDS) {
      const before = seen.length;
      await tessera([...command, '--issuer', url, '--client-id', 'svc one'], { env: { TESSERA_CLIENT_SECRET: SECRET } });
      assert.equal(seen.length, before + 1);
      sent.push(String(seen.at(-1)!.authorization));
    }
    const expected = `Basic ${Buffer.from(`svc+one:${encodeURIComponent(SECRET).replace(/%20/g, '+')}`).toString('base64')}`;
    assert.deepEqual(sent, [expected, expected, expected]);
  });
});

/** `npm start` runs examples/quickstart (and examples/rpc): the curl lines it prints must work as printed. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { demoPort, startDemo } from '@tessera/testing';

describe('quickstart (npm start)', () => {
  let child: ChildProcess;
  let out = '';
  let port = 0;
  const dir = join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'data');
  before(async () => {
    port = await demoPort();
    ({ child, out } = await startDemo(port, dir));
  });
  after(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the printed client-credentials curl line gets a token that the orders service accepts', async () => {
    const m = /curl -s -u ([\w-]+):(\S+) -d grant_type=client_credentials -d resource=orders (\S+)/.exec(out);
    assert.ok(m, out);
    const [, id, secret, tokenUrl] = m;
    const res = await fetch(tokenUrl!, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&resource=orders',
    });
    assert.equal(res.status, 200);
    const token = ((await res.json()) as { access_token: string }).access_token;
    const orders = `http://127.0.0.1:${port + 1}/orders`;
    assert.equal((await fetch(orders)).status, 401);
    const ok = await fetch(orders, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { orders: { for: string }[] }).orders[0]?.for, id);
    assert.equal((await fetch(orders, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 201);
  });

  /** The demo user's login of the printed password-grant lines, with their extra parameters (resource, scope). */
  async function login(params: Record<string, string>): Promise<Response> {
    const m = /-d username=(\S+) -d 'password=([^']+)' -d client_id=(\S+) -d client_secret=(\S+) (\S+)/.exec(out);
    assert.ok(m, out);
    const [, username, password, clientId, clientSecret, tokenUrl] = m;
    return fetch(tokenUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        ...params,
        username: username!,
        password: password!,
        client_id: clientId!,
        client_secret: clientSecret!,
      }),
    });
  }
  async function userToken(params: Record<string, string>): Promise<string> {
    const res = await login(params);
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const claims = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

  it('the printed password-grant line logs the demo user in, with only the scopes their role grants', async () => {
    assert.match(out, /curl -s -d grant_type=password -d resource=orders -d username=/);
    const res = await login({ resource: 'orders' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { scope: string; refresh_token: string };
    assert.equal(body.scope, 'orders:read inventory:read');
    assert.ok(body.refresh_token.startsWith('tsr_'));
  });

  it('orders calls inventory for the user with an exchanged token: inventory sees the user as sub and orders as act.sub', async () => {
    const m = /curl -i -H "Authorization: Bearer \$USER_TOKEN" (\S+)/.exec(out);
    assert.ok(m, out);
    const token = await userToken({ resource: 'orders' });
    const res = await fetch(m[1]!, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { sku: string; quantity: number; for: string; inventory: { sub: string; actor: string } };
    assert.equal(body.sku, 'tile-blue');
    assert.equal(body.quantity, 42);
    assert.equal(body.for, claims(token).sub);
    assert.deepEqual(body.inventory, { sub: claims(token).sub, actor: 'orders' });
    assert.equal((await fetch(m[1]!)).status, 401);
  });

  it('inventory refuses a Connect call without a token (401 unauthenticated) and an under-scoped one (403 permission_denied)', async () => {
    const m =
      /curl -i -X POST (\S+\/inventory\.v1\.InventoryService\/GetStock) -H 'content-type: application\/json' -d '(\{[^']+\})'/.exec(
        out,
      );
    assert.ok(m, out);
    const [, url, body] = m;
    const call = (token?: string) =>
      fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body,
      });

    const none = await call();
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { code: string }).code, 'unauthenticated');

    const low = await call(await userToken({ resource: 'inventory', scope: 'orders:read' }));
    assert.equal(low.status, 403);
    assert.equal(((await low.json()) as { code: string }).code, 'permission_denied');

    // The orders token is not for inventory (audience "orders").
    assert.equal((await call(await userToken({ resource: 'orders' }))).status, 401);

    const direct = await call(await userToken({ resource: 'inventory', scope: 'inventory:read' }));
    assert.equal(direct.status, 200);
    const answer = (await direct.json()) as { quantity: number; actor?: string };
    assert.equal(answer.quantity, 42);
    assert.equal(answer.actor, undefined); // no act: the user called inventory directly
  });

  /** The printed payroll login line's token (an encrypted one), and the payslip URL printed beside it. */
  async function payrollToken(): Promise<{ token: string; payslip: string }> {
    const m =
      /PAYROLL_TOKEN=\$\(curl -s -d grant_type=password -d resource=(\S+) -d scope=(\S+) -d username=(\S+) -d 'password=([^']+)' -d client_id=(\S+) -d client_secret=(\S+) (\S+) \|/.exec(
        out,
      );
    const payslip = /curl -i -H "Authorization: Bearer \$PAYROLL_TOKEN" (\S+)/.exec(out);
    assert.ok(m && payslip, out);
    const [, resource, scope, username, password, clientId, clientSecret, tokenUrl] = m;
    const res = await fetch(tokenUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // As curl -d sends it: the printed scope is form-encoded already (+ for the space).
      body: `grant_type=password&resource=${resource}&scope=${scope}&${new URLSearchParams({
        username: username!,
        password: password!,
        client_id: clientId!,
        client_secret: clientSecret!,
      }).toString()}`,
    });
    const body = (await res.json()) as { access_token: string; scope: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.scope, 'payroll:read email');
    return { token: body.access_token, payslip: payslip[1]! };
  }

  it('payroll answers with the email inside an encrypted token, which the client cannot read; a signed token is refused', async () => {
    const { token, payslip } = await payrollToken();
    // What the client holds: a compact JWE, five segments, none of which decodes to the email (or any claim).
    assert.equal(token.split('.').length, 5);
    for (const part of [token, ...token.split('.')])
      assert.doesNotMatch(Buffer.from(part, 'base64url').toString('latin1') + part, /alice@example\.com|payroll:read/);
    const res = await fetch(payslip, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { employee: string; email: string };
    assert.equal(body.email, 'alice@example.com');
    assert.equal(body.employee, claims(await userToken({ resource: 'orders' })).sub);

    assert.equal((await fetch(payslip)).status, 401);
    // A signed (readable) token of the same user for another audience: refused, payroll takes encrypted tokens only.
    const signed = await fetch(payslip, { headers: { authorization: `Bearer ${await userToken({ resource: 'orders' })}` } });
    assert.equal(signed.status, 401);
    assert.match(signed.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('a second start reuses the data folder', async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    ({ child, out } = await startDemo(port, dir));
    assert.match(out, /Tessera is running/);
    // The clients of the orders -> inventory example were kept: the exchange and the Connect call still work.
    const stock = /curl -i -H "Authorization: Bearer \$USER_TOKEN" (\S+)/.exec(out);
    assert.ok(stock, out);
    const res = await fetch(stock[1]!, { headers: { authorization: `Bearer ${await userToken({ resource: 'orders' })}` } });
    assert.equal(res.status, 200);
    // Payroll made a new key at this start and the resource was given it: a fresh encrypted token works.
    const { token, payslip } = await payrollToken();
    const payroll = await fetch(payslip, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(payroll.status, 200);
    assert.equal(((await payroll.json()) as { email: string }).email, 'alice@example.com');
  });
});

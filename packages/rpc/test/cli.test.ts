/** `tessera rpc check MODULE`, run as the built command in a child process. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

function tessera(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tessera rpc check', () => {
  it('lists each method without a policy and exits 1 with ERR_RPC_POLICY_MISSING', async () => {
    const r = await tessera(['rpc', 'check', fixture('policy-incomplete')]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'inventory.v1.InventoryService/DeleteItem\n');
    assert.equal(r.stderr, 'error: ERR_RPC_POLICY_MISSING: 1 method has no policy: inventory.v1.InventoryService/DeleteItem\n');
  });

  it('exits 0 when every method has one (default export, a list of policies)', async () => {
    const r = await tessera(['rpc', 'check', fixture('policy-complete')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok: 5 methods of 1 service have a policy\n');
  });

  it('a module that cannot be imported, or exports no services: ERR_INPUT, exit 1', async () => {
    const missing = await tessera(['rpc', 'check', fixture('no-such-module')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: ERR_INPUT: cannot import /);
    const wrong = await tessera(['rpc', 'check', fileURLToPath(new URL('./helpers/auth-server.js', import.meta.url))]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /ERR_INPUT: .* exports no "services"/);
  });

  it('no module: usage error, exit 2; --help: usage, exit 0', async () => {
    const none = await tessera(['rpc', 'check']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /ERR_USAGE: give exactly one MODULE/);
    const help = await tessera(['rpc', 'check', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tessera rpc check MODULE/);
  });
});

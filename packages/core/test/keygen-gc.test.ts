/**
 * A generated key exported while the garbage collector runs. Node 20 frees the key a generation job kept when the
 * collector finalizes the job, taking that key's lock; a collection during an export of the same key (which holds
 * the lock and allocates) deadlocked the process: the auth server hung publishing a new RS256 key in its JWKS.
 * V8's `--gc-interval` makes a collection run every few allocations, so the export meets one every time.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CORE = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('generated keys and the garbage collector', () => {
  it('keygen-gc-deadlock: keys of every family are exported as JWK while collections run, and the process finishes', () => {
    const script = `
      const { generateKey } = await import(${JSON.stringify(CORE)});
      for (const alg of ['RS256', 'ES256', 'EdDSA'])
        for (let i = 0; i < 20; i++) {
          const key = generateKey(alg);
          for (let j = 0; j < 50; j++) {
            key.keyObject.export({ format: 'jwk' });
            key.toJwk();
          }
        }
      console.log('exported');
    `;
    const run = spawnSync(process.execPath, ['--gc-interval=20', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.signal, null, 'the process hung (killed after 60 s)');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'exported');
  });
});

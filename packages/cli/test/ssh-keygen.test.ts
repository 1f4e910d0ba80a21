/**
 * Keys made by OpenSSH's ssh-keygen, as operators have them: the private key in PEM (`-m pem`: PKCS#1 for
 * RSA, SEC1 for ECDSA) signs, and the `.pub` line verifies.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { AUDIENCE, ISSUER, signToken, tempDir, tessera } from './helpers/cli.js';

const run = promisify(execFile);

describe('ssh-keygen keys', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => (tmp = await tempDir()));
  after(() => tmp.remove());

  const KEYS = [
    { name: 'id_rsa', alg: 'RS256', keygen: ['-t', 'rsa', '-b', '4096'], pem: 'BEGIN RSA PRIVATE KEY' },
    { name: 'id_ecdsa', alg: 'ES256', keygen: ['-t', 'ecdsa', '-b', '256'], pem: 'BEGIN EC PRIVATE KEY' },
  ];
  for (const { name, alg, keygen, pem } of KEYS) {
    it(`ssh-keygen ${keygen.join(' ')} -m pem: sign with ${name} --alg ${alg}, verify with ${name}.pub`, async () => {
      const file = join(tmp.dir, name);
      await run('ssh-keygen', [...keygen, '-m', 'pem', '-N', '', '-f', file, '-q']);
      assert.ok((await readFile(file, 'utf8')).includes(pem));
      const token = await signToken(file, ['--alg', alg]);
      const r = await tessera(
        ['token', 'verify', '--public-key', `${file}.pub`, '--alg', alg, '--issuer', ISSUER, '--audience', AUDIENCE],
        {
          input: token,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { sub: string }).sub, 'alice');
    });
  }

  it('an OpenSSH-format private key is refused with the command that converts it', async () => {
    const file = join(tmp.dir, 'id_ed25519');
    await run('ssh-keygen', ['-t', 'ed25519', '-N', '', '-f', file, '-q']);
    const r = await tessera(['token', 'sign', '--key', file, '--iss', ISSUER, '--sub', 'alice', '--aud', AUDIENCE]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: ERR_KEY_INVALID: OpenSSH private key format; convert it with `ssh-keygen -p -m pem -f FILE`/);
  });
});

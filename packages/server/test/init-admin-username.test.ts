/**
 * `tessera init --admin-username NAME` (review 12, defect 1): the first admin user is created like every other
 * user, its name in the one normal form every lookup uses, so the admin signs in with the name they typed; a
 * name the admin service refuses is refused by init too, before anything is written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { AdminInputError } from '@tessera/server';
import { initialize } from '@tessera/server/internal';

import { assertTokenResponse, login } from './helpers/oauth.js';
import { startServer } from './helpers/server.js';

describe('tessera init: the first admin user', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-init-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a mixed-case admin username is stored normalised: the admin signs in as typed and in lower case', async () => {
    const dir = join(root, 'mixed');
    const init = await initialize({ dir, adminUsername: 'Alice' });
    assert.equal(init.admin_user.username, 'alice');
    const t = await startServer({ dir, file: init.config_file });
    try {
      const admin = { id: init.admin_client.client_id, secret: init.admin_client.client_secret };
      for (const name of ['Alice', 'alice'])
        assertTokenResponse(await login(t, admin, name, init.admin_user.password, { resource: init.admin_client.audience }));
    } finally {
      await t.close(true);
    }
  });

  for (const [label, name] of [
    ['a quote', 'al"ice'],
    ['a control character', 'al\u0007ice'],
    ['an angle bracket', '<alice>'],
  ] as const)
    it(`an admin username with ${label} is refused with AdminInputError and nothing is written`, async () => {
      const dir = join(root, `refused-${readdirSync(root).length}`);
      await assert.rejects(initialize({ dir, adminUsername: name }), (err: unknown) => {
        assert.ok(err instanceof AdminInputError, String(err));
        assert.equal(err.code, 'ERR_ADMIN_INPUT');
        return true;
      });
      assert.equal(existsSync(dir), false, 'no data folder is made');
    });
});

// A row the schema does not promise (a bad migration, a hand edit, another program writing the tables) reaches
// no grant: the read fails with ERR_STORE_ROW and the token endpoint answers 500 server_error, with nothing of
// the row or the error in the answer.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';

import { contextOf, type SqlStore } from '@tessera/server/internal';

import { execute } from './helpers/faults.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let secret: string;

before(async () => {
  t = await startServer();
  secret = (await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['read'], audiences: ['api'] })).secret!;
});
after(() => t.close());

const token = () =>
  t.form('/oauth/token', { grant_type: 'client_credentials', scope: 'read' }, { authorization: basic('svc', secret) });

it('malformed-client-row: a client whose grant types are not a JSON array gets no token (500 server_error, fail closed)', async () => {
  assert.equal((await token()).status, 200);
  const store = contextOf(t.server).store as SqlStore;
  await execute(store, `update clients set grant_types = '"client_credentials"' where id = 'svc'`);
  const r = await token();
  assert.equal(r.status, 500);
  assert.deepEqual(r.body, { error: 'server_error', error_description: 'internal error' });
  await execute(store, `update clients set grant_types = '["client_credentials"]' where id = 'svc'`);
  assert.equal((await token()).status, 200);
});

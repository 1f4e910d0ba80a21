import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery';

/**
 * A user's OpenID Connect profile (name, given_name, family_name, email, email_verified) through the admin API:
 * set at creation or by PATCH, checked by the admin service (lengths, control characters, the email's syntax),
 * audited by the names of the claims changed, never their values.
 */
describe('admin API: user profile', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  const create = async (username: string, profile: Record<string, unknown> = {}) => {
    const r = await t.admin('POST', '/admin/users', { username, password: PASSWORD, ...profile });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as Record<string, unknown> & { id: string };
  };

  it('creates a user with a profile and shows it; a user without one shows nulls', async () => {
    const u = await create('pat', { name: 'Pat Example', given_name: 'Pat', email: 'pat@example.com', email_verified: true });
    assert.deepEqual(
      [u.name, u.given_name, u.family_name, u.email, u.email_verified],
      ['Pat Example', 'Pat', null, 'pat@example.com', true],
    );
    const plain = await create('quinn');
    assert.deepEqual(
      [plain.name, plain.given_name, plain.family_name, plain.email, plain.email_verified],
      [null, null, null, null, false],
    );
    assert.deepEqual((await t.admin('GET', `/admin/users/${u.id}`)).body, u);
  });

  it('PATCH sets the claims given, clears those set to null, and leaves the others', async () => {
    const u = await create('robin', { name: 'Robin', email: 'robin@example.com', email_verified: true });
    const r = await t.admin('PATCH', `/admin/users/${u.id}`, { family_name: 'Example', name: null });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      [r.body.name, r.body.family_name, r.body.email, r.body.email_verified],
      [null, 'Example', 'robin@example.com', true],
    );
    // A new address is unverified unless the change says otherwise.
    const moved = await t.admin('PATCH', `/admin/users/${u.id}`, { email: 'robin@example.org' });
    assert.deepEqual([moved.body.email, moved.body.email_verified], ['robin@example.org', false]);
    const verified = await t.admin('PATCH', `/admin/users/${u.id}`, { email: 'r@example.net', email_verified: true });
    assert.deepEqual([verified.body.email, verified.body.email_verified], ['r@example.net', true]);
  });

  it('refuses a bad email, an over-long or empty name, control characters and a non-boolean email_verified with 400', async () => {
    const u = await create('sam');
    const bad: Record<string, unknown>[] = [
      { email: 'not-an-address' },
      { email: 'two@@example.com' },
      { email: 'space in@example.com' },
      { email: 'sam@' },
      { email: 'sam@-example.com' },
      { email: `${'a'.repeat(65)}@example.com` },
      { email: `sam@${'a'.repeat(250)}.com` },
      { name: 'x'.repeat(257) },
      { name: '   ' },
      { given_name: 'tab\there' },
      { family_name: 'line\u2028break' },
      { email_verified: 'yes' },
      { email: 42 },
      {},
      { nickname: 'sammy' },
    ];
    for (const body of bad) {
      const r = await t.admin('PATCH', `/admin/users/${u.id}`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'invalid_request', JSON.stringify(body));
    }
    const refused = await t.admin('POST', '/admin/users', { username: 'tess', password: PASSWORD, email: 'tess@' });
    assert.equal(refused.status, 400);
    assert.equal((await t.admin('GET', `/admin/users/${u.id}`)).body.email, null, 'nothing written');
  });

  it('answers 404 for an unknown user', async () => {
    const r = await t.admin('PATCH', '/admin/users/no-such-user', { name: 'Nobody' });
    assert.equal(r.status, 404);
  });

  it('audits a change by the claims it names, without their values', async () => {
    const u = await create('uma');
    assert.equal((await t.admin('PATCH', `/admin/users/${u.id}`, { email: 'uma@example.com', name: 'Uma' })).status, 200);
    const audit = await t.admin('GET', '/admin/audit?type=admin.user.profile_set');
    const event = (audit.body.items as { subject: string; data: { fields: string[] } }[]).find((e) => e.subject === u.id);
    assert.ok(event, 'the change is audited');
    assert.deepEqual([...event.data.fields].sort(), ['email', 'name']);
    assert.ok(!JSON.stringify(audit.body).includes('uma@example.com'), 'the address is not in the audit trail');
  });
});

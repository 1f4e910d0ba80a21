/**
 * Several auth-server instances as real processes on one PostgreSQL and one Redis, behind a load balancer,
 * with verifier processes following the revocation feed (three through the event stream, two on Redis
 * directly). Revocation made on one instance is enforced by every verifier; refresh rotation holds across
 * instances; the deployment survives an instance killed under load, Redis restarted and PostgreSQL cut off.
 *
 * Needs PostgreSQL (see helpers/postgres.ts) and the redis-server binary: skipped with the reason when they
 * are missing, except in CI, where they fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  ADMIN_SCOPE,
  adminAudience,
  createUserAccount,
  loadMasterKey,
  openPostgresStore,
  registerClient,
  type SqlStore,
} from '@tessera/server/internal';

import { until } from '@tessera/testing';

import { Cluster, redisServerAvailable, waitFor, type VerifierProcess } from './helpers/cluster.js';
import { POSTGRES_MISSING, POSTGRES_REQUIRED, postgresAvailable } from './helpers/postgres.js';
import { basic } from './helpers/server.js';

const ready = (await postgresAvailable()) && (await redisServerAvailable());
const MISSING = `${POSTGRES_MISSING}, or redis-server is not installed`;
const skip = ready || POSTGRES_REQUIRED ? false : MISSING;
if (skip) console.log(`# cluster tests skipped: ${MISSING}`);

const AUDIENCE = 'https://orders.example';

interface TokenAnswer {
  status: number;
  body: { access_token?: string; refresh_token?: string; error?: string };
}

async function post(url: string, path: string, form: Record<string, string>, authorization: string): Promise<TokenAnswer> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as TokenAnswer['body']) : {} };
}

describe('several instances on PostgreSQL and Redis', { skip, timeout: 240_000 }, () => {
  let cluster: Cluster;
  let store: SqlStore;
  let app: { id: string; secret: string };
  let admin: { id: string; secret: string };
  let verifiers: VerifierProcess[];

  const login = async (username: string, url = cluster.url) => {
    const r = await post(
      url,
      '/oauth/token',
      { grant_type: 'password', username, password: 'correct horse battery staple', resource: AUDIENCE, scope: 'orders:read' },
      basic(app.id, app.secret),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { access: r.body.access_token!, refresh: r.body.refresh_token! };
  };
  const adminToken = async (url: string) => {
    const r = await post(
      url,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: adminAudience(cluster.url) },
      basic(admin.id, admin.secret),
    );
    assert.equal(r.status, 200);
    return r.body.access_token!;
  };
  /** Every verifier answers `status` for `token`, within `timeoutMs`. */
  const everywhere = (token: string, status: number, timeoutMs = 5_000) =>
    Promise.all(
      verifiers.map((v, i) =>
        waitFor(`verifier ${i} to answer ${status}`, async () => (await v.check(token)) === status, timeoutMs),
      ),
    );

  before(async () => {
    assert.ok(ready, `${MISSING} (required when CI=true)`);
    cluster = await Cluster.start({ instances: 3 });
    store = openPostgresStore(cluster.directDatabase);
    const master = loadMasterKey({ masterKey: cluster.env.TESSERA_MASTER_KEY!, masterKeyFile: '', create: false });
    const now = Date.now();
    const reg = async (input: Parameters<typeof registerClient>[2]) => {
      const { client, secret } = await registerClient(store, master, input, now);
      return { id: client.id, secret: secret! };
    };
    app = await reg({
      id: 'web',
      grantTypes: ['password', 'refresh_token'],
      firstParty: true,
      scopes: ['orders:read'],
      audiences: [AUDIENCE],
    });
    admin = await reg({
      id: 'ops',
      grantTypes: ['client_credentials'],
      scopes: [ADMIN_SCOPE],
      audiences: [adminAudience(cluster.url)],
    });
    const follower = await reg({
      id: 'orders-service',
      grantTypes: ['client_credentials'],
      scopes: ['tessera:revocations'],
      audiences: [`${cluster.url}/revocations`],
    });
    await store.roles.put({ name: 'reader', permissions: ['orders:read'] });
    for (const username of ['alice', 'bob', 'carol'])
      await createUserAccount(store, { username, password: 'correct horse battery staple', roles: ['reader'] }, now);
    const common = { VERIFIER_CLIENT_ID: follower.id, VERIFIER_CLIENT_SECRET: follower.secret, VERIFIER_AUDIENCE: AUDIENCE };
    verifiers = await Promise.all([
      cluster.addVerifier(common),
      cluster.addVerifier(common),
      cluster.addVerifier(common),
      cluster.addVerifier({ ...common, VERIFIER_REDIS_URL: cluster.redis!.url, VERIFIER_MAX_STALE_MS: '3000' }),
      cluster.addVerifier({ ...common, VERIFIER_REDIS_URL: cluster.redis!.url, VERIFIER_MAX_STALE_MS: '3000' }),
    ]);
  });

  after(
    async () => {
      await store?.close();
      await cluster?.close();
    },
    { timeout: 60_000 },
  );

  it('every instance serves the same JWKS', async () => {
    const sets = await Promise.all(cluster.instances.map(async (i) => (await fetch(`${i.url}/.well-known/jwks.json`)).json()));
    for (const s of sets.slice(1)) assert.deepEqual(s, sets[0]);
  });

  it('a token revoked through instance A is refused by every verifier', async () => {
    const { access } = await login('alice', cluster.instances[1]!.url);
    await everywhere(access, 200);
    const r = await post(cluster.instances[0]!.url, '/oauth/revoke', { token: access }, basic(app.id, app.secret));
    assert.equal(r.status, 200);
    await everywhere(access, 401);
    const jti = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString()).jti as string;
    for (const v of verifiers) assert.ok(v.revocations.some((e) => e.kind === 'jti' && e.value === jti));
  });

  it("a subject cut-off refuses all of that user's tokens at once, and no one else's", async () => {
    const tokens = await Promise.all(cluster.instances.map((i) => login('bob', i.url)));
    const carol = await login('carol');
    for (const t of tokens) await everywhere(t.access, 200);
    const bobId = (await store.users.getByUsername('bob'))!.id;
    const res = await fetch(`${cluster.instances[1]!.url}/admin/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await adminToken(cluster.instances[2]!.url)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: bobId }),
    });
    assert.equal(res.status, 200);
    for (const t of tokens) await everywhere(t.access, 401);
    await everywhere(carol.access, 200);
    // A login after the cut-off works.
    await everywhere((await login('bob')).access, 200);
  });

  it('100 concurrent refreshes of one refresh token over 3 instances: exactly one wins', async () => {
    const { refresh } = await login('carol');
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        post(
          cluster.instances[i % 3]!.url,
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token: refresh },
          basic(app.id, app.secret),
        ),
      ),
    );
    const won = answers.filter((a) => a.status === 200);
    assert.equal(won.length, 1, `winners: ${won.length}`);
    for (const a of answers.filter((x) => x.status !== 200)) assert.equal(a.body.error, 'invalid_grant');
    // The reuse revoked the family: the winner's new refresh token is dead too, and its access token is refused.
    const again = await post(
      cluster.url,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: won[0]!.body.refresh_token! },
      basic(app.id, app.secret),
    );
    assert.equal(again.body.error, 'invalid_grant');
    await everywhere(won[0]!.body.access_token!, 401);
  });

  it('an instance killed with SIGKILL under load: clients go on through the others, no refresh token is spent twice, no revocation is lost', async () => {
    const users = ['alice', 'bob', 'carol'];
    const chains = await Promise.all(users.map((u) => login(u)));
    const spent = new Map<string, number>();
    const revoked: string[] = [];
    let stop = false;
    const retrying = async (fn: () => Promise<TokenAnswer>): Promise<TokenAnswer> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          if (attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const worker = async (chain: { access: string; refresh: string }) => {
      let current = chain.refresh;
      while (!stop) {
        const r = await retrying(() =>
          post(cluster.url, '/oauth/token', { grant_type: 'refresh_token', refresh_token: current }, basic(app.id, app.secret)),
        );
        if (r.status !== 200) {
          // A refresh whose answer was lost with the killed instance, retried: the store refuses the second spend.
          assert.equal(r.body.error, 'invalid_grant');
          return;
        }
        spent.set(current, (spent.get(current) ?? 0) + 1);
        current = r.body.refresh_token!;
        const access = r.body.access_token!;
        const rv = await retrying(() => post(cluster.url, '/oauth/revoke', { token: access }, basic(app.id, app.secret)));
        assert.equal(rv.status, 200);
        revoked.push(access);
      }
    };
    let ended = 0;
    const load = Promise.all(chains.map((chain) => worker(chain).finally(() => ended++)));
    await until('the load to be under way', () => revoked.length >= 10, 10_000);
    await cluster.instances[2]!.kill();
    const atKill = revoked.length;
    // A client whose answer was lost with the killed instance stops (see worker); the others go on.
    await until(
      'clients to go on through the other instances',
      () => revoked.length >= atKill + 10 || ended === chains.length,
      15_000,
    );
    stop = true;
    await load;
    assert.ok(revoked.length > 10, `only ${revoked.length} revocations under load`);
    for (const [token, n] of spent) assert.equal(n, 1, `refresh token ${token.slice(0, 6)}... spent ${n} times`);
    // Every revocation acknowledged, before or after the kill, is enforced everywhere.
    for (const access of revoked) await everywhere(access, 401);
  });

  it('Redis restarted: verifiers resync, and nothing revoked is accepted', async () => {
    const before = await login('alice');
    const during = await login('alice');
    await everywhere(before.access, 200);
    await cluster.redis!.kill();
    // Instances still agree through the database; verifiers on the event stream still hear of it.
    const r = await post(cluster.instances[0]!.url, '/oauth/revoke', { token: during.access }, basic(app.id, app.secret));
    assert.equal(r.status, 200);
    for (const v of verifiers.slice(0, 3))
      await waitFor('a stream verifier to refuse', async () => (await v.check(during.access)) === 401);
    // Verifiers on Redis hear nothing: past their staleness window (3 s) they fail closed, refusing every token.
    for (const v of verifiers.slice(3))
      await waitFor('a Redis verifier to fail closed', async () => (await v.check(during.access)) === 503, 20_000);
    for (const v of verifiers.slice(3)) assert.equal(await v.check(before.access), 503);
    await cluster.redis!.start();
    // Back: they resync from the snapshot. From then on the revoked token is refused, the other accepted.
    await everywhere(during.access, 401, 15_000);
    await everywhere(before.access, 200, 15_000);
  });

  it('PostgreSQL cut off: instances report not ready, then recover without a restart', async () => {
    const live = cluster.instances.filter((i) => i.proc.exitCode === null && i.proc.signalCode === null);
    const readiness = () =>
      Promise.all(live.map(async (i) => (await fetch(`${i.url}/readyz`, { signal: AbortSignal.timeout(5_000) })).status));
    assert.deepEqual(
      await readiness(),
      live.map(() => 200),
    );
    cluster.pgProxy.cut();
    await waitFor('every instance to report not ready', async () => (await readiness()).every((s) => s === 503), 15_000);
    cluster.pgProxy.restore();
    await waitFor('every instance to report ready', async () => (await readiness()).every((s) => s === 200), 15_000);
    const { access } = await login('carol');
    await everywhere(access, 200);
  });
});

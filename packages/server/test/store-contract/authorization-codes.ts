import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import type { AuthorizationCode, SqlStore } from '@tessera/server/internal';

import { aFamily, aToken, HOUR, RECORD, T0 } from './fixtures.js';

function aCode(c: Partial<AuthorizationCode> & Pick<AuthorizationCode, 'digest'>): AuthorizationCode {
  return {
    clientId: 'spa',
    userId: 'u1',
    redirectUri: 'https://app.example.com/cb',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scope: 'profile orders:read',
    audience: ['api'],
    authTime: T0 - 1000,
    createdAt: T0,
    expiresAt: T0 + 60_000,
    usedAt: null,
    familyId: null,
    browserSessionId: null,
    nonce: null,
    acr: null,
    amr: [],
    ...c,
  };
}

/** The store contract's part for AuthorizationCodeRepository. `current` is the running test's store (fresh, migrated). */
export function authorizationCodesContract(current: () => SqlStore): void {
  describe('authorization codes', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });
    const family = (id: string) => aFamily({ id, userId: 'u1', clientId: 'spa', createdAt: T0 + 1, lastUsedAt: T0 + 1 });

    it('keeps the OpenID Connect data of a code (nonce, acr, amr) through its redemption', async () => {
      const oidc = { nonce: 'n-0S6_WzA2Mj', acr: 'urn:example:acr:pwd', amr: ['pwd', 'otp'] };
      await store.authorizationCodes.create(aCode({ digest: 'c1', ...oidc }));
      assert.deepEqual(await store.authorizationCodes.get('c1'), aCode({ digest: 'c1', ...oidc }));
      assert.equal(await store.authorizationCodes.redeem('c1', T0 + 1, family('f1'), undefined), true);
      assert.deepEqual(
        await store.authorizationCodes.get('c1'),
        aCode({ digest: 'c1', ...oidc, usedAt: T0 + 1, familyId: 'f1' }),
      );
    });

    it("keeps a code's DPoP key (dpop_jkt) through its redemption", async () => {
      const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
      await store.authorizationCodes.create(aCode({ digest: 'c1', dpopJkt: jkt }));
      assert.deepEqual(await store.authorizationCodes.get('c1'), aCode({ digest: 'c1', dpopJkt: jkt }));
      assert.equal(await store.authorizationCodes.redeem('c1', T0 + 1, { ...family('f1'), dpopJkt: jkt }, undefined), true);
      assert.equal((await store.authorizationCodes.get('c1'))?.dpopJkt, jkt);
      assert.equal((await store.refreshFamilies.get('f1'))?.dpopJkt, jkt);
    });

    it('reads a code back intact; redeem spends it once and starts its family with the first refresh token', async () => {
      await store.authorizationCodes.create(aCode({ digest: 'c1' }));
      assert.deepEqual(await store.authorizationCodes.get('c1'), aCode({ digest: 'c1' }));
      const first = aToken('rt1', 'f1', { createdAt: T0 + 1 });
      assert.equal(await store.authorizationCodes.redeem('c1', T0 + 1, family('f1'), first), true);
      assert.deepEqual(await store.authorizationCodes.get('c1'), aCode({ digest: 'c1', usedAt: T0 + 1, familyId: 'f1' }));
      assert.deepEqual(await store.refreshFamilies.get('f1'), family('f1'));
      assert.deepEqual((await store.refreshFamilies.findToken('rt1'))?.token, first);
      assert.equal(await store.authorizationCodes.redeem('c1', T0 + 2, family('f2'), undefined), false);
      assert.equal(await store.refreshFamilies.get('f2'), undefined);
      assert.equal((await store.authorizationCodes.get('c1'))?.familyId, 'f1');
    });

    it('redeem without a refresh token starts a family that holds none', async () => {
      await store.authorizationCodes.create(aCode({ digest: 'c1' }));
      assert.equal(await store.authorizationCodes.redeem('c1', T0 + 1, family('f1'), undefined), true);
      assert.deepEqual(await store.refreshFamilies.get('f1'), family('f1'));
    });

    it('refuses an expired or unknown code, and leaves the expired one unspent', async () => {
      await store.authorizationCodes.create(aCode({ digest: 'c1' }));
      assert.equal(await store.authorizationCodes.redeem('c1', T0 + 60_000, family('f1'), undefined), false);
      assert.equal((await store.authorizationCodes.get('c1'))?.usedAt, null);
      assert.equal(await store.authorizationCodes.redeem('nope', T0, family('f2'), undefined), false);
      assert.equal(await store.refreshFamilies.get('f1'), undefined);
      assert.equal(await store.refreshFamilies.get('f2'), undefined);
    });

    it('of concurrent redemptions of one code exactly one succeeds, and one family exists', async () => {
      await store.authorizationCodes.create(aCode({ digest: 'c1' }));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.authorizationCodes.redeem('c1', T0 + 1, family(`f${i}`), undefined)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      const winner = `f${results.indexOf(true)}`;
      assert.equal((await store.authorizationCodes.get('c1'))?.familyId, winner);
      for (let i = 0; i < 10; i++) assert.equal((await store.refreshFamilies.get(`f${i}`)) !== undefined, `f${i}` === winner);
    });

    it('a redemption whose family cannot be written leaves the code unspent (one transaction)', async () => {
      await store.refreshFamilies.create(family('taken'), aToken('rt0', 'taken'));
      await store.authorizationCodes.create(aCode({ digest: 'c1' }));
      await assert.rejects(store.authorizationCodes.redeem('c1', T0 + 1, family('taken'), undefined));
      assert.deepEqual(await store.authorizationCodes.get('c1'), aCode({ digest: 'c1' }));
      assert.equal(await store.authorizationCodes.redeem('c1', T0 + 2, family('f1'), undefined), true);
    });

    it('a code of a browser session redeems while the session is live; once it has ended or expired the code stays unspent', async () => {
      const session = (digest: string, absoluteExpiresAt = T0 + HOUR) => ({
        id: `id-${digest}`,
        digest,
        userId: 'u1',
        authTime: T0,
        createdAt: T0,
        idleExpiresAt: absoluteExpiresAt,
        absoluteExpiresAt,
      });
      await store.browserSessions.create(session('live'));
      await store.browserSessions.create(session('ended'));
      await store.browserSessions.create(session('expiring', T0 + 2));
      for (const d of ['live', 'ended', 'expiring'])
        await store.authorizationCodes.create(aCode({ digest: `c-${d}`, browserSessionId: `id-${d}` }));
      await store.browserSessions.end({ digest: 'ended' }, 'logout', T0, RECORD);
      const bound = (id: string) => ({ ...family(id), browserSessionId: 'id-live' });
      assert.equal(await store.authorizationCodes.redeem('c-live', T0 + 2, bound('f1'), undefined), true);
      assert.equal((await store.refreshFamilies.get('f1'))?.browserSessionId, 'id-live');
      assert.equal((await store.authorizationCodes.get('c-live'))?.browserSessionId, 'id-live');
      for (const d of ['ended', 'expiring']) {
        assert.equal(await store.authorizationCodes.redeem(`c-${d}`, T0 + 2, family(`f-${d}`), undefined), false, d);
        assert.deepEqual(await store.authorizationCodes.get(`c-${d}`), aCode({ digest: `c-${d}`, browserSessionId: `id-${d}` }));
        assert.equal(await store.refreshFamilies.get(`f-${d}`), undefined);
      }
    });

    it('redemptions racing the end of their browser sessions: each family is revoked with its session, or its code stays unspent', async () => {
      const n = 24;
      for (let i = 0; i < n; i++) {
        await store.browserSessions.create({
          id: `id-s${i}`,
          digest: `s${i}`,
          userId: 'u1',
          authTime: T0,
          createdAt: T0,
          idleExpiresAt: T0 + HOUR,
          absoluteExpiresAt: T0 + HOUR,
        });
        await store.authorizationCodes.create(aCode({ digest: `c${i}`, browserSessionId: `id-s${i}` }));
      }
      const outcomes = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const bound = { ...family(`f${i}`), browserSessionId: `id-s${i}` };
          const [redeemed, ended] = await Promise.all([
            store.authorizationCodes.redeem(`c${i}`, T0 + 1, bound, undefined),
            store.browserSessions.end({ id: `id-s${i}` }, 'logout', T0 + 1, RECORD),
          ]);
          return { i, redeemed, revoked: ended?.revocations.map((r) => r.value) ?? [] };
        }),
      );
      for (const { i, redeemed, revoked } of outcomes) {
        const f = await store.refreshFamilies.get(`f${i}`);
        if (redeemed) {
          assert.notEqual(f?.revokedAt, null, `f${i} outlived its session`);
          assert.deepEqual(revoked, [`f${i}`]);
        } else {
          assert.equal(f, undefined);
          assert.equal((await store.authorizationCodes.get(`c${i}`))?.usedAt, null);
        }
      }
    });

    it('prune deletes codes that expired before the given time, at most limit at a time', async () => {
      for (let i = 0; i < 3; i++) await store.authorizationCodes.create(aCode({ digest: `old${i}`, expiresAt: T0 + i }));
      await store.authorizationCodes.create(aCode({ digest: 'live' }));
      assert.equal(await store.authorizationCodes.prune(T0 + 5, 2), 2);
      assert.equal(await store.authorizationCodes.prune(T0 + 5, 2), 1);
      assert.ok(await store.authorizationCodes.get('live'));
    });
  });
}

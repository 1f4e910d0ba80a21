/** RemoteJwks reading a SPIFFE bundle endpoint (the SPIRE stand-in): the JWT authorities, kept for the refresh hint. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { JwsVerifier } from '@tessera/core';
import { RemoteJwks } from '@tessera/verifier';
import { startSpireServer, until, type SpireServer } from '@tessera/testing';

describe('RemoteJwks of a SPIFFE bundle endpoint', () => {
  let spire: SpireServer;
  before(async () => {
    spire = await startSpireServer({ trustDomain: 'example.org', refreshHintSeconds: 120 });
  });
  after(() => spire.close());

  it('takes the jwt-svid keys, verifies a JWT-SVID with them, and keeps them for spiffe_refresh_hint', async () => {
    let clock = Date.now();
    const remote = new RemoteJwks(spire.bundleUrl, ['ES256'], { format: 'spiffe-bundle', now: () => clock });
    try {
      const keys = await remote.getKeySet();
      const jwtKids = spire
        .jwks()
        .keys.filter((k) => k.use === 'jwt-svid')
        .map((k) => k.kid);
      assert.deepEqual(
        keys.keys.map((k) => k.kid),
        jwtKids,
        'the X.509 authority is left out',
      );
      const svid = await spire.svid({ spiffeId: '/ns/shop/sa/orders', audience: 'https://auth.example.com' });
      assert.equal(new JwsVerifier({ algorithms: ['ES256'] }).verify(svid, keys).header.kid, jwtKids[0]);
      const served = spire.requests;
      clock += 119_000;
      await remote.getKeySet();
      assert.equal(spire.requests, served, 'fresh for the refresh hint');
      clock += 2_000;
      await remote.getKeySet();
      await until('the refetch once the hint has passed', () => spire.requests === served + 1);
    } finally {
      remote.close();
    }
  });

  it('refuses a body that is no SPIFFE bundle, as it refuses a bad JWKS', async () => {
    const remote = new RemoteJwks(`${spire.url}/nowhere`, ['ES256'], { format: 'spiffe-bundle' });
    try {
      await assert.rejects(remote.getKeySet(), { code: 'ERR_KEYS_UNAVAILABLE' });
    } finally {
      remote.close();
    }
  });
});

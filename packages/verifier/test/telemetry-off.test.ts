/**
 * Without an OpenTelemetry SDK (nothing registered in this process), the verifier's spans are the API's no-op:
 * verifications, refusals and JWKS fetches work as ever and nothing throws.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { trace } from '@opentelemetry/api';
import { TokenExpiredError } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';

import { HOSTS } from './helpers/hosts.js';
import { AUDIENCE, ISSUER, startJwksServer, TestIssuer, type JwksServer } from './helpers/issuer.js';

const issuer = new TestIssuer('ES256');

describe('no OpenTelemetry SDK registered', () => {
  let jwks: JwksServer;
  before(async () => {
    jwks = await startJwksServer(issuer);
  });
  after(() => jwks.close());

  it('the API is the no-op one here: its spans do not record', () => {
    const span = trace.getTracer('probe').startSpan('probe');
    assert.equal(span.isRecording(), false);
    span.end();
  });

  it('verifications (fresh, cached, refused) and a JWKS fetch work, nothing throws', async () => {
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwksUri: jwks.url });
    try {
      const token = issuer.token();
      assert.equal((await verifier.verify(token)).sub, 'alice');
      assert.equal(jwks.requests, 1);
      assert.equal(verifier.authorizeCached(`Bearer ${token}`)?.sub, 'alice');
      assert.equal(
        (await verifier.authorizeRequest({ authorization: `Bearer ${token}`, method: 'GET', url: '/x', host: 'h' })).sub,
        'alice',
      );
      const expired = issuer.token({ ttl: 60 }, { now: () => Date.now() - 3_600_000 });
      await assert.rejects(verifier.verify(expired), TokenExpiredError);
    } finally {
      verifier.close();
    }
  });

  it('through an adapter: accepted, then refused', async () => {
    const host = await HOSTS[0]!.start(
      createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: issuer.jwks() }),
    );
    try {
      assert.equal((await host.request('/orders', `Bearer ${issuer.token()}`)).status, 200);
      assert.equal((await host.request('/orders')).status, 401);
    } finally {
      await host.close();
    }
  });
});

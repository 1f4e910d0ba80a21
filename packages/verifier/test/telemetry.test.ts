/**
 * OpenTelemetry traces of the verifier, with the SDK registered (in-memory exporter): one `tessera.verify` span
 * per request through every adapter (outcome, cached, binding; no token or subject in any attribute), and a
 * `tessera.jwks.fetch` span per JWKS fetch, the child of the verification that waited for it.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { registerTestTracing } from '@tessera/testing';
import { createVerifier } from '@tessera/verifier';

import { DpopHolder } from './helpers/dpop.js';
import { HOSTS, type Host } from './helpers/hosts.js';
import { AUDIENCE, deadUrl, ISSUER, startJwksServer, TestIssuer, type JwksServer } from './helpers/issuer.js';

const tracing = registerTestTracing();
const issuer = new TestIssuer('ES256');

/** No attribute of any span holds a token (or a part of one) or the subject. */
function assertNothingPersonal(spans: readonly ReadableSpan[], tokens: readonly string[], sub: string): void {
  for (const span of spans) {
    for (const [name, value] of Object.entries(span.attributes)) {
      const text = String(value);
      assert.notEqual(name, 'enduser.id', `${span.name} carries enduser.id`);
      assert.ok(!text.includes(sub), `${span.name} ${name} holds the subject`);
      for (const token of tokens)
        for (const part of token.split('.')) assert.ok(!text.includes(part), `${span.name} ${name} holds a token part`);
    }
    assert.ok(!(span.status.message ?? '').includes(sub));
  }
}

function only(name: string): ReadableSpan {
  const spans = tracing.spans(name);
  assert.equal(spans.length, 1, `${spans.length} ${name} spans: ${spans.map((s) => JSON.stringify(s.attributes)).join(' ')}`);
  return spans[0]!;
}

for (const { name, start } of HOSTS) {
  describe(`tessera.verify span through ${name}`, () => {
    const sub = 'subject-not-in-telemetry';
    let host: Host;
    let holder: DpopHolder;
    before(async () => {
      holder = await DpopHolder.create();
      host = await start(createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: issuer.jwks() }));
    });
    after(() => host.close());
    beforeEach(() => tracing.reset());

    it('an accepted request: one span, outcome ok, not cached; the second request with the token: cached', async () => {
      const token = issuer.token({ sub });
      assert.equal((await host.request('/orders', `Bearer ${token}`)).status, 200);
      const first = only('tessera.verify');
      assert.equal(first.attributes['tessera.outcome'], 'ok');
      assert.equal(first.attributes['tessera.cached'], false);
      assert.equal(first.attributes['tessera.binding'], undefined);
      assert.equal(first.status.code, SpanStatusCode.UNSET);
      tracing.reset();
      assert.equal((await host.request('/orders', `Bearer ${token}`)).status, 200);
      const second = only('tessera.verify');
      assert.equal(second.attributes['tessera.outcome'], 'ok');
      assert.equal(second.attributes['tessera.cached'], true);
      assertNothingPersonal([first, second], [token], sub);
    });

    it('a refused request: one span with the error code as outcome and status ERROR', async () => {
      const expired = issuer.token({ sub, ttl: 60 }, { now: () => Date.now() - 3_600_000 });
      assert.equal((await host.request('/orders', `Bearer ${expired}`)).status, 401);
      const span = only('tessera.verify');
      assert.equal(span.attributes['tessera.outcome'], 'ERR_TOKEN_EXPIRED');
      assert.equal(span.attributes['tessera.cached'], false);
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.status.message, 'ERR_TOKEN_EXPIRED');
      assertNothingPersonal([span], [expired], sub);
    });

    // Express checks a route's scopes in `requireScope`, a middleware of its own after the verification: its span
    // says the token was good (ok), the 403 is the route's.
    const scopeOutcome = name === 'express' ? 'ok' : 'ERR_INSUFFICIENT_SCOPE';
    it(`a cached token refused for its scopes: one span, cached, ${scopeOutcome}`, async () => {
      const token = issuer.token({ sub });
      assert.equal((await host.request('/orders', `Bearer ${token}`)).status, 200);
      tracing.reset();
      assert.equal((await host.request('/orders/write', `Bearer ${token}`)).status, 403);
      const span = only('tessera.verify');
      assert.equal(span.attributes['tessera.cached'], true);
      assert.equal(span.attributes['tessera.outcome'], scopeOutcome);
      assert.equal(span.status.code, scopeOutcome === 'ok' ? SpanStatusCode.UNSET : SpanStatusCode.ERROR);
    });

    it('no Authorization header: one span, ERR_TOKEN_MISSING', async () => {
      assert.equal((await host.request('/orders')).status, 401);
      const span = only('tessera.verify');
      assert.equal(span.attributes['tessera.outcome'], 'ERR_TOKEN_MISSING');
      assert.equal(span.status.code, SpanStatusCode.ERROR);
    });

    it('a DPoP-bound token: binding dpop, fresh then cached; its proof refused: the proof error code', async () => {
      const token = issuer.token({ sub, claims: { cnf: { jkt: holder.jkt } } });
      const htu = `${host.base}/orders`;
      const call = async (proof: string) => (await host.request('/orders', `DPoP ${token}`, { dpop: proof })).status;
      assert.equal(await call(await holder.proof({ htu, token })), 200);
      assert.equal(await call(await holder.proof({ htu, token })), 200);
      const [fresh, cached] = tracing.spans('tessera.verify');
      assert.equal(tracing.spans('tessera.verify').length, 2);
      assert.deepEqual(
        [fresh!.attributes['tessera.binding'], fresh!.attributes['tessera.cached'], fresh!.attributes['tessera.outcome']],
        ['dpop', false, 'ok'],
      );
      assert.deepEqual(
        [cached!.attributes['tessera.binding'], cached!.attributes['tessera.cached'], cached!.attributes['tessera.outcome']],
        ['dpop', true, 'ok'],
      );
      tracing.reset();
      assert.equal(await call(await holder.proof({ htu, token, htm: 'POST' })), 401);
      const refused = only('tessera.verify');
      assert.equal(refused.attributes['tessera.binding'], 'dpop');
      assert.equal(refused.attributes['tessera.outcome'], 'ERR_DPOP_PROOF');
      assert.equal(refused.status.code, SpanStatusCode.ERROR);
      assertNothingPersonal([fresh!, cached!, refused], [token], sub);
    });
  });
}

describe('Verifier methods: one span per call', () => {
  beforeEach(() => tracing.reset());
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: issuer.jwks() });

  it('verify and authorize each make one span; authorizeCached none on a miss, one on a hit', async () => {
    const token = issuer.token();
    assert.equal(verifier.authorizeCached(`Bearer ${token}`), undefined);
    assert.equal(tracing.spans().length, 0);
    await verifier.verify(token);
    await verifier.authorize(`Bearer ${token}`);
    verifier.authorizeCached(`Bearer ${token}`);
    const spans = tracing.spans('tessera.verify');
    assert.deepEqual(
      spans.map((s) => s.attributes['tessera.cached']),
      [false, true, true],
    );
    assert.equal(tracing.spans().length, 3);
  });

  it('a revoked token: ERR_TOKEN_REVOKED', async () => {
    const revoking = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwks: issuer.jwks(),
      isRevoked: () => true,
    });
    await assert.rejects(revoking.verify(issuer.token()));
    assert.equal(only('tessera.verify').attributes['tessera.outcome'], 'ERR_TOKEN_REVOKED');
  });
});

describe('tessera.jwks.fetch span', () => {
  let jwks: JwksServer;
  before(async () => {
    jwks = await startJwksServer(issuer);
  });
  after(() => jwks.close());
  beforeEach(() => tracing.reset());

  it('a fetch: a client span with the URL without its query, the status and outcome ok, child of the verification', async () => {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwksUri: `${jwks.url}?tenant=secret-looking`,
    });
    try {
      await verifier.verify(issuer.token());
      const fetch = only('tessera.jwks.fetch');
      const verify = only('tessera.verify');
      assert.equal(fetch.kind, SpanKind.CLIENT);
      assert.equal(fetch.attributes['url.full'], jwks.url);
      assert.equal(fetch.attributes['http.response.status_code'], 200);
      assert.equal(fetch.attributes['tessera.outcome'], 'ok');
      assert.equal(fetch.attributes['error.type'], undefined);
      assert.equal(fetch.parentSpanContext?.spanId, verify.spanContext().spanId);
      assert.equal(fetch.spanContext().traceId, verify.spanContext().traceId);
    } finally {
      verifier.close();
    }
  });

  it('an endpoint answering 503: status code, outcome ERR_JWKS_FETCH, error.type status, status ERROR', async () => {
    jwks.mode = 'down';
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwksUri: jwks.url });
    try {
      await assert.rejects(verifier.verify(issuer.token()));
      const fetch = only('tessera.jwks.fetch');
      assert.equal(fetch.attributes['http.response.status_code'], 503);
      assert.equal(fetch.attributes['tessera.outcome'], 'ERR_JWKS_FETCH');
      assert.equal(fetch.attributes['error.type'], 'status');
      assert.equal(fetch.status.code, SpanStatusCode.ERROR);
      assert.equal(only('tessera.verify').attributes['tessera.outcome'], 'ERR_KEYS_UNAVAILABLE');
    } finally {
      jwks.mode = 'ok';
      verifier.close();
    }
  });

  it('nothing listening: error.type network, no status code', async () => {
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwksUri: await deadUrl() });
    try {
      await assert.rejects(verifier.verify(issuer.token()));
      const fetch = only('tessera.jwks.fetch');
      assert.equal(fetch.attributes['error.type'], 'network');
      assert.equal(fetch.attributes['http.response.status_code'], undefined);
      assert.equal(fetch.status.code, SpanStatusCode.ERROR);
    } finally {
      verifier.close();
    }
  });
});

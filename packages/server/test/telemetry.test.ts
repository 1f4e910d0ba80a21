/**
 * The auth server's OpenTelemetry traces, read from the trace SDK's in-memory exporter (one NodeTracerProvider
 * registered for this file, with the W3C trace-context propagator): a token request is one `tessera.token` span
 * (grant, client, binding, outcome; status ERROR when refused; a caller's traceparent makes it a child), an admin
 * action one `tessera.admin.<area>.<action>` span, a revocation one `tessera.revocation` span with its
 * publication. No attribute or log line holds a token, secret, password or username; a log line written inside a
 * token request carries the trace and span ids of its span.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';

import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

import { CLI_ACTOR } from '@tessera/server/internal';
import { createTestPki, type TestPki } from '@tessera/testing';

import { RedisProcess, redisServerAvailable } from './helpers/cluster.js';
import { basic, startMutualTlsServer, startServer, type TestServer } from './helpers/server.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// register()'s propagator is the W3C one: trace context (traceparent) and baggage.
provider.register();

const PASSWORD = 'correct horse battery staple';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

const spansNamed = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

function only(name: string): ReadableSpan {
  const spans = spansNamed(name);
  assert.equal(
    spans.length,
    1,
    `one ${name} span, got ${exporter
      .getFinishedSpans()
      .map((s) => s.name)
      .join(', ')}`,
  );
  return spans[0]!;
}

/** Fails when any attribute or event of any finished span holds one of `secrets`. */
function assertNoneHolds(secrets: readonly string[]): void {
  const text = JSON.stringify(
    exporter.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })),
  );
  for (const secret of secrets) assert.ok(!text.includes(secret), `a span holds ${secret.slice(0, 12)}...`);
}

async function dpopProof(htu: string): Promise<{ proof: string; jkt: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const proof = await new SignJWT({ htm: 'POST', htu, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(privateKey);
  return { proof, jkt: await calculateJwkThumbprint(jwk) };
}

after(() => provider.shutdown());

describe('telemetry: spans', () => {
  let t: TestServer;
  let svc: { id: string; secret: string | undefined };
  let app: { id: string; secret: string | undefined };
  let aliceId: string;

  before(async () => {
    t = await startServer();
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    app = await t.client({
      id: 'web-app',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['profile'],
      audiences: ['api'],
      firstParty: true,
    });
    aliceId = await t.user('alice', PASSWORD);
  });
  after(() => t.close());
  afterEach(() => exporter.reset());

  it('a token request is one tessera.token span: grant, client, outcome, no secret', async () => {
    const r = await t.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(svc.id, svc.secret!) });
    assert.equal(r.status, 200);
    const span = only('tessera.token');
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.attributes['oauth.grant_type'], 'client_credentials');
    assert.equal(span.attributes['oauth.client_id'], 'svc');
    assert.equal(span.attributes['tessera.outcome'], 'success');
    assert.equal(span.attributes['tessera.binding'], undefined, 'a bearer token is bound to nothing');
    assert.notEqual(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.parentSpanContext, undefined, 'without traceparent the span starts a trace');
    assertNoneHolds([svc.secret!, r.body.access_token as string]);
  });

  it('a refused request: the OAuth error as outcome, status ERROR, nothing of the credentials', async () => {
    const wrong = 'not-the-secret-' + randomUUID();
    const r = await t.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(svc.id, wrong) });
    assert.equal(r.status, 401);
    const span = only('tessera.token');
    assert.equal(span.attributes['tessera.outcome'], 'invalid_client');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['oauth.client_id'], undefined, 'a client that failed to authenticate is not named');
    assert.equal(span.attributes['oauth.grant_type'], 'client_credentials');

    exporter.reset();
    const badPassword = 'wrong-' + randomUUID();
    const p = await t.form(
      '/oauth/token',
      { grant_type: 'password', username: 'alice', password: badPassword },
      { authorization: basic(app.id, app.secret!) },
    );
    assert.equal(p.status, 400);
    const refused = only('tessera.token');
    assert.equal(refused.attributes['tessera.outcome'], 'invalid_grant');
    assert.equal(refused.attributes['oauth.client_id'], 'web-app');
    assert.equal(refused.status.code, SpanStatusCode.ERROR);
    assertNoneHolds([wrong, badPassword, 'alice', app.secret!]);
  });

  it('a DPoP-bound token: tessera.binding dpop', async () => {
    const { proof } = await dpopProof(`${t.url}/oauth/token`);
    const r = await t.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(svc.id, svc.secret!), dpop: proof },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'DPoP');
    const span = only('tessera.token');
    assert.equal(span.attributes['tessera.binding'], 'dpop');
    assertNoneHolds([proof, r.body.access_token as string]);
  });

  it("continues the caller's trace: the traceparent's span is the parent", async () => {
    const r = await t.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(svc.id, svc.secret!), traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    );
    assert.equal(r.status, 200);
    const span = only('tessera.token');
    assert.equal(span.spanContext().traceId, TRACE_ID);
    assert.equal(span.parentSpanContext?.spanId, PARENT_SPAN_ID);
    assert.equal(span.parentSpanContext?.isRemote, true);
  });

  it('an admin action is one tessera.admin span; its revocation one tessera.revocation span inside it', async () => {
    await t.adminToken();
    exporter.reset();
    const r = await t.admin('POST', `/admin/users/${aliceId}/disable`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const action = only('tessera.admin.users.disable');
    assert.equal(action.attributes['tessera.user.id'], aliceId);
    assert.equal(action.attributes['tessera.actor.kind'], 'admin_api');
    assert.equal(action.attributes['tessera.outcome'], 'success');

    const revocation = only('tessera.revocation');
    assert.equal(revocation.attributes['tessera.revocation.kind'], 'subject');
    assert.equal(typeof revocation.attributes['tessera.revocation.seq'], 'number');
    assert.equal(revocation.parentSpanContext?.spanId, action.spanContext().spanId, 'the revocation is part of the action');
    assert.equal(revocation.spanContext().traceId, action.spanContext().traceId);
    assert.ok(revocation.events.some((e) => e.name === 'tessera.revocation.applied'));

    exporter.reset();
    const missing = await t.admin('POST', '/admin/users/no-such-user/enable');
    assert.equal(missing.status, 404);
    const refused = only('tessera.admin.users.enable');
    assert.equal(refused.status.code, SpanStatusCode.ERROR);
    assert.equal(refused.attributes['tessera.outcome'], 'ERR_NOT_FOUND');
    assert.equal(spansNamed('tessera.revocation').length, 0, 'nothing was revoked');
    await t.admin('POST', `/admin/users/${aliceId}/enable`);
  });

  it('an action of the tessera command (the admin service called directly) has actor kind cli', async () => {
    const client = await t.server.admin.clients.setDisabled(CLI_ACTOR, app.id, true);
    assert.equal(client.disabled, true);
    const action = only('tessera.admin.clients.disable');
    assert.equal(action.attributes['tessera.actor.kind'], 'cli');
    assert.equal(action.attributes['oauth.client_id'], app.id);
    assert.equal(only('tessera.revocation').attributes['tessera.revocation.kind'], 'client');
    await t.server.admin.clients.setDisabled(CLI_ACTOR, app.id, false);
  });

  it('revoking a token (RFC 7009) is a tessera.revocation span of kind jti, without the token', async () => {
    const issued = await t.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(svc.id, svc.secret!) },
    );
    const token = issued.body.access_token as string;
    exporter.reset();
    const r = await t.form('/oauth/revoke', { token }, { authorization: basic(svc.id, svc.secret!) });
    assert.equal(r.status, 200);
    const revocation = only('tessera.revocation');
    assert.equal(revocation.attributes['tessera.revocation.kind'], 'jti');
    assert.equal(revocation.attributes['tessera.outcome'], 'success');
    assertNoneHolds([token]);
  });
});

describe('telemetry: a certificate-bound token (mutual TLS)', () => {
  let pki: TestPki;
  let t: TestServer;
  before(async () => {
    pki = await createTestPki();
    t = await startMutualTlsServer(pki);
  });
  after(async () => {
    await t?.close();
    await pki?.close();
  });
  afterEach(() => exporter.reset());

  it('tessera.binding is mtls', async () => {
    await t.client({
      id: 'orders',
      grantTypes: ['client_credentials'],
      scopes: [],
      audiences: ['api'],
      authMethod: 'tls_client_auth',
      tlsClientAuthSubject: { kind: 'subject_dn', value: 'CN=orders,O=Acme' },
    });
    const identity = await pki.issueClient('orders', { subject: '/O=Acme/CN=orders' });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${t.url}/oauth/token`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          ca: pki.ca.cert,
          cert: identity.cert,
          key: identity.key,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.end(new URLSearchParams({ grant_type: 'client_credentials', client_id: 'orders' }).toString());
    });
    assert.equal(status, 200);
    const span = only('tessera.token');
    assert.equal(span.attributes['tessera.binding'], 'mtls');
    assert.equal(span.attributes['oauth.client_id'], 'orders');
  });
});

const redisReady = await redisServerAvailable();
const redisSkip = redisReady || process.env.CI === 'true' ? false : 'redis-server is not installed';

describe('telemetry: a revocation published on the Redis bus', { skip: redisSkip }, () => {
  let redis: RedisProcess;
  let t: TestServer;
  before(async () => {
    redis = await RedisProcess.start();
    t = await startServer({ overrides: { redisUrl: redis.url } });
  });
  after(async () => {
    await t?.close();
    await redis?.kill();
  });
  afterEach(() => exporter.reset());

  it('the publication is a child span of the revocation', async () => {
    const svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    const issued = await t.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(svc.id, svc.secret!) },
    );
    exporter.reset();
    const r = await t.form(
      '/oauth/revoke',
      { token: issued.body.access_token as string },
      { authorization: basic(svc.id, svc.secret!) },
    );
    assert.equal(r.status, 200);
    const revocation = only('tessera.revocation');
    const publish = only('tessera.revocation.publish');
    assert.equal(publish.parentSpanContext?.spanId, revocation.spanContext().spanId);
    assert.equal(publish.attributes['tessera.revocation.seq'], revocation.attributes['tessera.revocation.seq']);
    assert.equal(publish.attributes['tessera.outcome'], 'success');
  });
});

describe('telemetry: logs', () => {
  interface Line {
    msg?: string;
    trace_id?: string;
    span_id?: string;
  }

  it('no credential reaches a debug log line; a line inside a token request carries its span', async () => {
    let text = '';
    const logStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const t = await startServer({ logStream, overrides: { logLevel: 'debug', logRequests: true } });
    try {
      const app = await t.client({
        id: 'web-app',
        grantTypes: ['password', 'refresh_token'],
        scopes: ['profile'],
        audiences: ['api'],
        firstParty: true,
        authMethod: 'client_secret_post',
      });
      const svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
      await t.user('logan-the-user', PASSWORD);
      exporter.reset();
      const cookie = `__Host-tessera-session=${randomUUID()}`;
      const { proof } = await dpopProof(`${t.url}/oauth/token`);
      // The client secret in the form (client_secret_post), the user's password, a DPoP proof and a cookie.
      const issued = await t.form(
        '/oauth/token',
        { grant_type: 'password', username: 'logan-the-user', password: PASSWORD, client_id: app.id, client_secret: app.secret! },
        { dpop: proof, cookie },
      );
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const refreshToken = issued.body.refresh_token as string;
      assert.ok(refreshToken);
      // The refresh token.
      const { proof: proof2 } = await dpopProof(`${t.url}/oauth/token`);
      const refreshed = await t.form(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.id, client_secret: app.secret! },
        { dpop: proof2 },
      );
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      // A client authenticated by its Authorization header.
      const authorization = basic(svc.id, svc.secret!);
      const service = await t.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization });
      assert.equal(service.status, 200);
      // Credentials in a query string: refused, and the URL logged redacted.
      const querySecret = 'query-secret-' + randomUUID();
      const inQuery = await fetch(`${t.url}/oauth/token?client_secret=${querySecret}&password=${querySecret}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      assert.equal(inQuery.status, 400);
      await inQuery.text();
      const tokenSpans = spansNamed('tessera.token');
      await t.close();

      const lines = text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line);
      assert.ok(
        lines.some((l) => l.msg === 'request completed'),
        'the request lines are written',
      );
      const secrets = [
        PASSWORD,
        'logan-the-user',
        app.secret!,
        refreshToken,
        issued.body.access_token as string,
        refreshed.body.refresh_token as string,
        svc.secret!,
        authorization.slice('Basic '.length),
        service.body.access_token as string,
        proof,
        proof2,
        cookie.slice(cookie.indexOf('=') + 1),
        querySecret,
      ];
      for (const secret of secrets) assert.ok(!text.includes(secret), `the log holds ${secret.slice(0, 12)}...`);

      const inside = lines.filter((l) => l.msg === 'token request');
      assert.ok(tokenSpans.length >= 3, 'the three token requests have their spans');
      assert.equal(inside.length, tokenSpans.length, 'one line inside each token request');
      for (const span of tokenSpans) {
        const { traceId, spanId } = span.spanContext();
        assert.ok(
          inside.some((l) => l.trace_id === traceId && l.span_id === spanId),
          `a line carries the ids of span ${spanId}`,
        );
      }
      const completed = lines.filter((l) => l.msg === 'request completed');
      assert.ok(
        completed.every((l) => l.trace_id === undefined || /^[0-9a-f]{32}$/.test(l.trace_id)),
        'trace ids are W3C ids',
      );
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});

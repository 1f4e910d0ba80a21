/**
 * ServiceTokenSource with a workload token file (no secret) against a real auth server that trusts a Kubernetes
 * cluster (the Kubernetes stand-in, its keys by OpenID Connect discovery): the projected service-account token
 * gets access tokens whose `workload` claim names the service account; after kubelet rotates the file (its
 * `..data` symlink swapped) the next renewal presents the new token, at a time when the server refuses the
 * old one (expired); a missing, empty or non-JWT file is a TokenRequestError that names the file and holds none
 * of it, and no request is sent; the options' exactly-one checks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { ConfigError, decodeUnverified, generateKey } from '@tessera/core';
import { contextOf, parseWorkloadIssuer } from '@tessera/server/internal';
import {
  recordingFetch,
  SteppedClock,
  startKubernetesIssuer,
  writeProjectedToken,
  type KubernetesIssuer,
} from '@tessera/testing';
import { ServiceTokenSource, TokenRequestError } from '@tessera/verifier';

import { startServer, type TestServer } from './helpers/server.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SUB = 'system:serviceaccount:shop:orders';

describe('ServiceTokenSource with a workload token file', () => {
  let t: TestServer;
  let k8s: KubernetesIssuer;
  let dir: string;
  // The server's and the sources' clock: moved forward to let tokens expire without waiting.
  const clock = new SteppedClock();
  const now = clock.now;

  before(async () => {
    // Every refusal written to the audit log (none suppressed per second): the tests read why the server refused.
    t = await startServer({ now, overrides: { auditFailuresPerSecond: 0 } });
    k8s = await startKubernetesIssuer();
    dir = mkdtempSync(join(tmpdir(), 'tessera-workload-'));
    await t.client({
      id: 'orders',
      authMethod: 'workload_identity',
      grantTypes: ['client_credentials'],
      scopes: ['inventory:read'],
      audiences: ['inventory'],
      accessTokenTtl: 300,
    });
    const at = Date.now();
    await contextOf(t.server).store.workloadIssuers.create({
      ...parseWorkloadIssuer({
        name: 'cluster',
        issuer: k8s.issuer,
        keys: { discovery: true },
        audience: t.url,
        single_use: false,
        rules: [{ client: 'orders', claims: { sub: SUB } }],
      }),
      createdAt: at,
      updatedAt: at,
    });
  });
  after(async () => {
    await t.close();
    await k8s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const projectedToken = (iatOffset = 0) =>
    k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: t.url, expirationSeconds: 600, iatOffset });

  it('gets tokens naming the workload; after kubelet rotates the file, the next renewal presents the new token', async () => {
    const first = await projectedToken();
    const file = await writeProjectedToken(join(dir, 'kube-api-access'), first);
    const sent: string[] = [];
    const source = new ServiceTokenSource({
      issuer: t.url,
      clientId: 'orders',
      workloadTokenFile: file,
      now,
      fetch: recordingFetch('client_assertion', sent),
    });
    const request = { audience: 'inventory', scope: 'inventory:read' };

    const a = await source.getToken(request);
    const claims = decodeUnverified(a).payload;
    assert.equal(claims.client_id, 'orders');
    assert.deepEqual(claims.workload, { iss: k8s.issuer, sub: SUB });
    assert.equal(await source.getToken(request), a, 'cached: the file is not read again until a renewal');
    assert.deepEqual(sent, [first]);

    // Ten minutes on: kubelet has written a new token (the ..data swap), the first one and the access token
    // have expired. The server refuses the first token now, so the renewal succeeds only with the new one.
    clock.advance(700_000);
    const second = await projectedToken(700);
    assert.equal(await writeProjectedToken(join(dir, 'kube-api-access'), second), file, 'the same path, another token');
    const stale = await t.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'orders',
      client_assertion_type: JWT_BEARER,
      client_assertion: first,
    });
    assert.equal(stale.status, 401, 'the server refuses the expired first token');
    assert.equal(stale.body.error, 'invalid_client');
    const [refused] = await contextOf(t.server).store.audit.query({ type: 'client.workload_refused', limit: 1 });
    assert.equal(refused?.data.reason, 'exp_expired');

    const b = await source.getToken(request);
    assert.notEqual(b, a);
    assert.deepEqual(sent, [first, second], 'the renewal read the file again and sent the rotated token');
    assert.deepEqual(decodeUnverified(b).payload.workload, { iss: k8s.issuer, sub: SUB });
    const { jti: firstJti } = decodeUnverified(first).payload;
    assert.notEqual(decodeUnverified(second).payload.jti, firstJti);
  });

  it('a missing, empty, non-JWT or directory path: a TokenRequestError naming the file and why, none of its content, nothing sent', async () => {
    const secretish = 's3cr3t-not-a-token-value';
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const garbage = join(dir, 'garbage');
    writeFileSync(garbage, `${secretish}\n`);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    const missing = join(dir, 'not-mounted', 'token');
    for (const [file, why] of [
      [missing, 'does not exist'],
      [empty, 'is empty'],
      [garbage, 'does not hold a JWT'],
      [folder, 'is a directory'],
    ] as const) {
      const sent: string[] = [];
      const source = new ServiceTokenSource({
        issuer: t.url,
        clientId: 'orders',
        workloadTokenFile: file,
        fetch: recordingFetch('client_assertion', sent),
      });
      const err = await source.getToken({ audience: 'inventory' }).then(
        () => assert.fail(`${file}: a token`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof TokenRequestError, String(err));
      assert.equal(err.code, 'ERR_TOKEN_REQUEST');
      assert.equal(err.message, `the workload token file ${file} ${why}`);
      assert.equal(err.file, file);
      assert.equal(err.status, undefined);
      assert.ok(!inspect(err, { depth: 5 }).includes(secretish), 'the content is nowhere in the error');
      assert.deepEqual(sent, [], 'no request without a token');
    }
  });

  it('a token the server refuses: the OAuth error, not the token', async () => {
    const other = await k8s.token({ namespace: 'shop', serviceAccount: 'billing', audience: t.url });
    const file = await writeProjectedToken(join(dir, 'billing'), other);
    const source = new ServiceTokenSource({ issuer: `${t.url}/`, clientId: 'orders', workloadTokenFile: file });
    const err = await source.getToken({ audience: 'inventory' }).then(
      () => assert.fail('a token for another service account'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TokenRequestError);
    assert.equal(err.status, 401);
    assert.equal(err.error, 'invalid_client');
    assert.equal(err.file, undefined);
    assert.ok(!inspect(err, { depth: 5 }).includes(other));
  });

  it('the token endpoint of an issuer URL stays on its host, whatever its path', async () => {
    const file = await writeProjectedToken(
      join(dir, 'host'),
      await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: t.url }),
    );
    const asked: string[] = [];
    const source = new ServiceTokenSource({
      issuer: `${t.url}//evil.example/`,
      clientId: 'orders',
      workloadTokenFile: file,
      fetch: (input, init) => {
        asked.push(String(input));
        return fetch(input, init);
      },
    });
    await source.getToken({ audience: 'inventory' }).catch(() => undefined);
    assert.deepEqual(asked, [`${t.url}//evil.example/oauth/token`]);
  });

  it('options: exactly one way to authenticate, exactly one of issuer and tokenEndpoint, assertionType only with a file', async () => {
    const key = await generateKey('ES256');
    const base = { clientId: 'orders', issuer: 'https://auth.example.com' };
    const bad: [Record<string, unknown>, string][] = [
      [{ ...base, clientSecret: 's', workloadTokenFile: '/t' }, 'clientSecret'],
      [{ ...base, privateKey: key, workloadTokenFile: '/t' }, 'clientSecret'],
      [{ ...base }, 'clientSecret'],
      [{ ...base, workloadTokenFile: '' }, 'workloadTokenFile'],
      [{ ...base, clientSecret: 's', assertionType: 'jwt-spiffe' }, 'assertionType'],
      [{ ...base, workloadTokenFile: '/t', assertionType: 'spiffe' }, 'assertionType'],
      [{ ...base, workloadTokenFile: '/t', tokenEndpoint: 'https://auth.example.com/oauth/token' }, 'tokenEndpoint'],
      [{ clientId: 'orders', workloadTokenFile: '/t' }, 'tokenEndpoint'],
      [{ clientId: 'orders', issuer: 'https://auth.example.com/?tenant=a', workloadTokenFile: '/t' }, 'issuer'],
    ];
    for (const [options, field] of bad) {
      assert.throws(
        () => new ServiceTokenSource(options as never),
        (err: unknown) => err instanceof ConfigError && err.option === field,
        JSON.stringify({ ...options, privateKey: undefined }),
      );
    }
  });
});

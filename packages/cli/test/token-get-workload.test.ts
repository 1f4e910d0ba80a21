/**
 * `tessera token get --workload-token-file` as a person (or a pod's shell) types it, a real child process
 * against a real auth server that trusts a Kubernetes cluster and a SPIRE trust domain (the stand-ins): a
 * relative path to the projected token is read from the current directory and the token printed names the
 * workload; `--spiffe` sends a JWT-SVID file as jwt-spiffe; a missing file is named with why, exit 1; a secret
 * on the command line is still refused, and the two ways to authenticate are not mixed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';
import { createServer, type TesseraServer } from '@tessera/server';
import { contextOf, parseWorkloadIssuer, registerClient } from '@tessera/server/internal';
import {
  startKubernetesIssuer,
  startSpireServer,
  writeProjectedToken,
  writeSvid,
  type KubernetesIssuer,
  type SpireServer,
} from '@tessera/testing';

import { tempDir, tessera } from './helpers/cli.js';

const ORDERS_SA = 'system:serviceaccount:shop:orders';

describe('tessera token get --workload-token-file', () => {
  let root: { dir: string; remove: () => Promise<void> };
  let server: TesseraServer;
  let issuer: string;
  let k8s: KubernetesIssuer;
  let spire: SpireServer;

  before(async () => {
    root = await tempDir();
    const data = join(root.dir, 'data');
    mkdirSync(data);
    server = await createServer({ overrides: { dataDir: data, port: 0, logLevel: 'silent' } });
    await server.listen();
    issuer = server.config.issuer;
    k8s = await startKubernetesIssuer();
    spire = await startSpireServer({ trustDomain: 'example.org' });
    const ctx = contextOf(server);
    for (const id of ['orders', 'shop-workers']) {
      await registerClient(
        ctx.store,
        ctx.master,
        {
          id,
          authMethod: 'workload_identity',
          grantTypes: ['client_credentials'],
          scopes: ['inventory:read'],
          audiences: ['inventory'],
        },
        ctx.now(),
      );
    }
    const at = Date.now();
    for (const wire of [
      {
        name: 'shop-cluster',
        issuer: k8s.issuer,
        keys: { discovery: true },
        audience: issuer,
        single_use: false,
        rules: [{ client: 'orders', claims: { sub: ORDERS_SA } }],
      },
      {
        name: 'spire',
        issuer: 'spiffe://example.org',
        keys: { spiffe_bundle_endpoint: spire.bundleUrl },
        audience: issuer,
        single_use: false,
        rules: [{ client: 'shop-workers', claims: { sub: 'spiffe://example.org/ns/shop/sa/*' } }],
      },
    ]) {
      await ctx.store.workloadIssuers.create({ ...parseWorkloadIssuer(wire), createdAt: at, updatedAt: at });
    }
  });
  after(async () => {
    await server.close();
    await k8s.close();
    await spire.close();
    await root.remove();
  });

  it('a relative path to a projected token, from the folder it is typed in: the token names the workload', async () => {
    const pod = join(root.dir, 'pod');
    const token = await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: issuer });
    await writeProjectedToken(join(pod, 'var', 'run', 'tessera'), token);
    const r = await tessera(
      [
        'token',
        'get',
        '--issuer',
        issuer,
        '--client-id',
        'orders',
        '--workload-token-file',
        'var/run/tessera/token',
        '--audience',
        'inventory',
        '--scope',
        'inventory:read',
      ],
      { cwd: pod },
    );
    assert.equal(r.code, 0, r.stderr);
    const claims = decodeUnverified(r.stdout.trim()).payload;
    assert.equal(claims.client_id, 'orders');
    assert.equal(claims.aud, 'inventory');
    assert.deepEqual(claims.workload, { iss: k8s.issuer, sub: ORDERS_SA });
    assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), 'the workload token is not printed');
  });

  it('--spiffe sends a JWT-SVID file as jwt-spiffe; --json prints the whole answer', async () => {
    const helper = join(root.dir, 'spiffe-helper');
    mkdirSync(helper);
    await writeSvid(join(helper, 'jwt_svid.token'), await spire.svid({ spiffeId: '/ns/shop/sa/orders', audience: issuer }));
    const args = ['token', 'get', '--issuer', issuer, '--client-id', 'shop-workers', '--workload-token-file', './jwt_svid.token'];
    const r = await tessera([...args, '--spiffe', '--json'], { cwd: helper });
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { access_token: string; token_type: string };
    assert.equal(body.token_type, 'Bearer');
    assert.deepEqual(decodeUnverified(body.access_token).payload.workload, {
      iss: 'spiffe://example.org',
      sub: 'spiffe://example.org/ns/shop/sa/orders',
    });
  });

  it('a missing file: exit 1, the file named (resolved from the current directory) and why', async () => {
    const empty = join(root.dir, 'no-volume');
    mkdirSync(empty);
    const r = await tessera(
      ['token', 'get', '--issuer', issuer, '--client-id', 'orders', '--workload-token-file', 'var/run/tessera/token'],
      { cwd: empty },
    );
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: ERR_INPUT: the workload token file ${join(empty, 'var/run/tessera/token')} does not exist\n`);
    assert.equal(r.stdout, '');
  });

  it('a secret on the command line is still refused; a secret file and a token file are not mixed; --spiffe needs a file', async () => {
    const secret = 's3cr3t-typed-on-the-command-line';
    const base = ['token', 'get', '--issuer', issuer, '--client-id', 'orders'];
    const typed = await tessera([...base, '--client-secret', secret]);
    assert.equal(typed.code, 2);
    assert.match(typed.stderr, /^error: ERR_USAGE: unknown flag --client-secret( |$)/m);
    assert.ok(!typed.stderr.includes(secret));
    const secretFile = join(root.dir, 'secret.txt');
    writeFileSync(secretFile, secret);
    const both = await tessera([...base, '--client-secret-file', secretFile, '--workload-token-file', 'token']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^error: ERR_USAGE: give --client-secret-file or --workload-token-file, not both$/m);
    const spiffe = await tessera([...base, '--spiffe'], { env: { TESSERA_CLIENT_SECRET: secret } });
    assert.equal(spiffe.code, 2);
    assert.match(spiffe.stderr, /^error: ERR_USAGE: --spiffe goes with --workload-token-file$/m);
  });
});

/**
 * `tessera issuers` as a user runs it: child processes in a temporary folder with relative paths (--dir, the
 * JWKS file, the issuer file), on a data folder made by `tessera init`, beside a real server on port 0 that
 * shares its SQLite file: an issuer the CLI adds authenticates a workload token at that server.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { signJwt } from '@tessera/core';
import { createServer, type TesseraServer } from '@tessera/server';
import { SteppedClock } from '@tessera/testing';

import { generateKeyFiles, privateKeyOf, tempDir, tessera, type CliResult } from './helpers/cli.js';

const ISSUER = 'https://auth.example.test';
const DIR = 'data';
const CI = 'https://ci.example.com';

describe('tessera issuers add / list / show / remove', () => {
  let root: { dir: string; remove: () => Promise<void> };
  let server: TesseraServer;
  let url: string;
  // The server reads the stored issuers again every 5 s: after a change by the CLI (another process), the test
  // moves its clock past that instead of waiting.
  const clock = new SteppedClock();
  const later = () => clock.advance(5_000);

  const cli = (args: string[]): Promise<CliResult> => tessera([...args, '--dir', DIR], { cwd: root.dir });
  async function json<T = Record<string, unknown>>(args: string[]): Promise<T> {
    const r = await cli([...args, '--json']);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  before(async () => {
    root = await tempDir();
    const r = await tessera(['init', '--dir', DIR, '--issuer', ISSUER, '--json'], { cwd: root.dir });
    assert.equal(r.code, 0, r.stderr);
    // The workload's platform key: its public JWKS is what the operator hands to `issuers add --jwks-file`.
    await generateKeyFiles('ES256', join(root.dir, 'ci-key'));
    await json([
      'clients',
      'add',
      'deployer',
      '--grant',
      'client_credentials',
      '--auth-method',
      'workload_identity',
      '--audience',
      'api',
    ]);
    await json(['clients', 'add', 'reporter', '--grant', 'client_credentials', '--audience', 'api']);
    server = await createServer({
      file: join(root.dir, DIR, 'tessera.json'),
      overrides: { port: 0, logLevel: 'silent' },
      now: clock.now,
    });
    url = await server.listen();
  });
  after(async () => {
    await server?.close();
    await root.remove();
  });

  /** A CI token for the deployer's rule, signed with the key `keys generate` wrote. */
  async function exchange(claims: Record<string, unknown> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      {
        iss: CI,
        sub: 'repo:acme/shop',
        aud: ISSUER,
        iat: now,
        exp: now + 300,
        jti: randomUUID(),
        repository: 'acme/shop',
        ref: 'refs/heads/main',
        ...claims,
      },
      await privateKeyOf(join(root.dir, 'ci-key')),
    );
    const res = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: token,
        resource: 'api',
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('adds an issuer from flags (relative --jwks-file), lists it, and its tokens authenticate the client until removed', async () => {
    assert.equal((await exchange()).status, 401);
    const added = await json<Record<string, unknown>>([
      'issuers',
      'add',
      'ci',
      '--issuer',
      CI,
      '--jwks-file',
      'ci-key/jwks.json',
      '--audience',
      ISSUER,
      '--alg',
      'ES256',
      '--max-token-age',
      '600',
      '--rule',
      'deployer: repository=acme/* ref=refs/heads/main',
    ]);
    assert.equal(added.name, 'ci');
    assert.equal(added.source, 'admin');

    const list = await json<Record<string, unknown>[]>(['issuers', 'list']);
    assert.equal(list.length, 1);
    const { created_at, updated_at, keys, ...rest } = list[0]!;
    assert.equal(typeof created_at, 'number');
    assert.equal(updated_at, created_at);
    assert.equal((keys as { jwks: { keys: unknown[] } }).jwks.keys.length, 1);
    assert.deepEqual(rest, {
      name: 'ci',
      issuer: CI,
      audience: ISSUER,
      algorithms: ['ES256'],
      max_token_age: 600,
      single_use: true,
      rules: [{ client: 'deployer', claims: { repository: 'acme/*', ref: 'refs/heads/main' } }],
      source: 'admin',
    });
    const text = await cli(['issuers', 'list']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ci\thttps:\/\/ci\.example\.com\tjwks \(1 key\)\tadmin\tdeployer$/m);
    const shown = await cli(['issuers', 'show', 'ci']);
    assert.match(shown.stdout, /^rule: deployer: repository=acme\/\* ref=refs\/heads\/main$/m);

    later();
    const granted = await exchange();
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.equal((await exchange({ ref: 'refs/heads/dev' })).status, 401);

    const removed = await cli(['issuers', 'remove', 'ci']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed workload issuer ci/);
    assert.match(removed.stderr, /within 5 seconds/);
    assert.deepEqual(await json(['issuers', 'list']), []);
    later();
    assert.equal((await exchange()).status, 401);
  });

  it('adds an issuer from --file, its jwks_file relative to that file', async () => {
    await mkdir(join(root.dir, 'issuers'), { recursive: true });
    await writeFile(
      join(root.dir, 'issuers', 'kube.json'),
      JSON.stringify({
        name: 'kube',
        issuer: 'https://kube.example.com',
        keys: { jwks_file: '../ci-key/jwks.json' },
        audience: 'tessera',
        single_use: false,
        rules: [{ client: 'deployer', claims: { sub: 'system:serviceaccount:shop:deployer' } }],
      }),
    );
    const added = await json<Record<string, unknown>>(['issuers', 'add', '--file', 'issuers/kube.json']);
    assert.equal(added.single_use, false);
    assert.equal((added.keys as { jwks: { keys: unknown[] } }).jwks.keys.length, 1);
    assert.deepEqual(
      (await json<{ name: string }[]>(['issuers', 'list'])).map((i) => i.name),
      ['kube'],
    );
    assert.equal((await cli(['issuers', 'remove', 'kube'])).code, 0);
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const cases: [string[], number, RegExp][] = [
      [
        ['issuers', 'add', 'x', '--issuer', CI, '--discovery', '--audience', 'a', '--rule', 'reporter: sub=x'],
        1,
        /ERR_ADMIN_INPUT: rules\[0\]\.client: reporter authenticates by client_secret_basic, not workload_identity/,
      ],
      [
        ['issuers', 'add', 'x', '--issuer', CI, '--discovery', '--audience', 'a', '--rule', 'ghost: sub=x'],
        1,
        /ERR_ADMIN_INPUT: rules\[0\]\.client: no client ghost/,
      ],
      [
        ['issuers', 'add', 'x', '--issuer', CI, '--discovery', '--audience', 'a', '--rule', 'deployer sub=x'],
        2,
        /--rule .*no client before a colon/,
      ],
      [
        ['issuers', 'add', 'x', '--issuer', CI, '--discovery', '--audience', 'a', '--rule', 'deployer: sub'],
        2,
        /"sub" is not CLAIM=PATTERN/,
      ],
      [
        [
          'issuers',
          'add',
          'x',
          '--issuer',
          CI,
          '--discovery',
          '--jwks-uri',
          `${CI}/jwks`,
          '--audience',
          'a',
          '--rule',
          'deployer: sub=x',
        ],
        2,
        /give one of --discovery/,
      ],
      [
        ['issuers', 'add', 'x', '--issuer', CI, '--jwks-file', 'nope.json', '--audience', 'a', '--rule', 'deployer: sub=x'],
        1,
        /cannot read JWKS file nope\.json: no such file/,
      ],
      [['issuers', 'add', '--file', 'issuers/missing.json'], 1, /cannot read issuer file issuers\/missing\.json/],
      [['issuers', 'remove', 'nope'], 1, /ERR_NOT_FOUND: no workload issuer nope/],
      [['issuers', 'show', 'nope'], 1, /ERR_NOT_FOUND: no workload issuer nope/],
    ];
    for (const [args, code, why] of cases) {
      const r = await cli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why);
    }
    assert.deepEqual(await json(['issuers', 'list']), []);
  });
});

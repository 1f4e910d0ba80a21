/**
 * The packages as a user gets them: `npm run pack`'s tarballs installed into an empty project outside the
 * repository (its own node_modules, no workspace links), then, in that project, what a newcomer does first:
 * `tessera init` / `serve` / `clients add` / `token get` with their defaults, the root README's Fastify
 * route against that server, and one import of every package entry point from TypeScript (tsc --strict,
 * moduleResolution node16 and bundler) and from plain ESM.
 *
 * The install reads the npm registry (the npm cache answers when it holds everything) and builds the native
 * modules (better-sqlite3, argon2) from source when no prebuilt binary fits, honouring npm_config_nodedir:
 * minutes, most of them compiling SQLite (over ten on a busy two-core machine: scripts/test.mjs allows 15
 * minutes per test file). It runs everywhere; only a machine without
 * npm skips it, with a notice, and never when CI=true.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePort, runCommand, type CommandResult } from '@tessera/testing';

import { tsSnippets } from './snippets.js';
import { entryPoints, publishablePackages, ROOT } from './workspace.js';

const CI = process.env.CI === 'true';
const NPM_MISSING = 'npm is not on the PATH: the tarball test needs it (required when CI=true)';
const npmAvailable = spawnSync('npm', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * The environment of a user's shell: without what `npm test` adds for its own scripts (npm_config_local_prefix
 * would point npm back at this repository) and without TESSERA_* settings, but with the npm settings a machine
 * needs to install at all (the cache, the registry and its CA, the Node headers for native builds).
 */
function userEnv(): NodeJS.ProcessEnv {
  const keep = ['npm_config_nodedir', 'npm_config_cache', 'npm_config_registry', 'npm_config_cafile', 'npm_config_userconfig'];
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !(k.startsWith('TESSERA_') || k === 'INIT_CWD' || (k.toLowerCase().startsWith('npm_') && !keep.includes(k))),
    ),
  );
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return runCommand(command, args, { cwd, env: { ...userEnv(), ...env } });
}

async function ok(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await run(command, args, cwd, env);
  assert.equal(r.code, 0, `${command} ${args.join(' ')} exited with ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

interface ClientCredentials {
  client_id: string;
  client_secret: string;
}

/**
 * The credentials in the CLI's --json output: RFC 7591 names (`client_id`, `client_secret`; `init` nests the
 * admin client's in `admin_client`). Until the CLI's JSON moves to those names it printed clientId /
 * clientSecret / adminClient (init) and id (clients add): accepted here too, in this one place.
 */
function credentials(json: string, nested?: 'admin_client'): ClientCredentials {
  const top = JSON.parse(json) as Record<string, unknown>;
  const o = (nested ? (top[nested] ?? top.adminClient) : top) as Record<string, unknown>;
  const client_id = o.client_id ?? o.clientId ?? o.id;
  const client_secret = o.client_secret ?? o.clientSecret;
  assert.equal(typeof client_id, 'string', `no client_id in ${Object.keys(o).join(', ')}`);
  assert.equal(typeof client_secret, 'string', `no client_secret in ${Object.keys(o).join(', ')}`);
  return { client_id: client_id as string, client_secret: client_secret as string };
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tessera serve exited with ${child.exitCode}:\n${log()}`);
    const up = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    if (Date.now() > deadline) throw new Error(`tessera serve did not answer ${url} within 60 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe(
  'the tarballs, installed in an empty project outside the repository',
  { skip: !npmAvailable && !CI ? NPM_MISSING : false, timeout: 900_000 },
  () => {
    let work: string;
    let project: string;
    let serve: ChildProcess | undefined;
    let serveLog = '';
    let issuer = '';
    let token = '';
    /** `npx tessera ARGS` in the project, as a user types it. */
    const tessera = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      ok('npx', ['--no-install', 'tessera', ...args], project, env);

    before(async () => {
      assert.ok(npmAvailable, NPM_MISSING);
      work = mkdtempSync(join(tmpdir(), 'tessera-tarballs-'));
      project = join(work, 'app');
      const packed = await ok(process.execPath, [join(ROOT, 'scripts/pack.mjs'), join(work, 'tarballs')], ROOT);
      const tarballs = packed.trim().split('\n');
      assert.equal(tarballs.length, publishablePackages().length);
      await ok('mkdir', [project], work);
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2));
      await ok(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, 'fastify', 'typescript', '@types/node'],
        project,
      );
    });

    after(async () => {
      if (serve && serve.exitCode === null) {
        const closed = new Promise((r) => serve!.once('exit', r));
        serve.kill('SIGTERM');
        await closed;
      }
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('installs real copies, not links into the repository', () => {
      for (const { json } of publishablePackages()) {
        const dir = join(project, 'node_modules', json.name);
        assert.ok(!lstatSync(dir).isSymbolicLink(), `${json.name} is a link`);
        assert.ok(!realpathSync(dir).startsWith(ROOT), `${json.name} resolves into the repository`);
      }
      assert.equal(
        realpathSync(join(project, 'node_modules/.bin/tessera')),
        join(realpathSync(project), 'node_modules/@tessera/cli/bin/tessera.js'),
      );
      assert.ok(!readdirSync(join(project, 'node_modules')).includes('tessera'), 'the unrelated `tessera` package was installed');
    });

    it('tessera init, serve, clients add and token get with their defaults', async () => {
      assert.match(await tessera(['--help']), /Usage: tessera/);
      // `init --port`: the default 4000 may be taken on this machine; every other flag is left to its default
      // (the folder .tessera, relative to the project).
      const port = await freePort();
      const init = await tessera(['init', '--port', String(port), '--json']);
      issuer = (JSON.parse(init) as { issuer: string }).issuer;
      assert.equal(issuer, `http://127.0.0.1:${port}`);
      const admin = credentials(init, 'admin_client');

      // The bin link itself rather than npx, so that SIGTERM at the end reaches the server.
      serve = spawn(join(project, 'node_modules/.bin/tessera'), ['serve'], {
        cwd: project,
        env: userEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      serve.stdout!.setEncoding('utf8').on('data', (s: string) => (serveLog += s));
      serve.stderr!.setEncoding('utf8').on('data', (s: string) => (serveLog += s));
      await waitUntilUp(`${issuer}/healthz`, serve, () => serveLog);

      // The admin client that init printed gets a token from the server that serve started (one database).
      const getToken = (client: ClientCredentials, ...flags: string[]) =>
        tessera(['token', 'get', '--issuer', issuer, '--client-id', client.client_id, ...flags], {
          TESSERA_CLIENT_SECRET: client.client_secret,
        });
      assert.match(await getToken(admin, '--audience', `${issuer}/admin`), /^ey/);

      const add = ['clients', 'add', 'orders-reader', '--grant', 'client_credentials', '--scope', 'orders:read'];
      const client = credentials(await tessera([...add, '--audience', 'orders', '--json']));
      token = (await getToken(client, '--audience', 'orders', '--scope', 'orders:read')).trim();
      assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    });

    it("runs the root README's Fastify route against that server: 200 with a token with the scope, 401 without", async () => {
      assert.ok(token, 'needs the token of the test above');
      const snippet = tsSnippets(ROOT, 'README.md').find((s) => s.section === 'Protecting a route');
      assert.ok(snippet, 'the root README has no "Protecting a route" snippet');
      assert.ok(snippet.code.includes("'https://auth.example.com"), 'the snippet no longer names https://auth.example.com');
      // The snippet as printed, pointed at the server started above, then called over HTTP once with the token and once without.
      const source = `${snippet.code.replaceAll('https://auth.example.com', issuer)}
await app.listen({ host: '127.0.0.1', port: 0 });
const url = \`http://127.0.0.1:\${(app.server.address() as import('node:net').AddressInfo).port}/orders\`;
const withToken = await fetch(url, { headers: { authorization: \`Bearer \${process.env.TOKEN}\` } });
const without = await fetch(url);
console.log(JSON.stringify({ withToken: withToken.status, body: await withToken.json(), without: without.status, challenge: without.headers.get('www-authenticate') }));
await app.close();
`;
      writeFileSync(join(project, 'protect.ts'), source);
      await ok(
        'npx',
        [
          '--no-install',
          'tsc',
          '--strict',
          '--module',
          'node16',
          '--moduleResolution',
          'node16',
          '--target',
          'es2022',
          '--types',
          'node',
          '--outDir',
          'out',
          'protect.ts',
        ],
        project,
      );
      const result = JSON.parse(await ok(process.execPath, ['out/protect.js'], project, { TOKEN: token })) as Record<
        string,
        unknown
      >;
      assert.deepEqual(result, {
        withToken: 200,
        body: { owner: 'orders-reader' },
        without: 401,
        // Both schemes accepted (RFC 9449 section 7.1): DPoP with the algorithms its proofs may use.
        challenge: 'Bearer, DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"',
      });
    });

    describe('one import of every package entry point', () => {
      const specifiers = publishablePackages().flatMap((p) => entryPoints(p.json));
      const source = `${specifiers.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}
const modules: Record<string, object> = { ${specifiers.map((s, i) => `'${s}': m${i}`).join(', ')} };
const empty = Object.entries(modules).filter(([, m]) => Object.keys(m).length === 0).map(([name]) => name);
if (empty.length > 0) throw new Error('exports nothing: ' + empty.join(', '));
console.log(Object.keys(modules).join('\\n'));
`;
      const tsc = (...flags: string[]) =>
        ok(
          'npx',
          ['--no-install', 'tsc', '--strict', '--target', 'es2022', '--types', 'node', ...flags, 'entry-points.ts'],
          project,
        );

      it('covers every package', () => {
        for (const { json } of publishablePackages())
          if (json.exports?.['.']) assert.ok(specifiers.includes(json.name), json.name);
        assert.ok(specifiers.includes('@tessera/verifier/fastify'));
      });

      it('TypeScript, moduleResolution node16, compiled and run', async () => {
        writeFileSync(join(project, 'entry-points.ts'), source);
        await tsc('--module', 'node16', '--moduleResolution', 'node16', '--outDir', 'out-node16');
        assert.deepEqual((await ok(process.execPath, ['out-node16/entry-points.js'], project)).trim().split('\n'), specifiers);
      });

      it('TypeScript, moduleResolution bundler', async () => {
        writeFileSync(join(project, 'entry-points.ts'), source);
        await tsc('--module', 'preserve', '--moduleResolution', 'bundler', '--noEmit');
      });

      it('plain ESM (node file.mjs)', async () => {
        const js = source.replace(': Record<string, object>', '');
        writeFileSync(join(project, 'entry-points.mjs'), js);
        assert.deepEqual((await ok(process.execPath, ['entry-points.mjs'], project)).trim().split('\n'), specifiers);
      });
    });
  },
);

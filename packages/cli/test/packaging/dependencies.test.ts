/**
 * Every publishable package declares exactly what its built code imports: each bare import of dist/**.js and
 * dist/**.d.ts is a dependency or a peer dependency (else it fails in a user's project, as `fastify` did for
 * @tessera/server), each dependency is imported (else users install it for nothing, as `@fastify/formbody`),
 * and each import of another Tessera package goes through one of its `exports`. What npm would pack holds
 * every entry point and nothing of the build's own state.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import ts from 'typescript';

import { entryPoints, publishablePackages, ROOT, workspacePackages, type PackageJson } from './workspace.js';

function builtFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** The package name of a bare specifier: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const isBuiltin = (s: string): boolean => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]!);

/** Bare specifiers imported (statically, dynamically, or as types) by each built file of a package. */
function bareImports(packageDir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of builtFiles(join(ROOT, packageDir, 'dist'))) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of [...info.importedFiles, ...info.referencedFiles]) {
      if (fileName.startsWith('.') || fileName.startsWith('/') || isBuiltin(fileName)) continue;
      found.set(fileName, [...(found.get(fileName) ?? []), file.slice(ROOT.length)]);
    }
  }
  return found;
}

const byName = new Map(workspacePackages().map((p) => [p.json.name, p.json]));

describe('package dependencies match the built code', () => {
  for (const { dir, json } of publishablePackages()) {
    describe(json.name, () => {
      const imports = bareImports(dir);
      const declared = { ...json.dependencies, ...json.peerDependencies };

      it('declares every package its dist imports', () => {
        const undeclared = [...imports]
          .filter(([spec]) => packageOf(spec) !== json.name && declared[packageOf(spec)] === undefined)
          .map(([spec, files]) => `${spec} (${files[0]})`);
        assert.deepEqual(undeclared, [], `${json.name} imports packages it does not declare`);
      });

      it('imports every dependency it declares', () => {
        const used = new Set([...imports.keys()].map(packageOf));
        // @types/x is used when x is imported by a declaration file.
        const unused = Object.keys(json.dependencies ?? {}).filter(
          (dep) => !used.has(dep) && !(dep.startsWith('@types/') && used.has(dep.slice('@types/'.length))),
        );
        assert.deepEqual(unused, [], `${json.name} declares dependencies its dist never imports`);
      });

      it('imports other Tessera packages only through their exports', () => {
        const wrong = [...imports.keys()].filter((spec) => {
          const target: PackageJson | undefined = byName.get(packageOf(spec));
          return target !== undefined && !entryPoints(target).includes(spec);
        });
        assert.deepEqual(wrong, []);
      });

      it('re-exports by name only (no export *)', () => {
        const star = builtFiles(join(ROOT, dir, 'dist')).filter((f) => /^export (type )?\* from/m.test(readFileSync(f, 'utf8')));
        assert.deepEqual(star, []);
      });
    });
  }
});

describe('what npm packs', () => {
  const packed = new Map<string, Set<string>>();
  const publishable = publishablePackages();
  const list = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', ...publishable.flatMap((p) => ['--workspace', p.dir])], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as { name: string; files: { path: string }[] }[];
  for (const entry of list) packed.set(entry.name, new Set(entry.files.map((f) => f.path)));

  for (const { json } of publishable) {
    it(`${json.name}: every entry point, type file and bin is in the tarball; no build state or tests`, () => {
      const files = packed.get(json.name);
      assert.ok(files, `npm pack did not pack ${json.name}`);
      const targets = [
        json.main,
        json.types,
        ...Object.values(json.bin ?? {}),
        ...Object.values(json.exports ?? {}).flatMap((t) => (typeof t === 'string' ? [t] : [t.types, t.default])),
      ].filter((t): t is string => t !== undefined);
      const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !files.has(t));
      assert.deepEqual(missing, []);
      assert.ok(files.has('README.md'));
      const stray = [...files].filter((f) => f.endsWith('.tsbuildinfo') || f.includes('dist-test/') || f.startsWith('src/'));
      assert.deepEqual(stray, []);
    });
  }

  it('the private @tessera/testing is not publishable', () => {
    assert.ok(!publishable.some((p) => p.json.name === '@tessera/testing'));
  });
});

describe('@tessera/server entry points', () => {
  it('the main entry exports the server, its settings, the admin service and the errors its caller meets, nothing internal', async () => {
    const entry = await import('@tessera/server');
    assert.deepEqual(Object.keys(entry).sort(), [
      'AdminError',
      'AdminInputError',
      'ConflictError',
      'KeyDecryptionError',
      'NotFoundError',
      'SERVER_ERROR_CODES',
      'SETTINGS',
      'StoreMigrationError',
      'StoreUnavailableError',
      'UnknownRoleError',
      'createServer',
      'loadConfig',
    ]);
  });

  it('the ./internal subpath carries what the CLI uses', async () => {
    const internal = await import('@tessera/server/internal');
    for (const name of ['initialize', 'registerClient', 'createUserAccount', 'userView', 'KeyManager', 'SqlStore']) {
      assert.ok(name in internal, name);
    }
  });
});

describe('@tessera/realtime entry points', () => {
  it('the main entry exports the gateway, channel policy, brokers, configuration and codes, no broker internals', async () => {
    const entry = await import('@tessera/realtime');
    assert.deepEqual(Object.keys(entry).sort(), [
      'ApiRequestError',
      'BrokerError',
      'CHANNEL_ACTIONS',
      'ChannelError',
      'ChannelPolicy',
      'ChannelRights',
      'DEFAULT_LIMITS',
      'Disconnect',
      'ErrorCode',
      'FrameError',
      'GATEWAY_SETTINGS',
      'Gateway',
      'MAX_CHANNEL_LENGTH',
      'MemoryBroker',
      'PERSONAL_PREFIX',
      'REALTIME_ERROR_CODES',
      'RedisBroker',
      'SUBSCRIPTION_TOKEN_TYPE',
      'Unsubscribe',
      'createGateway',
      'loadGatewayConfig',
      'parseGatewayConfig',
      'runGateway',
      'signSubscriptionToken',
      'systemClock',
    ]);
  });

  it('the ./internal subpath carries what a Broker implementation shares with the built-in ones', async () => {
    const internal = await import('@tessera/realtime/internal');
    assert.deepEqual(Object.keys(internal).sort(), ['NO_STREAM', 'newEpoch', 'sameStream', 'selectHistory', 'withDeadline']);
  });
});

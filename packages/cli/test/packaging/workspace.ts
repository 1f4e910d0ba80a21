/** The repository's workspace packages, as the packaging tests see them (read from the package.json files). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (packages/cli/dist-test/packaging -> ../../../..). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  files?: string[];
  exports?: Record<string, string | { types: string; default: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Folder relative to the root, e.g. packages/server. */
  dir: string;
  json: PackageJson;
}

const readJson = (file: string): PackageJson => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/** Every workspace package, in the root package.json's order. */
export function workspacePackages(): WorkspacePackage[] {
  const { workspaces } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return workspaces.map((dir) => ({ dir, json: readJson(join(ROOT, dir, 'package.json')) }));
}

/** The packages `npm run pack` packs: every one not marked private. */
export function publishablePackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => !p.json.private);
}

/** Every import specifier of a package's public surface: `name` for ".", `name/sub` for "./sub" (package.json excluded). */
export function entryPoints(pkg: PackageJson): string[] {
  return Object.keys(pkg.exports ?? {})
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
}

/** The tarball name `npm pack` gives a package: @tessera/core 0.1.0 -> tessera-core-0.1.0.tgz. */
export function tarballName(pkg: PackageJson): string {
  return `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;
}

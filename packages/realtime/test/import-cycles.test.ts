/**
 * No import cycle in the source of any package (type-only imports included: a cycle of types is still two
 * modules that cannot be read, or split, one without the other). The graph is the relative imports of each
 * package's src; imports of other packages go through their entry points and the layering (core <- verifier
 * <- server, rpc, realtime <- cli) keeps those acyclic.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const PACKAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `from '...'`, `import '...'` and `import('...')` of a relative path. */
const RELATIVE_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The relative imports of each file, resolved to the source file they name (`./x.js` is `./x.ts`). */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(RELATIVE_IMPORT)].map((m) =>
      resolve(dirname(file), m[1]!)
        .replace(/\.js$/, '.ts')
        .replace(/\.mjs$/, '.mts'),
    );
    graph.set(file, deps);
  }
  return graph;
}

/** Every cycle a depth-first walk meets, each as the list of files around it (relative to `base`). */
function findCycles(dir: string, base: string): string[][] {
  const graph = importGraph(dir);
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (!graph.has(dep)) continue;
      if (state.get(dep) === 'open') cycles.push([...path.slice(path.indexOf(dep)), dep].map((f) => relative(base, f)));
      else if (state.get(dep) === undefined) visit(dep);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (state.get(file) === undefined) visit(file);
  return cycles;
}

describe('import cycles', () => {
  it('no package has an import cycle in its src', () => {
    const packages = readdirSync(PACKAGES).filter((p) => {
      try {
        return statSync(join(PACKAGES, p, 'src')).isDirectory();
      } catch {
        return false;
      }
    });
    assert.ok(packages.includes('realtime') && packages.includes('server'), `packages found: ${packages.join(', ')}`);
    const cycles = packages.flatMap((p) => findCycles(join(PACKAGES, p, 'src'), PACKAGES));
    assert.deepEqual(
      cycles.map((c) => c.join(' -> ')),
      [],
    );
  });

  it('finds a cycle through a type-only import and a re-export', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
      writeFileSync(join(dir, 'b.ts'), "export { c as B } from './c.js';\n");
      writeFileSync(join(dir, 'c.ts'), "import { x } from './a.js';\nexport const c = x;\n");
      writeFileSync(join(dir, 'd.ts'), "import { c } from './c.js';\nexport const d = c;\n");
      assert.deepEqual(findCycles(dir, dir), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

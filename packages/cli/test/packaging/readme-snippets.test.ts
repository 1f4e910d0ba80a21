/**
 * Every ```ts block of the root README and of each package's README compiles with `tsc --strict` against the
 * packages as built, each block a module of its own (see snippets.ts for the preamble convention).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import ts from 'typescript';

import { tsSnippets, type Snippet } from './snippets.js';
import { ROOT, workspacePackages } from './workspace.js';

const READMES = ['README.md', ...workspacePackages().map((p) => join(p.dir, 'README.md'))].filter(
  (f) => f !== join('packages/testing', 'README.md'),
);
// Inside the repository, so that `@tessera/*`, fastify and express resolve as they do for the packages.
const OUT = join(ROOT, 'packages/cli/dist-test/readme-snippets');

/** Compiles the snippets, one file each; returns the diagnostics per snippet, as tsc prints them. */
function compile(snippets: Snippet[]): Map<Snippet, string[]> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // The rpc README's './gen/inventory/v1/inventory_pb.js': the code protoc-gen-es makes for the example service.
  symlinkSync(join(ROOT, 'packages/rpc/test/gen'), join(OUT, 'gen'));
  const files = snippets.map((s, i) => {
    const file = join(OUT, `snippet-${i}.ts`);
    // The preamble on the first line, so the snippet's own lines keep their numbers (+1) in messages.
    writeFileSync(file, `${s.preamble.replace(/\n/g, ' ')}\n${s.code}\nexport {};\n`);
    return file;
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    lib: ['lib.es2023.d.ts'],
    skipLibCheck: true,
  });
  const result = new Map<Snippet, string[]>(snippets.map((s) => [s, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const index = d.file ? files.indexOf(d.file.fileName) : -1;
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const snippet = snippets[index];
    if (snippet === undefined || !d.file) {
      result.set(snippets[0]!, [...result.get(snippets[0]!)!, `(outside the snippets) ${text}`]);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    result.get(snippet)!.push(`line ${line} of the block: TS${d.code} ${text}`);
  }
  return result;
}

describe('README snippets compile with tsc --strict', () => {
  after(() => rmSync(OUT, { recursive: true, force: true }));
  const snippets = READMES.flatMap((f) => tsSnippets(ROOT, f));
  const diagnostics = compile(snippets);

  it('finds the snippets (the root README has its Fastify route)', () => {
    assert.ok(snippets.some((s) => s.where.startsWith('README.md:') && s.section === 'Protecting a route'));
    assert.ok(snippets.length >= 10, `only ${snippets.length} snippets found`);
  });

  for (const snippet of snippets) {
    it(`${snippet.where} (${snippet.section})`, () => {
      assert.deepEqual(diagnostics.get(snippet), []);
    });
  }
});

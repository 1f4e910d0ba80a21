/**
 * The ```ts blocks of the READMEs, as a user copies them. A block that needs declarations it does not show
 * (the `verifier` made in the block above, the request a handler receives) names them in an HTML comment
 * right above it, which Markdown does not display:
 *
 *     <!-- preamble: declare const token: string; -->
 *     ```ts
 *     ...
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
  /** e.g. packages/verifier/README.md:68 (the line of the opening fence). */
  where: string;
  /** Declarations the block assumes (from its preamble comment), else ''. */
  preamble: string;
  code: string;
  /** The title of the section the block is in. */
  section: string;
}

const FENCE = /^```ts\s*$/;
const PREAMBLE = /<!--\s*preamble:((?:(?!-->)[\s\S])*)-->\s*$/;

export function tsSnippets(root: string, file: string): Snippet[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const found: Snippet[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#')) section = line.replace(/^#+\s*/, '');
    if (!FENCE.test(line)) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: unterminated code block`);
    const before = lines.slice(Math.max(0, i - 20), i).join('\n');
    found.push({
      where: `${file}:${i + 1}`,
      preamble: PREAMBLE.exec(before)?.[1]?.trim() ?? '',
      code: lines.slice(i + 1, end).join('\n'),
      section,
    });
    i = end;
  }
  return found;
}

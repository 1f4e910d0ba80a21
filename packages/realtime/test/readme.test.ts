/** The README's code tables against the code, both ways. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { Disconnect, ErrorCode, Unsubscribe } from '@tessera/realtime';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const codes = readme.slice(readme.indexOf('## Codes'));
const table = (title: string) => {
  const start = codes.indexOf(title);
  assert.ok(start >= 0, title);
  const end = codes.indexOf('\n\n', codes.indexOf('| --- |', start));
  return [...codes.slice(start, end).matchAll(/^\| (\d+) \| ([^|]+?) \|/gm)].map((m) => [Number(m[1]), m[2]!.trim()] as const);
};

describe('README codes', () => {
  it('every disconnect the gateway sends is in the table, with its reason', () => {
    const rows = table('Disconnects');
    const sent = Object.values(Disconnect).map((d) => [d.code, d.reason] as const);
    assert.deepEqual([...rows].sort(), [...sent].sort());
  });

  it('every error in the table is the protocol error of that code', () => {
    const rows = table('Errors in replies');
    const byCode = new Map(Object.values(ErrorCode).map((c) => [c as number, c]));
    for (const [code] of rows) assert.ok(byCode.has(code), String(code));
  });

  it('unsubscribe codes are described', () => {
    for (const u of Object.values(Unsubscribe)) assert.ok(readme.includes(`${u.code} \`${u.reason}\``), `${u.code} ${u.reason}`);
  });
});

// What the instruction-count benchmarks (bench/http-instructions.mjs, bench/token-endpoint-instructions.mjs)
// share: running a server under valgrind's callgrind with counting off, switching it on, and reading one
// window's counts, with V8's optimizing compiler and major GC counted apart.
import { execFileSync } from 'node:child_process';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Exits with a clear message when valgrind or callgrind_control is missing. */
export function requireValgrind() {
  try {
    execFileSync('valgrind', ['--version']);
    execFileSync('callgrind_control', ['-h']);
  } catch {
    console.error('valgrind (with callgrind_control) is needed: apt-get install valgrind');
    process.exit(1);
  }
}

export const valgrindVersion = () => execFileSync('valgrind', ['--version']).toString().trim();

/** A wrap (from [cmd, args] to [cmd, args]) that runs the command under callgrind, dumps going to `dir`. */
export const underCallgrind = (dir) => (cmd, args) => [
  'valgrind',
  ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'cg.%p.out')}`, cmd, ...args],
];

/** Sends a callgrind_control command (`--instr=on`, `--zero`, `--dump`) to the process. */
export const control = (pid, ...args) => execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });

/**
 * V8's optimizing compiler and its major GC run in some windows and not in others (a window that holds a
 * major GC counts about 90 million instructions more, a late optimizing compile up to as many): functions of
 * theirs are counted apart, by name, so that the request path (with its minor GCs) is compared alone.
 */
export const COMPILER =
  /v8::internal::(compiler|maglev|baseline)::|v8::internal::Zone|Assembler|v8::internal::Compiler::|OptimizingCompile/;
export const MAJOR_GC =
  /MarkCompact|ConcurrentMarking|MarkingVisitor|Sweeper|Evacuat|IncrementalMarking|MarkingWorklist|MarkingBarrier|MemoryChunk|ActiveSystemPages/;

/** callgrind_annotate's per-function lines of a dump: `{ n, name }`, name as `file:function [object]`. */
export function annotate(file, inclusive = false) {
  const out = execFileSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', file], {
    maxBuffer: 256 << 20,
  }).toString();
  const lines = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (m) lines.push({ n: Number(m[1].replaceAll(',', '')), name: m[2] });
  }
  return lines;
}

/**
 * Dumps the counters (counted since the last zeroing) and splits the newest dump's total. The dump is
 * deleted, or renamed to `keepAs` when given.
 */
export function dumpCounts(dir, pid, keepAs) {
  control(pid, '--dump');
  const prefix = `cg.${pid}.out.`;
  const last = readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)))
    .at(-1);
  if (last === undefined) throw new Error(`no callgrind dump in ${dir}`);
  const counts = { total: 0, compiler: 0, majorGc: 0 };
  for (const { n, name } of annotate(join(dir, last))) {
    if (name.includes('PROGRAM TOTALS')) counts.total = n;
    else if (COMPILER.test(name)) counts.compiler += n;
    else if (MAJOR_GC.test(name)) counts.majorGc += n;
  }
  if (keepAs === undefined) rmSync(join(dir, last));
  else renameSync(join(dir, last), keepAs);
  return counts;
}

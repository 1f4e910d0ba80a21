import { lstat, mkdir, open, readFile } from 'node:fs/promises';

import { FileExistsError, InputError, OutputError } from './errors.js';

/** Key files, JWKS documents and tokens are small; anything larger is refused rather than read. */
export const MAX_INPUT_BYTES = 1024 * 1024;

function errnoCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    ? (err as { code: string }).code
    : 'unknown error';
}

/** Reads a whole file. `what` names it in errors ("key file", "JWKS file"); the contents never appear there. */
export async function readInputFile(path: string, what: string): Promise<Buffer> {
  let data: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_INPUT_BYTES) throw new InputError(`${what} ${path} is larger than ${MAX_INPUT_BYTES} bytes`);
      data = await readFile(handle);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = errnoCode(err);
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code;
    throw new InputError(`cannot read ${what} ${path}: ${reason}`, { cause: err });
  }
  if (data.length > MAX_INPUT_BYTES) throw new InputError(`${what} ${path} is larger than ${MAX_INPUT_BYTES} bytes`);
  return data;
}

/** Reads standard input to the end, or returns undefined when it is a terminal (nothing was piped in). */
export async function readStdin(what: string): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > MAX_INPUT_BYTES) throw new InputError(`${what} on standard input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Creates a directory (and its parents) if missing; new directories are private to the user (0700). */
export async function ensureDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new OutputError(`cannot create directory ${path}: ${errnoCode(err)}`, { cause: err });
  }
}

/** Throws FileExistsError for the first path that exists (a dangling symlink counts as existing). */
export async function assertAbsent(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    try {
      await lstat(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw new OutputError(`cannot check ${path}: ${errnoCode(err)}`, { cause: err });
    }
    throw new FileExistsError(path);
  }
}

/**
 * Writes a file that must not exist yet (O_CREAT | O_EXCL, so a file or symlink that appears meanwhile is
 * not followed or replaced), created with `mode` from the start: a secret is never readable by others,
 * not even for an instant.
 */
export async function writeNewFile(path: string, data: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', mode);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw new FileExistsError(path);
    throw new OutputError(`cannot create ${path}: ${errnoCode(err)}`, { cause: err });
  }
  try {
    await handle.writeFile(data, 'utf8');
  } catch (err) {
    throw new OutputError(`cannot write ${path}: ${errnoCode(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
}

/** Data goes to standard output. */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Notes, labels and errors go to standard error. */
export function note(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** JSON as the CLI prints it: two-space indentation. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

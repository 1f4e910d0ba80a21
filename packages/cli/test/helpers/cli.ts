/**
 * Runs the built `tessera` command as a real child process: `node packages/cli/dist/main.js ...`, with
 * its own stdin, stdout, stderr and exit code.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { importKey, type Key } from '@tessera/core';
import { runCommand } from '@tessera/testing';

export const CLI = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin; without it stdin is /dev/null. */
  input?: string;
  cwd?: string;
  /** Added to the parent's environment. */
  env?: Record<string, string>;
}

export function tessera(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    input: options.input,
  });
}

/** A fresh temporary directory and the function that removes it. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-cli-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `keys generate --alg ALG --out DIR`, failing the test if it does not succeed. */
export async function generateKeyFiles(alg: string, dir: string, extra: readonly string[] = []): Promise<void> {
  const r = await tessera(['keys', 'generate', '--alg', alg, '--out', dir, ...extra]);
  if (r.code !== 0) throw new Error(`keys generate --alg ${alg} failed: ${r.stderr}`);
}

/** The private key `keys generate` wrote, imported with @tessera/core to craft tokens the CLI cannot. */
export async function privateKeyOf(dir: string): Promise<Key> {
  return importKey(await readFile(join(dir, 'private.jwk.json'), 'utf8'));
}

export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'orders';

/** `token sign` with the standard test claims, returning the token (without its newline). */
export async function signToken(keyFile: string, extra: readonly string[] = []): Promise<string> {
  const r = await tessera(['token', 'sign', '--key', keyFile, '--iss', ISSUER, '--sub', 'alice', '--aud', AUDIENCE, ...extra]);
  if (r.code !== 0) throw new Error(`token sign failed: ${r.stderr}`);
  if (!r.stdout.endsWith('\n')) throw new Error('token sign must end its output with a newline');
  return r.stdout.trimEnd();
}

/** Asserts-friendly: true when no part of the token (nor the whole) appears in `text`. */
export function leaksToken(text: string, token: string): boolean {
  return [token, ...token.split('.').filter((s) => s.length >= 16)].some((part) => text.includes(part));
}

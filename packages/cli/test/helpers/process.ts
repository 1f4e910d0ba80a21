/**
 * A long-running `tessera` command (serve, gateway) as a real child process: waits for its "listening at"
 * line, or for its exit when it refuses to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';

import { CLI } from './cli.js';

export interface Running {
  child: ChildProcess;
  /** The URL of the "listening at" line; rejects when the command exits first. */
  listening: Promise<string>;
  /** The exit code, once it has exited. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

export function start(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /listening at (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`tessera ${args[0]} exited ${code}: ${err}`)));
  });
  listening.catch(() => undefined);
  return {
    child,
    listening,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A command that ends, with environment variables of its own: its exit code and output. */
export async function run(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = start(args, options);
  const code = await r.exited;
  // 'exit' may come before the last output: wait for the streams to end.
  await new Promise<void>((resolve) => (r.child.stdout!.readableEnded ? resolve() : r.child.stdout!.once('end', resolve)));
  await new Promise<void>((resolve) => (r.child.stderr!.readableEnded ? resolve() : r.child.stderr!.once('end', resolve)));
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

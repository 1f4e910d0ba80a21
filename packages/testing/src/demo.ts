import { spawn, type ChildProcess } from 'node:child_process';

import { listenable } from './ports.js';

const MAIN = new URL('../../../examples/quickstart/main.js', import.meta.url).pathname;

/** A port P with P to P+6 free: the demo listens on PORT (auth server) to PORT+6 (payroll). */
export async function demoPort(): Promise<number> {
  for (;;) {
    const port = await listenable(0);
    if (port === undefined || port >= 65000) continue;
    const next = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => listenable(port + i)));
    if (next.every((p) => p !== undefined)) return port;
  }
}

/**
 * `node examples/quickstart/main.js`, as `npm start` runs it, with its data in `dir`; resolves with what it
 * printed once everything listens.
 */
export function startDemo(port: number, dir: string, timeoutMs = 30_000): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), TESSERA_DEMO_DIR: dir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C to stop')) {
        clearTimeout(timer);
        resolve({ child, out });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${out}`));
    });
  });
}

/**
 * The machine's Redis for tests. With CI=true a Redis that does not answer fails the tests that need it;
 * elsewhere they skip with a visible notice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo } from 'node:net';

import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TESSERA_TEST_REDIS ?? 'redis://127.0.0.1:6379';
export const REDIS_MISSING = `Redis is not reachable at ${REDIS_URL}`;
export const REDIS_REQUIRED = process.env.CI === 'true';

/** Whether Redis answers within a few seconds. */
export async function redisAvailable(): Promise<boolean> {
  const r = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * For `describe(name, { skip }, ...)`: false when Redis answers or is required (the tests then fail on
 * their own if it does not), else the notice, printed once.
 */
export async function skipWithoutRedis(what: string): Promise<false | string> {
  if (REDIS_REQUIRED || (await redisAvailable())) return false;
  console.log(`# ${what} skipped: ${REDIS_MISSING}`);
  return REDIS_MISSING;
}

/** A key and channel prefix of this run only, so test files running at the same time do not meet. */
export function uniquePrefix(): string {
  return `tessera:rt:test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** A redis-server process of the test's own (no persistence), killed and started again on the same port. */
export class RedisProcess {
  private proc: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: every connection reset, every subscription and key lost. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

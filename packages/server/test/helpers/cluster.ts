/**
 * A Tessera deployment made of real processes, for the multi-instance tests and benchmarks: N auth-server
 * instances (each its own Node process, configured by environment) on one PostgreSQL schema and one Redis,
 * a TCP load balancer in front of them (round robin, next instance when one refuses the connection), and
 * verifier processes following the revocation feed. Redis is a redis-server process of the test's own, on a
 * port of its own, so that a test can stop and restart it without touching anyone else's.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';

import { loadMasterKey, registerClient, type ClientInput, type Store } from '@tessera/server/internal';
import { freePort, RedisProcess, until } from '@tessera/testing';

import { createSchema, dropSchema, POSTGRES_URL, urlWithSchema } from './postgres.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export { freePort, RedisProcess, redisServerAvailable } from '@tessera/testing';

const fixtures = new URL('../fixtures/', import.meta.url);

/** `until` for checks over the network: a check that throws (an instance down, say) counts as not yet. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  await until(what, () => check().catch(() => false), timeoutMs);
}

/**
 * A TCP load balancer on a fixed port: each new connection goes to the next backend in turn; a backend that
 * refuses the connection is skipped (as a load balancer's passive health check would).
 */
export class Balancer {
  readonly backends: number[] = [];
  private next = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port: number): Promise<Balancer> {
    const server = createServer();
    const b = new Balancer(server, port);
    server.on('connection', (client) => b.route(client));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    return b;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private route(client: Socket, tried = 0): void {
    if (this.backends.length === 0 || tried >= this.backends.length) return void client.destroy();
    const port = this.backends[this.next++ % this.backends.length]!;
    const upstream = connect(port, '127.0.0.1');
    client.pause();
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      client.resume();
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    upstream.once('error', () => {
      if (!connected) this.route(client, tried + 1);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

export interface Child {
  proc: ChildProcess;
  url: string;
}

/** Starts a fixture process (fixtures/<script>) and waits for it to report its URL. */
export async function startProcess(script: string, env: Record<string, string>, timeoutMs = 20_000): Promise<Child> {
  const proc = fork(new URL(script, fixtures), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script} did not start in time: ${stderr}`));
    }, timeoutMs);
    proc.on('message', (m: { type?: string; url?: string }) => {
      if (m.type === 'listening') {
        clearTimeout(timer);
        resolve({ proc, url: m.url! });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it started: ${stderr}`));
    });
  });
}

/** Stops a child with `signal`; one that has not exited 5 s later is killed (a test must never hang on it). */
export async function stopProcess(c: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill(signal);
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface Instance extends Child {
  port: number;
  /** SIGKILL, and out of the balancer's rotation only when the balancer finds it refusing. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface VerifierProcess extends Child {
  /** Every revocation the verifier applied: its value and the wall-clock ms it applied it. */
  revocations: { seq: number; kind: string; value: string; at: number }[];
  /** GET /check with this bearer token: the status. */
  check(token: string): Promise<number>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  instances: number;
  /** Extra TESSERA_* settings for every instance. */
  env?: Record<string, string>;
  /** No Redis at all (instances share revocations through the database only). */
  redis?: boolean;
}

/** N instances on one fresh PostgreSQL schema, one Redis of their own, a balancer whose URL is the issuer. */
export class Cluster {
  readonly instances: Instance[] = [];
  readonly verifiers: VerifierProcess[] = [];
  private constructor(
    readonly schema: string,
    /** The database URL the instances use: through `pgProxy`, so a test can cut PostgreSQL off. */
    readonly database: string,
    /** The same database, directly. */
    readonly directDatabase: string,
    readonly pgProxy: TcpProxy,
    readonly redis: RedisProcess | undefined,
    readonly balancer: Balancer,
    readonly env: Record<string, string>,
  ) {}

  static async start(options: ClusterOptions): Promise<Cluster> {
    const schema = await createSchema();
    const pg = new URL(POSTGRES_URL);
    const pgProxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
    pg.host = `127.0.0.1:${pgProxy.port}`;
    const redis = options.redis === false ? undefined : await RedisProcess.start();
    const balancer = await Balancer.start(await freePort());
    const env: Record<string, string> = {
      TESSERA_ISSUER: balancer.url,
      TESSERA_DATABASE: urlWithSchema(schema, pg.toString()),
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64url'),
      TESSERA_DATA_DIR: `/tmp/tessera-cluster-${schema}`,
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_REVOCATION_HEARTBEAT: '1',
      TESSERA_REVOCATION_POLL: '1',
      ...(redis ? { TESSERA_REDIS_URL: redis.url } : {}),
      ...options.env,
    };
    const c = new Cluster(schema, env.TESSERA_DATABASE!, urlWithSchema(schema), pgProxy, redis, balancer, env);
    try {
      // The first instance alone creates the schema and the first key; then the others join it.
      await c.addInstance();
      await Promise.all(Array.from({ length: options.instances - 1 }, () => c.addInstance()));
    } catch (err) {
      // Leave nothing behind: no instance, redis-server, schema or listener.
      await c.close();
      throw err;
    }
    return c;
  }

  get url(): string {
    return this.balancer.url;
  }

  /** Registers a client straight in the cluster's database (as the CLI would): its id and secret. */
  async registerClient(store: Store, input: ClientInput): Promise<{ id: string; secret: string }> {
    const master = loadMasterKey({ masterKey: this.env.TESSERA_MASTER_KEY!, masterKeyFile: '', create: false });
    const { client, secret } = await registerClient(store, master, input, Date.now());
    return { id: client.id, secret: secret! };
  }

  async addInstance(): Promise<Instance> {
    const child = await startProcess('instance.js', this.env);
    const port = Number(new URL(child.url).port);
    const instance: Instance = {
      ...child,
      port,
      kill: () => stopProcess(child, 'SIGKILL'),
      stop: () => stopProcess(child),
    };
    this.instances.push(instance);
    this.balancer.backends.push(port);
    return instance;
  }

  async addVerifier(env: Record<string, string>): Promise<VerifierProcess> {
    const child = await startProcess('verifier.js', { VERIFIER_ISSUER: this.url, ...env });
    const v: VerifierProcess = {
      ...child,
      revocations: [],
      async check(token) {
        const res = await fetch(`${child.url}/check`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(2_000),
        });
        await res.body?.cancel();
        return res.status;
      },
      stop: () => stopProcess(child),
    };
    child.proc.on('message', (m: { type?: string; seq: number; kind: string; value: string; at: number }) => {
      if (m.type === 'revocation') v.revocations.push({ seq: m.seq, kind: m.kind, value: m.value, at: m.at });
    });
    this.verifiers.push(v);
    return v;
  }

  async close(): Promise<void> {
    await Promise.all(this.verifiers.map((v) => v.stop()));
    await Promise.all(this.instances.map((i) => i.kill()));
    await this.balancer.close();
    await this.redis?.kill();
    await this.pgProxy.close();
    await dropSchema(this.schema).catch(() => undefined);
  }
}

export { waitFor };

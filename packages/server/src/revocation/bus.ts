import { randomUUID } from 'node:crypto';

import { REVOCATIONS_CHANNEL, type RevocationEntry } from '@tessera/verifier';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

import type { RevocationRegistry, RevocationTransport } from './registry.js';
import { wireRevocation } from './registry.js';

/** Redis connection options shared by every Redis client of the server: fail fast, reconnect for ever. */
export function redisClient(url: string, log: FastifyBaseLogger, role: string): Redis {
  const client = new Redis(url, {
    // A command while disconnected fails at once instead of queueing: callers have a fallback.
    enableOfflineQueue: role === 'subscriber',
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    lazyConnect: false,
  });
  let down = false;
  client.on('error', (err: Error) => {
    // Only the message: the URL (and any password in it) never reaches a log line.
    if (!down) log.warn({ role, error: err.message }, 'redis unavailable');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info({ role }, 'redis available again');
    down = false;
  });
  return client;
}

/**
 * The revocation bus across instances, on Redis pub/sub: each revocation an instance records is published
 * on `tessera:revocations`, and every instance that hears it reads the new records from the store. Each instance also publishes a heartbeat with
 * its sequence number; a peer that is behind catches up from the store, and verifiers that follow Redis
 * directly use the heartbeats to know they are current.
 *
 * Redis is not the source of truth: messages lost while it is down are recovered from the store by the
 * registries' periodic catch-up, and by verifiers from the snapshot when they reconnect.
 */
export class RedisRevocationBus implements RevocationTransport {
  readonly instance = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    url: string,
    private readonly registry: RevocationRegistry,
    private readonly log: FastifyBaseLogger,
    heartbeatMs: number,
    private readonly channel = REVOCATIONS_CHANNEL,
  ) {
    this.pub = redisClient(url, log, 'publisher');
    this.sub = redisClient(url, log, 'subscriber');
    this.sub.on('message', (c: string, m: string) => {
      if (c === this.channel) this.receive(m);
    });
    // Messages sent while this subscription was down are lost: catch up from the store on every reconnection.
    this.sub.on(
      'ready',
      () => void this.registry.catchUp().catch((err: unknown) => this.log.error({ err }, 'revocation catch-up failed')),
    );
    void this.sub.subscribe(this.channel).catch(() => undefined);
    this.heartbeat = setInterval(
      () => void this.send({ type: 'heartbeat', seq: this.registry.sequence, instance: this.instance }),
      heartbeatMs,
    );
    this.heartbeat.unref();
  }

  get connected(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  async publish(r: RevocationEntry): Promise<void> {
    await this.send({ type: 'revocation', revocation: wireRevocation(r), instance: this.instance });
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private async send(message: Record<string, unknown>): Promise<void> {
    if (this.pub.status !== 'ready') return;
    await this.pub.publish(this.channel, JSON.stringify(message)).catch(() => undefined);
  }

  private receive(raw: string): void {
    let msg: { type?: unknown; seq?: unknown; instance?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return;
    }
    const catchUp = () =>
      void this.registry.catchUp().catch((err: unknown) => this.log.error({ err }, 'revocation catch-up failed'));
    // Messages are hints, never applied as they come: the registry reads what is new from the store, so a
    // message that was forged, reordered or lost cannot make an instance skip a record.
    if (msg.type === 'revocation' && msg.instance !== this.instance) catchUp();
    else if (msg.type === 'heartbeat' && typeof msg.seq === 'number' && msg.seq > this.registry.sequence) catchUp();
  }
}

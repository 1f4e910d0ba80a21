/**
 * A broker for any number of gateway nodes sharing one Redis. Each node subscribes (Redis pub/sub) to
 * `<prefix>control` and to `<prefix>ch:<channel>` for every channel it has subscribers on; the
 * publications, joins and leaves of a channel travel on the latter, one JSON message each, tagged with its
 * type. A channel's history and presence are keys that vanish when the channel is left alone:
 *
 *   <prefix>stream:<channel>           hash {epoch, offset}                  expire ttl after the last publication
 *   <prefix>history:<channel>          list of publication JSON, capped      (a stream only read: ttl after that)
 *   <prefix>presence:<channel>         hash clientId -> ClientInfo JSON      expire with their last entry
 *   <prefix>presence-expiry:<channel>  sorted set clientId by expiry (ms)
 *
 * Times of streams and presence are the Redis server's (`TIME`), so nodes whose clocks differ agree on what
 * has expired; a publication without history carries the time of the node that sent it. Each update of a
 * stream or of presence is one Lua script, atomic.
 */
import { ConfigError } from '@tessera/core';
import type { Redis } from 'ioredis';

import {
  newEpoch,
  NO_STREAM,
  selectHistory,
  type Broker,
  type BrokerHandlers,
  type ControlMessage,
  type HistoryBounds,
  type HistoryQuery,
  type HistoryResult,
  type StreamPosition,
} from './broker.js';
import { systemClock, type Clock } from './clock.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH, type ClientInfo, type Publication } from './protocol.js';

export interface RedisBrokerOptions {
  /** Runs the commands; left open by `close()`. Without ioredis' `keyPrefix`: use `prefix`. */
  readonly redis: Redis;
  /**
   * The pub/sub connection, with ioredis' `autoResubscribe` (the default: it subscribes again after a
   * reconnection); left open by `close()`. Default: `redis.duplicate()`, which `close()` quits.
   */
  readonly subscriber?: Redis;
  /** Prefix of every key and pub/sub channel. Default `tessera:rt:`. */
  readonly prefix?: string;
  /**
   * The gateway's clock: the time of a publication without history (streams and presence keep the Redis
   * server's time). Default: the system clock.
   */
  readonly clock?: Clock;
}

/** Lua: the time of the Redis server, in milliseconds. */
const NOW = `local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

/**
 * Appends a publication to the stream (a new epoch when it has none: never published, or expired) and
 * publishes it with its offset. KEYS: stream, history. ARGV: pub/sub channel, new epoch, data JSON, info
 * JSON or '', size, ttl (ms).
 */
const PUBLISH = `${NOW}
local epoch = redis.call('hget', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('hset', KEYS[1], 'epoch', epoch)
  redis.call('del', KEYS[2])
end
local offset = redis.call('hincrby', KEYS[1], 'offset', 1)
local info = ''
if ARGV[4] ~= '' then info = ',"info":' .. ARGV[4] end
local first = ''
if offset == 1 then first = ',"epoch":"' .. epoch .. '"' end
local pub = '{"data":' .. ARGV[3] .. info .. ',"offset":' .. offset .. first .. ',"time":' .. now .. '}'
redis.call('rpush', KEYS[2], pub)
redis.call('ltrim', KEYS[2], -tonumber(ARGV[5]), -1)
redis.call('pexpire', KEYS[1], ARGV[6])
redis.call('pexpire', KEYS[2], ARGV[6])
redis.call('publish', ARGV[1], '{"type":"publication","publication":' .. pub .. '}')
return {offset, epoch}`;

/**
 * The stream's position, publications and the time. A read creates nothing: a channel without a stream is
 * at offset 0 of epoch '' (its first publication will carry the epoch). KEYS: stream, history.
 */
const HISTORY = `${NOW}
local s = redis.call('hmget', KEYS[1], 'epoch', 'offset')
return {s[1] or '', tonumber(s[2]) or 0, redis.call('lrange', KEYS[2], 0, -1), now}`;

/** Upserts a presence entry. KEYS: presence, presence-expiry. ARGV: client id, info JSON, ttl (ms). */
const ADD_PRESENCE = `${NOW}
local ttl = tonumber(ARGV[3])
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[2], now + ttl, ARGV[1])
for _, k in ipairs(KEYS) do
  if redis.call('pttl', k) < ttl then redis.call('pexpire', k, ttl) end
end`;

/** Drops the presence entries whose time is up and returns the others. KEYS: presence, presence-expiry. */
const PRESENCE = `${NOW}
local gone = redis.call('zrangebyscore', KEYS[2], '-inf', now)
for i = 1, #gone, 1000 do
  redis.call('hdel', KEYS[1], unpack(gone, i, math.min(i + 999, #gone)))
end
redis.call('zremrangebyscore', KEYS[2], '-inf', now)
return redis.call('hgetall', KEYS[1])`;

/** Many nodes: history, presence and the traffic between nodes in one Redis (see the top of this file). */
export class RedisBroker implements Broker {
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly ownSubscriber: boolean;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly controlChannel: string;
  /** The channels this node subscribed to: messages of others (late after an unsubscribe) are ignored. */
  private readonly subscribed = new Set<string>();
  private handlers: BrokerHandlers | undefined;
  private closed = false;
  private started = false;

  constructor(options: RedisBrokerOptions) {
    if (options.subscriber?.options.autoResubscribe === false) {
      throw new ConfigError('subscriber', 'RedisBroker needs a subscriber with autoResubscribe');
    }
    this.redis = options.redis;
    this.ownSubscriber = options.subscriber === undefined;
    // A subscription waits for the connection rather than failing while it is (re)established.
    this.subscriber = options.subscriber ?? options.redis.duplicate({ autoResubscribe: true, enableOfflineQueue: true });
    // Connection errors of its own subscriber show as failing calls and, once back, a resync; without a
    // listener ioredis would print each reconnection attempt.
    if (this.ownSubscriber) this.subscriber.on('error', () => undefined);
    this.prefix = options.prefix ?? 'tessera:rt:';
    this.clock = options.clock ?? systemClock;
    this.controlChannel = `${this.prefix}control`;
  }

  async start(handlers: BrokerHandlers): Promise<void> {
    this.handlers = handlers;
    this.subscriber.on('message', this.receive);
    this.subscriber.on('ready', this.reconnected);
    await this.subscriber.subscribe(this.controlChannel);
    this.started = true;
  }

  /**
   * After the pub/sub connection came back, publications sent meanwhile were lost to this node. Once
   * ioredis has subscribed again (this subscribe is answered after its own), the gateway tells subscribers
   * of history channels to recover.
   */
  private readonly reconnected = (): void => {
    if (!this.started || this.closed) return;
    this.subscriber.subscribe(this.controlChannel).then(
      () => this.handlers?.resync(),
      () => undefined,
    );
  };

  async subscribe(channel: string): Promise<void> {
    this.subscribed.add(channel);
    await this.subscriber.subscribe(this.pubsub(channel));
  }

  async unsubscribe(channel: string): Promise<void> {
    this.subscribed.delete(channel);
    await this.subscriber.unsubscribe(this.pubsub(channel));
  }

  async publish(
    channel: string,
    data: unknown,
    info: ClientInfo | undefined,
    history: HistoryBounds | undefined,
  ): Promise<StreamPosition | undefined> {
    if (!history || history.size <= 0) {
      const time = this.clock.now();
      const publication: Publication = info ? { data, info, time } : { data, time };
      await this.send(channel, { type: 'publication', publication });
      return undefined;
    }
    const keys = [this.key('stream', channel), this.key('history', channel)];
    const args = [
      this.pubsub(channel),
      newEpoch(),
      JSON.stringify(data) ?? 'null',
      info ? JSON.stringify(info) : '',
      history.size,
      ttl(history.ttlMs),
    ];
    const [offset, epoch] = (await this.redis.eval(PUBLISH, 2, ...keys, ...args)) as [number, string];
    return { offset, epoch };
  }

  async join(channel: string, info: ClientInfo): Promise<void> {
    await this.send(channel, { type: 'join', info });
  }

  async leave(channel: string, info: ClientInfo): Promise<void> {
    await this.send(channel, { type: 'leave', info });
  }

  async history(channel: string, query: HistoryQuery, bounds: HistoryBounds): Promise<HistoryResult> {
    const keys = [this.key('stream', channel), this.key('history', channel)];
    const reply = await this.redis.eval(HISTORY, 2, ...keys);
    const [epoch, offset, items, now] = reply as [string | null, number, string[], number];
    const live: Publication[] = [];
    for (const item of items) {
      const pub = asPublication(parseJson(item));
      if (pub?.offset !== undefined && pub.time !== undefined && now - pub.time < bounds.ttlMs) live.push(pub);
    }
    return selectHistory(live, epoch ? { offset, epoch } : NO_STREAM, query, bounds);
  }

  async addPresence(channel: string, clientId: string, info: ClientInfo, ttlMs: number): Promise<void> {
    const keys = [this.key('presence', channel), this.key('presence-expiry', channel)];
    await this.redis.eval(ADD_PRESENCE, 2, ...keys, clientId, JSON.stringify(info), ttl(ttlMs));
  }

  async removePresence(channel: string, clientId: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.key('presence', channel), clientId)
      .zrem(this.key('presence-expiry', channel), clientId)
      .exec();
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    const keys = [this.key('presence', channel), this.key('presence-expiry', channel)];
    const flat = (await this.redis.eval(PRESENCE, 2, ...keys)) as string[];
    const out = Object.create(null) as Record<string, ClientInfo>;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const info = asClientInfo(parseJson(flat[i + 1]!));
      if (info) out[flat[i]!] = info;
    }
    return out;
  }

  async control(message: ControlMessage): Promise<void> {
    await this.redis.publish(this.controlChannel, JSON.stringify(message));
  }

  /** Stops delivering; quits the subscriber it created, or unsubscribes the one it was given. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const started = this.handlers !== undefined;
    this.handlers = undefined;
    this.subscriber.off('message', this.receive);
    this.subscriber.off('ready', this.reconnected);
    const channels = [...this.subscribed].map((c) => this.pubsub(c));
    this.subscribed.clear();
    if (this.ownSubscriber) await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    else if (started) await this.subscriber.unsubscribe(this.controlChannel, ...channels).catch(() => undefined);
  }

  private readonly receive = (redisChannel: string, message: string): void => {
    // A throw here would surface in ioredis' parser and take the process down: a message nobody can use is
    // dropped, and the handlers never throw (the hub catches what its connections do).
    try {
      this.dispatch(redisChannel, message);
    } catch {
      /* dropped */
    }
  };

  private dispatch(redisChannel: string, message: string): void {
    const handlers = this.handlers;
    if (!handlers || jsonDepthExceeds(message, MAX_JSON_DEPTH + 4)) return;
    if (redisChannel === this.controlChannel) {
      const control = asControl(parseJson(message));
      if (control) handlers.control(control);
      return;
    }
    const head = `${this.prefix}ch:`;
    if (!redisChannel.startsWith(head)) return;
    const channel = redisChannel.slice(head.length);
    if (!this.subscribed.has(channel)) return;
    const m = parseJson(message);
    if (!isRecord(m)) return;
    if (m.type === 'publication') {
      const pub = asPublication(m.publication);
      if (pub) handlers.publication(channel, pub);
    } else if (m.type === 'join' || m.type === 'leave') {
      const info = asClientInfo(m.info);
      if (info && m.type === 'join') handlers.join(channel, info);
      else if (info) handlers.leave(channel, info);
    }
  }

  private send(channel: string, message: Record<string, unknown>): Promise<number> {
    return this.redis.publish(this.pubsub(channel), JSON.stringify(message));
  }

  private pubsub(channel: string): string {
    return `${this.prefix}ch:${channel}`;
  }

  private key(kind: 'stream' | 'history' | 'presence' | 'presence-expiry', channel: string): string {
    return `${this.prefix}${kind}:${channel}`;
  }
}

/** Redis expiries are whole milliseconds, at least one. */
function ttl(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

// Messages and stored values are parsed defensively: whatever is not of the expected shape is dropped.

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asClientInfo(v: unknown): ClientInfo | undefined {
  return isRecord(v) && typeof v.user === 'string' && typeof v.client === 'string' ? (v as unknown as ClientInfo) : undefined;
}

function asPublication(v: unknown): Publication | undefined {
  if (!isRecord(v)) return undefined;
  const { data, info, offset, time, epoch } = v;
  if (offset !== undefined && !(Number.isSafeInteger(offset) && (offset as number) > 0)) return undefined;
  if (epoch !== undefined && typeof epoch !== 'string') return undefined;
  if (time !== undefined && !Number.isFinite(time)) return undefined;
  const client = info === undefined ? undefined : asClientInfo(info);
  if (info !== undefined && !client) return undefined;
  return {
    data,
    ...(client ? { info: client } : {}),
    ...(offset !== undefined ? { offset: offset as number } : {}),
    ...(time !== undefined ? { time: time as number } : {}),
    ...(epoch !== undefined ? { epoch } : {}),
  };
}

function asControl(v: unknown): ControlMessage | undefined {
  if (!isRecord(v) || typeof v.user !== 'string') return undefined;
  if (v.type === 'disconnect' && Number.isInteger(v.code) && typeof v.reason === 'string') {
    return { type: 'disconnect', user: v.user, code: v.code as number, reason: v.reason };
  }
  if (v.type === 'unsubscribe' && typeof v.channel === 'string') return { type: 'unsubscribe', user: v.user, channel: v.channel };
  return undefined;
}

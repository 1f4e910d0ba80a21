/**
 * The broker moves publications, join/leave events and control messages between the gateway nodes, and
 * keeps each channel's history stream and presence. `MemoryBroker` serves one node; `RedisBroker` any
 * number of nodes sharing a Redis.
 */
import { randomBytes } from 'node:crypto';

import type { Clock, Timer } from './clock.js';
import { BrokerError } from './errors.js';
import type { ClientInfo, Publication } from './protocol.js';

/** A history stream's position: the offset of its last publication, and the epoch that names the stream. */
export interface StreamPosition {
  readonly offset: number;
  readonly epoch: string;
}

/** Bounds of a channel's history: the last `size` publications, kept `ttlMs` after the last publication. */
export interface HistoryBounds {
  readonly size: number;
  readonly ttlMs: number;
}

export interface HistoryQuery {
  /** At most this many publications (capped by the bounds' size). */
  readonly limit: number;
  /** Only publications after this position (same epoch), oldest first. */
  readonly since?: StreamPosition;
  /** Newest first. */
  readonly reverse?: boolean;
}

export interface HistoryResult {
  readonly publications: readonly Publication[];
  /** The stream's position now. */
  readonly position: StreamPosition;
  /**
   * With `since`: true when every publication after it is still in the stream (same epoch, nothing
   * trimmed), so the result is exactly what the client missed.
   */
  readonly complete: boolean;
}

/** Messages every node acts on, for the connections it holds. */
export type ControlMessage =
  | { readonly type: 'disconnect'; readonly user: string; readonly code: number; readonly reason: string }
  | { readonly type: 'unsubscribe'; readonly user: string; readonly channel: string };

export interface BrokerHandlers {
  /** A publication on a channel this node subscribed to (from any node, this one included). */
  publication(channel: string, pub: Publication): void;
  join(channel: string, info: ClientInfo): void;
  leave(channel: string, info: ClientInfo): void;
  control(message: ControlMessage): void;
  /**
   * The broker may have missed publications (its pub/sub connection dropped and came back): subscribers of
   * channels with history should resubscribe and recover from their position.
   */
  resync(): void;
}

export interface Broker {
  /** Called once by the gateway before any other method. */
  start(handlers: BrokerHandlers): Promise<void>;
  /** This node has subscribers on `channel`: deliver its publications, joins and leaves. */
  subscribe(channel: string): Promise<void>;
  /** This node has no subscriber left on `channel`. */
  unsubscribe(channel: string): Promise<void>;
  /**
   * Publishes to every node. With `history`, appends to the channel's stream and returns the new position;
   * the publication delivered carries that offset.
   */
  publish(
    channel: string,
    data: unknown,
    info: ClientInfo | undefined,
    history: HistoryBounds | undefined,
  ): Promise<StreamPosition | undefined>;
  join(channel: string, info: ClientInfo): Promise<void>;
  leave(channel: string, info: ClientInfo): Promise<void>;
  history(channel: string, query: HistoryQuery, bounds: HistoryBounds): Promise<HistoryResult>;
  /** Records that `clientId` is on `channel` for `ttlMs` (refreshed by the gateway while it stays). */
  addPresence(channel: string, clientId: string, info: ClientInfo, ttlMs: number): Promise<void>;
  removePresence(channel: string, clientId: string): Promise<void>;
  presence(channel: string): Promise<Record<string, ClientInfo>>;
  /** Sends a control message to every node, this one included. */
  control(message: ControlMessage): Promise<void>;
  close(): Promise<void>;
}

/** A new stream's epoch: random, so a client's position from an earlier stream of the name never matches. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

interface Stream {
  epoch: string;
  offset: number;
  items: { pub: Publication; at: number }[];
  last: number;
  ttlMs: number;
}

/** How often, at most, MemoryBroker drops expired streams and presence. */
const SWEEP_EVERY_MS = 10_000;

/** One node: everything in this process. History and presence go when the process does. */
export class MemoryBroker implements Broker {
  private handlers: BrokerHandlers | undefined;
  private readonly streams = new Map<string, Stream>();
  private readonly presenceByChannel = new Map<string, Map<string, { info: ClientInfo; until: number }>>();
  private readonly subscribed = new Set<string>();
  private readonly now: () => number;
  private sweptAt = 0;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  async start(handlers: BrokerHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async subscribe(channel: string): Promise<void> {
    this.subscribed.add(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.subscribed.delete(channel);
  }

  async publish(
    channel: string,
    data: unknown,
    info: ClientInfo | undefined,
    history: HistoryBounds | undefined,
  ): Promise<StreamPosition | undefined> {
    const time = this.now();
    this.sweep(time);
    let pub: Publication = info ? { data, info, time } : { data, time };
    let position: StreamPosition | undefined;
    if (history && history.size > 0) {
      const s = this.stream(channel, history, time);
      s.offset += 1;
      s.last = time;
      // The first publication of a stream names it: subscribers that came before it existed learn its epoch.
      pub = s.offset === 1 ? { ...pub, offset: 1, epoch: s.epoch } : { ...pub, offset: s.offset };
      s.items.push({ pub, at: time });
      if (s.items.length > history.size) s.items.splice(0, s.items.length - history.size);
      position = { offset: s.offset, epoch: s.epoch };
    }
    if (this.subscribed.has(channel)) this.handlers?.publication(channel, pub);
    return position;
  }

  async join(channel: string, info: ClientInfo): Promise<void> {
    if (this.subscribed.has(channel)) this.handlers?.join(channel, info);
  }

  async leave(channel: string, info: ClientInfo): Promise<void> {
    if (this.subscribed.has(channel)) this.handlers?.leave(channel, info);
  }

  async history(channel: string, query: HistoryQuery, bounds: HistoryBounds): Promise<HistoryResult> {
    const now = this.now();
    this.sweep(now);
    // A read never creates a stream (reads of many names would hold memory): no stream is position 0 of
    // no epoch, and its first publication will carry the epoch.
    const s = this.live(channel, now);
    const position = s ? { offset: s.offset, epoch: s.epoch } : NO_STREAM;
    const live = s ? s.items.filter((i) => now - i.at < bounds.ttlMs) : [];
    return selectHistory(
      live.map((i) => i.pub),
      position,
      query,
      bounds,
    );
  }

  async addPresence(channel: string, clientId: string, info: ClientInfo, ttlMs: number): Promise<void> {
    this.sweep(this.now());
    let m = this.presenceByChannel.get(channel);
    if (!m) this.presenceByChannel.set(channel, (m = new Map()));
    m.set(clientId, { info, until: this.now() + ttlMs });
  }

  async removePresence(channel: string, clientId: string): Promise<void> {
    const m = this.presenceByChannel.get(channel);
    if (!m) return;
    m.delete(clientId);
    if (m.size === 0) this.presenceByChannel.delete(channel);
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    const out: Record<string, ClientInfo> = Object.create(null) as Record<string, ClientInfo>;
    const m = this.presenceByChannel.get(channel);
    if (!m) return out;
    const now = this.now();
    for (const [id, p] of m) {
      if (p.until > now) out[id] = p.info;
      else m.delete(id);
    }
    return out;
  }

  async control(message: ControlMessage): Promise<void> {
    this.handlers?.control(message);
  }

  async close(): Promise<void> {
    this.handlers = undefined;
  }

  /** The channel's stream, unless it never existed or has expired (nothing published for its ttl). */
  private live(channel: string, now: number): Stream | undefined {
    const s = this.streams.get(channel);
    return s !== undefined && now - s.last < s.ttlMs ? s : undefined;
  }

  /** The channel's stream for a publication; a new epoch when it has expired or never existed. */
  private stream(channel: string, bounds: HistoryBounds, now: number): Stream {
    let s = this.live(channel, now);
    if (!s) {
      s = { epoch: newEpoch(), offset: 0, items: [], last: now, ttlMs: bounds.ttlMs };
      this.streams.set(channel, s);
    }
    return s;
  }

  /**
   * Drops streams a ttl past their last publication and presence entries
   * past their time, so channels nobody uses any more hold no memory.
   */
  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const [channel, s] of this.streams) if (now - s.last >= s.ttlMs) this.streams.delete(channel);
    for (const [channel, m] of this.presenceByChannel) {
      for (const [id, p] of m) if (p.until <= now) m.delete(id);
      if (m.size === 0) this.presenceByChannel.delete(channel);
    }
  }
}

/** The position of a channel that has no stream (never published to, or expired). */
export const NO_STREAM: StreamPosition = Object.freeze({ offset: 0, epoch: '' });

/**
 * Whether a client's position `since` belongs to the stream now at `position`: the same epoch, or the
 * position before any stream existed (epoch '', offset 0), which every stream continues.
 */
export function sameStream(since: StreamPosition, position: StreamPosition): boolean {
  return (since.epoch === position.epoch || (since.epoch === '' && since.offset === 0)) && since.offset <= position.offset;
}

/**
 * Applies a history query to a stream's live publications (oldest first). Shared by the brokers so they
 * answer alike.
 */
export function selectHistory(
  live: readonly Publication[],
  position: StreamPosition,
  query: HistoryQuery,
  bounds: HistoryBounds,
): HistoryResult {
  const limit = Math.max(0, Math.min(query.limit, bounds.size));
  let items = live;
  let complete = true;
  if (query.since) {
    if (!sameStream(query.since, position)) return { publications: [], position, complete: false };
    items = live.filter((p) => (p.offset ?? 0) > query.since!.offset);
    const first = live[0]?.offset;
    const missed = position.offset - query.since.offset;
    complete = items.length === missed && (missed === 0 || first === undefined || first <= query.since.offset + 1);
  }
  if (query.reverse) items = [...items].reverse();
  if (items.length > limit) {
    items = items.slice(0, limit);
    if (query.since) complete = false;
  }
  return { publications: items, position, complete };
}

/**
 * Bounds every call of a broker by `ms` on `clock` (the gateway's), and turns its failures into `BrokerError`, so a broker that fails
 * or hangs (its Redis unreachable) turns into errors
 * the client can retry, instead of commands that wait for ever while the rest of the connection queues
 * behind them. The call itself is not cancelled: a late subscribe still lands, and the gateway's later
 * unsubscribe follows it on the same connection.
 */
export function withDeadline(broker: Broker, ms: number, clock: Clock): Broker {
  const bound =
    <A extends unknown[], R>(name: string, f: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      let timer: Timer | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = clock.after(ms, () => reject(new BrokerError(`broker ${name} took longer than ${ms} ms`)));
      });
      const call = f.apply(broker, args).catch((err: unknown) => {
        throw new BrokerError(`broker ${name} failed`, { cause: err });
      });
      return Promise.race([call, deadline]).finally(() => timer?.cancel());
    };
  return {
    start: (handlers) => broker.start(handlers),
    close: () => broker.close(),
    subscribe: bound('subscribe', broker.subscribe),
    unsubscribe: bound('unsubscribe', broker.unsubscribe),
    publish: bound('publish', broker.publish),
    join: bound('join', broker.join),
    leave: bound('leave', broker.leave),
    history: bound('history', broker.history),
    addPresence: bound('addPresence', broker.addPresence),
    removePresence: bound('removePresence', broker.removePresence),
    presence: bound('presence', broker.presence),
    control: bound('control', broker.control),
  };
}

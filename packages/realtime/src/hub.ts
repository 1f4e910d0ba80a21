/**
 * What the connections of one node share: the verifier, the channel policy, the broker, the limits, and
 * the indexes from channel and user to connections.
 */
import { randomUUID } from 'node:crypto';

import type { Principal, RevocationEntry, Verifier } from '@tessera/verifier';
import { revokes } from '@tessera/verifier';

import { withDeadline, type Broker, type BrokerHandlers, type ControlMessage, type HistoryBounds } from './broker.js';
import { hasHistory, type ChannelPolicy, type NamespaceOptions } from './channels.js';
import type { Clock, Timer } from './clock.js';
import type { Member } from './member.js';
import { Disconnect, encodePush, Unsubscribe, wirePublication, type ClientInfo, type Publication } from './protocol.js';

export interface Limits {
  /** Largest WebSocket message accepted, in bytes; a larger one closes the connection (1009). Default 65536. */
  readonly maxMessageBytes: number;
  /** Commands in one frame. Default 100. */
  readonly maxCommandsPerFrame: number;
  /** Subscriptions one connection may hold. Default 128. */
  readonly maxSubscriptions: number;
  /** Publications per second per connection, sustained. Default 20. */
  readonly publishRate: number;
  /** Publications a connection may send at once before the rate applies. Default 40. */
  readonly publishBurst: number;
  /** Token verifications (connect, refresh, subscription tokens) per second per connection. Default 2. */
  readonly verifyRate: number;
  /** Verifications a connection may ask for at once (a reconnect with many subscription tokens). Default 50. */
  readonly verifyBurst: number;
  /** Bytes waiting to be written to one client before it counts as slow and is disconnected. Default 1 MiB. */
  readonly maxBufferedBytes: number;
  /** Connections per user on this node; 0 means no limit. Default 0. */
  readonly maxConnectionsPerUser: number;
  /** Time to send a valid connect command after the socket opens. Default 10 s. */
  readonly connectTimeoutMs: number;
  /** Server ping interval. Default 25 s. */
  readonly pingIntervalMs: number;
  /** Time the client has to answer a ping. Default 10 s. */
  readonly pongTimeoutMs: number;
  /** Past a token's exp, how long a connection may wait for its refresh. Default 5 s. */
  readonly expiryGraceMs: number;
  /** Presence entries live this long unless renewed (the node renews them at a third of it). Default 60 s. */
  readonly presenceTtlMs: number;
  /** A broker call (Redis) that takes longer fails: error 100, temporary, for the client. Default 5 s. */
  readonly brokerTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxMessageBytes: 65_536,
  maxCommandsPerFrame: 100,
  maxSubscriptions: 128,
  publishRate: 20,
  publishBurst: 40,
  verifyRate: 2,
  verifyBurst: 50,
  maxBufferedBytes: 1 << 20,
  maxConnectionsPerUser: 0,
  connectTimeoutMs: 10_000,
  pingIntervalMs: 25_000,
  pongTimeoutMs: 10_000,
  expiryGraceMs: 5_000,
  presenceTtlMs: 60_000,
  brokerTimeoutMs: 5_000,
});

export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, event: string, fields: Record<string, unknown>) => void;

export interface HubOptions {
  readonly verifier: Verifier;
  readonly subscriptionVerifier: Verifier | undefined;
  readonly channels: ChannelPolicy;
  readonly broker: Broker;
  readonly limits: Limits;
  readonly nodeId?: string;
  readonly logger?: Logger;
  readonly clock: Clock;
}

export class Hub implements BrokerHandlers {
  readonly verifier: Verifier;
  readonly subscriptionVerifier: Verifier | undefined;
  readonly channels: ChannelPolicy;
  readonly broker: Broker;
  readonly limits: Limits;
  readonly nodeId: string;
  readonly clock: Clock;
  readonly version = '0.1.0';
  readonly connections = new Set<Member>();
  private readonly byChannel = new Map<string, Set<Member>>();
  /** The broker subscription of each channel, while it is being made: every subscriber waits for it. */
  private readonly brokerSubscribing = new Map<string, Promise<void>>();
  private readonly byUser = new Map<string, Set<Member>>();
  private readonly logger: Logger | undefined;
  private presenceTimer: Timer | undefined;
  private renewing = false;

  constructor(options: HubOptions) {
    this.verifier = options.verifier;
    this.subscriptionVerifier = options.subscriptionVerifier;
    this.channels = options.channels;
    this.broker = withDeadline(options.broker, options.limits.brokerTimeoutMs, options.clock);
    this.limits = options.limits;
    this.nodeId = options.nodeId ?? randomUUID();
    this.logger = options.logger;
    this.clock = options.clock;
  }

  async start(): Promise<void> {
    await this.broker.start(this);
    const every = Math.max(1000, Math.floor(this.limits.presenceTtlMs / 3));
    this.presenceTimer = this.clock.every(every, () => void this.renewPresence(), { unref: true });
  }

  log(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    this.logger?.(level, event, fields);
  }

  historyBounds(ns: NamespaceOptions): HistoryBounds | undefined {
    return hasHistory(ns) ? { size: ns.history!.size, ttlMs: ns.history!.ttlSeconds * 1000 } : undefined;
  }

  /** Whether a newly authenticated connection may stay (per-user limit). */
  admit(principal: Principal): boolean {
    const max = this.limits.maxConnectionsPerUser;
    if (max <= 0 || principal.sub === undefined) return true;
    return (this.byUser.get(principal.sub)?.size ?? 0) < max;
  }

  add(conn: Member): void {
    this.connections.add(conn);
  }

  /** Indexes an authenticated connection by its user. */
  index(conn: Member): void {
    const user = conn.user;
    let set = this.byUser.get(user);
    if (!set) this.byUser.set(user, (set = new Set()));
    set.add(conn);
  }

  forget(conn: Member): void {
    this.connections.delete(conn);
    const set = this.byUser.get(conn.user);
    if (set) {
      set.delete(conn);
      if (set.size === 0) this.byUser.delete(conn.user);
    }
  }

  /**
   * Adds a subscriber; resolves once this node receives the channel's publications (the first subscriber
   * makes the broker subscription, the others arriving meanwhile wait for the same one). When the broker
   * fails, every subscriber that waited is removed and the error goes to each.
   */
  async addSubscriber(channel: string, conn: Member): Promise<void> {
    let set = this.byChannel.get(channel);
    if (!set) {
      const mine = new Set<Member>();
      this.byChannel.set(channel, (set = mine));
      const subscribing: Promise<void> = this.broker.subscribe(channel).then(
        () => {
          if (this.brokerSubscribing.get(channel) === subscribing) this.brokerSubscribing.delete(channel);
        },
        (err: unknown) => {
          if (this.brokerSubscribing.get(channel) === subscribing) this.brokerSubscribing.delete(channel);
          // Every subscriber that waited hears the error and goes; a subscription that lands late (a
          // timed-out Redis call) is undone unless others came since.
          if (this.byChannel.get(channel) === mine) {
            this.byChannel.delete(channel);
            this.broker.unsubscribe(channel).catch(() => undefined);
          }
          throw err;
        },
      );
      this.brokerSubscribing.set(channel, subscribing);
      subscribing.catch(() => undefined);
    }
    set.add(conn);
    await this.brokerSubscribing.get(channel);
  }

  removeSubscriber(channel: string, conn: Member, presence: boolean): void {
    const set = this.byChannel.get(channel);
    if (set) {
      set.delete(conn);
      if (set.size === 0) {
        this.byChannel.delete(channel);
        this.broker
          .unsubscribe(channel)
          .catch((err: unknown) => this.log('warn', 'realtime.broker_error', { op: 'unsubscribe', error: String(err) }));
      }
    }
    if (presence) {
      const info = conn.clientInfo;
      this.broker
        .removePresence(channel, info.client)
        .catch((err: unknown) => this.log('warn', 'realtime.broker_error', { op: 'presence', error: String(err) }));
      const ns = this.channels.describe(channel);
      if (ns.ok && ns.options.joinLeave) {
        this.broker
          .leave(channel, info)
          .catch((err: unknown) => this.log('warn', 'realtime.broker_error', { op: 'leave', error: String(err) }));
      }
    }
  }

  subscriberCount(): number {
    let n = 0;
    for (const set of this.byChannel.values()) n += set.size;
    return n;
  }

  channelCount(): number {
    return this.byChannel.size;
  }

  // Broker handlers: one encoding per event, the same bytes to every subscriber.

  publication(channel: string, pub: Publication): void {
    this.fanOut(channel, { channel, pub: wirePublication(pub) }, pub.offset, pub.epoch);
  }

  join(channel: string, info: ClientInfo): void {
    this.fanOut(channel, { channel, join: { info } });
  }

  leave(channel: string, info: ClientInfo): void {
    this.fanOut(channel, { channel, leave: { info } });
  }

  control(message: ControlMessage): void {
    const set = this.byUser.get(message.user);
    if (!set) return;
    for (const conn of [...set]) {
      if (message.type === 'disconnect') conn.disconnect({ code: message.code, reason: message.reason });
      else conn.serverUnsubscribe(message.channel, Unsubscribe.server);
    }
  }

  resync(): void {
    let n = 0;
    for (const [channel, set] of this.byChannel) {
      const ns = this.channels.describe(channel);
      if (!ns.ok || !hasHistory(ns.options)) continue;
      for (const conn of [...set]) {
        conn.serverUnsubscribe(channel, Unsubscribe.insufficientState);
        n++;
      }
    }
    this.log('warn', 'realtime.resync', { subscriptions: n });
  }

  /** A revocation: every connection whose token it covers is disconnected. */
  revoke(entry: RevocationEntry): number {
    const now = this.clock.now();
    let n = 0;
    const candidates = entry.kind === 'subject' ? this.byUser.get(entry.value) : this.connections;
    if (!candidates) return 0;
    for (const conn of [...candidates]) {
      const p = conn.principal;
      if (p && revokes(entry, p.claims, now)) {
        conn.disconnect(Disconnect.revoked);
        n++;
      }
    }
    if (n > 0) this.log('info', 'realtime.revoked', { kind: entry.kind, seq: entry.seq, connections: n });
    return n;
  }

  /** Disconnects every connection of this node (shutdown). */
  disconnectAll(advice: { code: number; reason: string }): void {
    for (const conn of [...this.connections]) conn.disconnect(advice);
  }

  async stop(): Promise<void> {
    this.presenceTimer?.cancel();
  }

  /** Records a subscriber of a presence channel, and tells the others when the namespace wants joins. */
  async enterPresence(channel: string, conn: Member): Promise<void> {
    const info = conn.clientInfo;
    await this.broker.addPresence(channel, info.client, info, this.limits.presenceTtlMs);
    const ns = this.channels.describe(channel);
    if (ns.ok && ns.options.joinLeave) await this.broker.join(channel, info);
  }

  private fanOut(channel: string, push: Record<string, unknown>, offset?: number, epoch?: string): void {
    const set = this.byChannel.get(channel);
    if (!set || set.size === 0) return;
    let frame: Buffer;
    try {
      frame = Buffer.from(encodePush(push));
    } catch (err) {
      this.log('error', 'realtime.unencodable_push', { channel, error: String((err as Error)?.message ?? err) });
      return;
    }
    for (const conn of set) {
      try {
        conn.deliver(channel, frame, offset, epoch);
      } catch (err) {
        this.log('error', 'realtime.delivery_error', { channel, error: String((err as Error)?.message ?? err) });
      }
    }
  }

  /** Presence entries are renewed while their connection stays subscribed. */
  private async renewPresence(): Promise<void> {
    // One pass at a time: with a slow broker, passes would pile up.
    if (this.renewing) return;
    this.renewing = true;
    try {
      for (const [channel, set] of [...this.byChannel]) {
        const ns = this.channels.describe(channel);
        if (!ns.ok || !ns.options.presence) continue;
        const joined = [...set].filter((conn) => conn.joined(channel));
        await Promise.all(
          joined.map((conn) =>
            this.broker
              .addPresence(channel, conn.id, conn.clientInfo, this.limits.presenceTtlMs)
              .catch((err: unknown) => this.log('warn', 'realtime.broker_error', { op: 'presence', error: String(err) })),
          ),
        );
      }
    } finally {
      this.renewing = false;
    }
  }
}

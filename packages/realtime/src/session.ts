/**
 * One client connection: the protocol state machine. Commands of a connection run one after another, in
 * the order they came (their handlers are in commands/); pushes go out as they happen. The session owns the
 * connection's state and its timers: connect timeout, ping and pong, token expiry, subscription expiry.
 */
import { randomUUID } from 'node:crypto';

import type { Principal } from '@tessera/verifier';
import type { WebSocket } from 'ws';

import type { ChannelRights } from './channels.js';
import type { Timer } from './clock.js';
import type { Handshake, SessionContext } from './commands/context.js';
import { dispatch } from './commands/dispatch.js';
import { DisconnectError, NO_REPLY, ReplyError } from './commands/outcome.js';
import type { Hub } from './hub.js';
import {
  Disconnect,
  encodeError,
  encodePush,
  encodeReply,
  ErrorCode,
  FrameError,
  parseFrame,
  PING_FRAME,
  protocolError,
  Unsubscribe,
  type ClientInfo,
  type Command,
  type DisconnectAdvice,
  type Method,
} from './protocol.js';
import { RateBucket } from './rate-bucket.js';
import type { Subscription } from './subscription.js';

/**
 * Commands waiting to run. Past the high-water mark the socket stops being read (TCP then slows the client
 * down) until they drain to the low-water mark; only a client that sends far more in one go is cut off.
 */
const QUEUE_HIGH_WATER = 64;
const QUEUE_LOW_WATER = 16;
const MAX_QUEUED_COMMANDS = 1024;
/** Pushes held for one subscription while its subscribe completes; more means the client cannot keep up. */
const MAX_PENDING_PUSHES = 1024;
/** A client that never answers the close handshake does not hold the socket longer than this. */
const CLOSE_HANDSHAKE_MS = 5_000;

export class Session implements SessionContext {
  readonly id = randomUUID();
  principal: Principal | undefined;
  rights: ChannelRights | undefined;
  readonly subs = new Map<string, Subscription>();
  readonly publishBucket: RateBucket;
  readonly verifyBucket: RateBucket;
  private isClosed = false;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private connectTimer: Timer | undefined;
  private expiryTimer: Timer | undefined;
  private pingTimer: Timer | undefined;
  private pongTimer: Timer | undefined;
  /** Runs once the current command's reply is sent. */
  private replySent: (() => void) | undefined;

  constructor(
    readonly hub: Hub,
    private readonly ws: WebSocket,
    readonly handshake: Handshake,
  ) {
    const { limits, clock } = hub;
    this.publishBucket = new RateBucket(limits.publishRate, limits.publishBurst, clock);
    this.verifyBucket = new RateBucket(limits.verifyRate, limits.verifyBurst, clock);
    this.connectTimer = clock.after(limits.connectTimeoutMs, () => this.disconnect(Disconnect.stale));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.cleanup());
    ws.on('error', () => this.cleanup());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get user(): string {
    return this.principal?.sub ?? '';
  }

  get clientInfo(): ClientInfo {
    return { user: this.user, client: this.id };
  }

  joined(channel: string): boolean {
    return this.subs.get(channel)?.joined === true;
  }

  /** Sends a frame unless the client reads too slowly, in which case it is disconnected. */
  send(frame: string | Buffer): void {
    if (this.isClosed) return;
    if (this.ws.bufferedAmount > this.hub.limits.maxBufferedBytes) {
      this.disconnect(Disconnect.slow);
      return;
    }
    this.ws.send(frame, { binary: false });
  }

  disconnect(advice: DisconnectAdvice): void {
    if (this.isClosed) return;
    this.cleanup();
    try {
      this.ws.close(advice.code, advice.reason);
    } catch {
      this.ws.terminate();
    }
    this.hub.clock.after(CLOSE_HANDSHAKE_MS, () => this.ws.terminate(), { unref: true });
  }

  /**
   * Ends one subscription from the server side (rights lost, API, token expired, resync). During its
   * subscribe, the push waits for the reply: the SDK ignores an unsubscribe for a subscription in progress.
   */
  serverUnsubscribe(channel: string, advice: DisconnectAdvice): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    this.removeSubscription(sub);
    const frame = encodePush({ channel, unsubscribe: { code: advice.code, reason: advice.reason } });
    if (sub.pending) sub.pending.push({ frame, final: true });
    else this.send(frame);
  }

  /** A push for a subscribed channel: sent now, or after the subscribe reply when that is still to go. */
  deliver(channel: string, frame: string | Buffer, offset?: number, epoch?: string): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    if (sub.pending) {
      if (sub.pending.length >= MAX_PENDING_PUSHES) return this.disconnect(Disconnect.slow);
      sub.pending.push({ frame, offset, epoch });
      return;
    }
    if (offset === undefined || this.advance(sub, offset, epoch)) this.send(frame);
  }

  afterReply(f: () => void): void {
    this.replySent = f;
  }

  authenticated(principal: Principal): void {
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
    this.setPrincipal(principal);
    this.schedulePing();
  }

  setPrincipal(principal: Principal): void {
    const previous = this.principal;
    this.principal = principal;
    this.rights = this.hub.channels.rights(principal.scopes, principal.sub);
    if (!previous) this.hub.index(this);
    this.expiryTimer?.cancel();
    const due = principal.expiresAt * 1000 + this.hub.limits.expiryGraceMs - this.hub.clock.now();
    this.expiryTimer = this.hub.clock.after(due, () => this.disconnect(Disconnect.expired));
  }

  armSubscriptionExpiry(sub: Subscription): void {
    sub.timer?.cancel();
    if (sub.expiresAt === undefined) return;
    const due = sub.expiresAt + this.hub.limits.expiryGraceMs - this.hub.clock.now();
    sub.timer = this.hub.clock.after(due, () => this.serverUnsubscribe(sub.channel, Unsubscribe.expired));
  }

  removeSubscription(sub: Subscription): void {
    sub.timer?.cancel();
    this.subs.delete(sub.channel);
    this.hub.removeSubscriber(sub.channel, this, sub.joined);
  }

  flushPending(sub: Subscription, result: Record<string, unknown>): void {
    const pending = sub.pending ?? [];
    sub.pending = undefined;
    const live = this.subs.get(sub.channel) === sub;
    if (typeof result.offset === 'number' && typeof result.epoch === 'string') {
      sub.offset = result.offset;
      sub.epoch = result.epoch;
    }
    for (const p of pending) {
      if (p.final) this.send(p.frame);
      else if (live && (p.offset === undefined || this.advance(sub, p.offset, p.epoch))) this.send(p.frame);
    }
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.isClosed) return;
    if (isBinary) {
      this.disconnect(Disconnect.badRequest);
      return;
    }
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    let incoming;
    try {
      incoming = parseFrame(text, this.hub.limits.maxCommandsPerFrame);
    } catch (err) {
      if (err instanceof FrameError) {
        this.hub.log('warn', 'realtime.bad_frame', { client: this.id, reason: err.message });
        this.disconnect(Disconnect.badRequest);
        return;
      }
      throw err;
    }
    for (const item of incoming) {
      if (item.kind === 'pong') {
        this.onPong();
        continue;
      }
      if (this.queued >= MAX_QUEUED_COMMANDS) {
        this.disconnect(Disconnect.tooManyRequests);
        return;
      }
      this.queued++;
      if (this.queued === QUEUE_HIGH_WATER) this.ws.pause();
      const command = item.command;
      this.queue = this.queue.then(async () => {
        this.queued--;
        if (this.queued === QUEUE_LOW_WATER && this.ws.isPaused) this.ws.resume();
        if (!this.isClosed) await this.run(command);
      });
    }
  }

  private async run(command: Command): Promise<void> {
    let reply: string | undefined;
    try {
      if (!this.principal && command.method !== 'connect') throw new DisconnectError(Disconnect.badRequest);
      const result = await dispatch(this, command);
      if (result !== NO_REPLY && command.id > 0) reply = encodeReply(command.id, command.method as Method, result);
    } catch (err) {
      reply = this.failure(command, err);
    }
    if (reply !== undefined) this.send(reply);
    // Pushes held for a subscribe follow its reply (or its error).
    const f = this.replySent;
    this.replySent = undefined;
    f?.();
  }

  /** The error reply for a failed command, or undefined when there is none (disconnected, no id). */
  private failure(command: Command, err: unknown): string | undefined {
    if (this.isClosed) return undefined;
    if (err instanceof DisconnectError) {
      this.disconnect(err.advice);
      return undefined;
    }
    if (command.id === 0) return undefined;
    if (err instanceof ReplyError) return encodeError(command.id, err.error);
    if (err instanceof FrameError) return encodeError(command.id, protocolError(ErrorCode.badRequest));
    // A broker that failed (BrokerError, with its cause) or a bug: logged, and a temporary error for the client.
    const e = err as Error & { cause?: unknown };
    this.hub.log('error', 'realtime.internal_error', {
      client: this.id,
      method: command.method,
      error: String(e?.message ?? err),
      ...(e?.cause !== undefined ? { cause: String((e.cause as Error)?.message ?? e.cause) } : {}),
    });
    return encodeError(command.id, protocolError(ErrorCode.internal));
  }

  /**
   * Moves a history subscription to a publication's position. False for a duplicate (at or before the
   * position: the subscribe reply or recovery had it), and for a gap, after which the client is told to
   * resubscribe and recover (unsubscribe 2500).
   */
  private advance(sub: Subscription, offset: number, epoch: string | undefined): boolean {
    if (epoch !== undefined && epoch !== sub.epoch) {
      // A new stream: its first publication.
      sub.epoch = epoch;
      sub.offset = offset;
      return true;
    }
    if (offset <= sub.offset) return false;
    if (offset > sub.offset + 1) {
      this.serverUnsubscribe(sub.channel, Unsubscribe.insufficientState);
      return false;
    }
    sub.offset = offset;
    return true;
  }

  private schedulePing(): void {
    const { clock, limits } = this.hub;
    this.pingTimer = clock.every(limits.pingIntervalMs, () => {
      this.send(PING_FRAME);
      this.pongTimer ??= clock.after(limits.pongTimeoutMs, () => this.disconnect(Disconnect.noPong));
    });
  }

  private onPong(): void {
    this.pongTimer?.cancel();
    this.pongTimer = undefined;
  }

  /** Drops every trace of the connection in the hub and the broker (idempotent). */
  private cleanup(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.connectTimer?.cancel();
    this.expiryTimer?.cancel();
    this.pingTimer?.cancel();
    this.pongTimer?.cancel();
    for (const sub of [...this.subs.values()]) this.removeSubscription(sub);
    this.hub.forget(this);
  }
}

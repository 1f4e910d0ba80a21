/**
 * One client connection: the protocol state machine. Commands of a connection run one after another, in
 * the order they came; pushes go out as they happen.
 */
import { randomUUID } from 'node:crypto';

import { TokenExpiredError } from '@tessera/core';
import type { Principal } from '@tessera/verifier';
import { KeysUnavailableError, RevocationsUnavailableError } from '@tessera/verifier';
import type { WebSocket } from 'ws';

import { sameStream, type StreamPosition } from './broker.js';
import { hasHistory, type ChannelAction, type ChannelInfo, type ChannelRights } from './channels.js';
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
  stringParam,
  Unsubscribe,
  type ClientInfo,
  type Command,
  type DisconnectAdvice,
  type Method,
  type ProtocolError,
  type Publication,
} from './protocol.js';

/** A reply error: the command fails, the connection stays. */
class ReplyError extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

/** The connection must end. */
class DisconnectError extends Error {
  constructor(readonly advice: DisconnectAdvice) {
    super(advice.reason);
  }
}

interface Subscription {
  readonly channel: string;
  readonly info: ChannelInfo & { ok: true };
  /** Granted by a subscription token rather than by the connection's scopes. */
  viaToken: boolean;
  /** The subscription token's expiry (ms), when granted by one. */
  expiresAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Pushes for the channel wait here until the subscribe reply has gone out, so they follow it. */
  pending: PendingPush[] | undefined;
  /** Entered in the channel's presence: a leave is due when it ends. */
  joined: boolean;
  /** History channels: the stream position of the last publication sent, to drop duplicates and see gaps. */
  epoch: string;
  offset: number;
}

interface PendingPush {
  readonly frame: string | Buffer;
  readonly offset?: number | undefined;
  readonly epoch?: string | undefined;
  /** The server's unsubscribe push: sent after the reply even though the subscription has gone. */
  readonly final?: boolean;
}

/**
 * Commands waiting to run. Past the high-water mark the socket stops being read (TCP then slows the client
 * down) until they drain to the low-water mark; only a client that sends far more in one go is cut off.
 */
const QUEUE_HIGH_WATER = 64;
const QUEUE_LOW_WATER = 16;
const MAX_QUEUED_COMMANDS = 1024;
/** Pushes held for one subscription while its subscribe completes; more means the client cannot keep up. */
const MAX_PENDING_PUSHES = 1024;

export class Connection {
  readonly id = randomUUID();
  principal: Principal | undefined;
  rights: ChannelRights | undefined;
  readonly subs = new Map<string, Subscription>();
  private closed = false;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  /** Publications per second (publishRate, publishBurst). */
  private readonly publishBucket: Bucket;
  /** Token verifications per second (connect, refresh, subscription tokens): each costs a signature check. */
  private readonly verifyBucket: Bucket;
  /** Runs once the current command's reply is sent. */
  private afterReply: (() => void) | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly ws: WebSocket,
  ) {
    this.publishBucket = new Bucket(hub.limits.publishRate, hub.limits.publishBurst);
    this.verifyBucket = new Bucket(hub.limits.verifyRate, hub.limits.verifyBurst);
    this.connectTimer = setTimeout(() => this.disconnect(Disconnect.stale), hub.limits.connectTimeoutMs);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.cleanup());
    ws.on('error', () => this.cleanup());
  }

  get user(): string {
    return this.principal?.sub ?? '';
  }

  get clientInfo(): ClientInfo {
    return { user: this.user, client: this.id };
  }

  /** Whether this connection entered the presence of `channel` (and is still subscribed). */
  joined(channel: string): boolean {
    return this.subs.get(channel)?.joined === true;
  }

  /** Sends a frame unless the client reads too slowly, in which case it is disconnected. */
  send(frame: string | Buffer): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > this.hub.limits.maxBufferedBytes) {
      this.disconnect(Disconnect.slow);
      return;
    }
    this.ws.send(frame, { binary: false });
  }

  /** Ends the connection with a close code the client SDK understands. */
  disconnect(advice: DisconnectAdvice): void {
    if (this.closed) return;
    this.cleanup();
    try {
      this.ws.close(advice.code, advice.reason);
    } catch {
      this.ws.terminate();
    }
    // A client that never answers the close handshake does not hold the socket.
    setTimeout(() => this.ws.terminate(), 5_000).unref();
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

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closed) return;
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
        if (!this.closed) await this.run(command);
      });
    }
  }

  private async run(command: Command): Promise<void> {
    let reply: string | undefined;
    try {
      if (!this.principal && command.method !== 'connect') throw new DisconnectError(Disconnect.badRequest);
      const result = await this.dispatch(command);
      if (result !== NO_REPLY && command.id > 0) reply = encodeReply(command.id, command.method as Method, result);
    } catch (err) {
      reply = this.failure(command, err);
    }
    if (reply !== undefined) this.send(reply);
    // Pushes held for a subscribe follow its reply (or its error).
    this.runAfterReply();
  }

  /** The error reply for a failed command, or undefined when there is none (disconnected, no id). */
  private failure(command: Command, err: unknown): string | undefined {
    if (this.closed) return undefined;
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

  private runAfterReply(): void {
    const f = this.afterReply;
    this.afterReply = undefined;
    f?.();
  }

  /**
   * A push for a subscribed channel: sent now, or after the subscribe reply when that is still to go.
   * `offset` (and, on a stream's first publication, `epoch`) is the publication's position, when it has one.
   */
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

  private async dispatch(command: Command): Promise<unknown> {
    const p = command.params;
    switch (command.method) {
      case 'connect':
        return this.connect(p);
      case 'refresh':
        return this.refresh(p);
      case 'subscribe':
        return this.subscribe(p);
      case 'unsubscribe': {
        const channel = requireChannel(p);
        const sub = this.subs.get(channel);
        if (sub) this.removeSubscription(sub);
        return {};
      }
      case 'sub_refresh':
        return this.subRefresh(p);
      case 'publish':
        return this.publish(p);
      case 'presence': {
        const channel = requireChannel(p);
        this.authorizeRead(channel, 'presence', true);
        return { presence: await this.hub.broker.presence(channel) };
      }
      case 'presence_stats': {
        const channel = requireChannel(p);
        this.authorizeRead(channel, 'presence', true);
        return presenceStats(await this.hub.broker.presence(channel));
      }
      case 'history':
        return this.history(p);
      case 'ping':
        return {};
      case 'send':
        // Asynchronous messages to the server have no handler here.
        if (command.id > 0) throw new ReplyError(protocolError(ErrorCode.notAvailable));
        return NO_REPLY;
      case 'rpc':
      case 'unknown':
        throw new ReplyError(protocolError(ErrorCode.methodNotFound));
    }
  }

  private async connect(p: Readonly<Record<string, unknown>>): Promise<unknown> {
    if (this.principal) throw new DisconnectError(Disconnect.badRequest);
    const token = stringParam(p, 'token');
    if (!token) throw new DisconnectError(Disconnect.invalidToken);
    const principal = await this.verify(token);
    if (this.closed) return NO_REPLY;
    if (principal.sub === undefined) throw new DisconnectError(Disconnect.invalidToken);
    if (!this.hub.admit(principal)) throw new DisconnectError(Disconnect.connectionLimit);
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.setPrincipal(principal);
    this.schedulePing();
    return {
      client: this.id,
      version: this.hub.version,
      expires: true,
      ttl: this.ttl(principal),
      ping: Math.round(this.hub.limits.pingIntervalMs / 1000),
      pong: true,
      node: this.hub.nodeId,
    };
  }

  private async refresh(p: Readonly<Record<string, unknown>>): Promise<unknown> {
    const token = stringParam(p, 'token');
    if (!token) throw new DisconnectError(Disconnect.invalidToken);
    const principal = await this.verify(token);
    if (this.closed) return NO_REPLY;
    // A connection belongs to one user for its whole life.
    if (principal.sub !== this.principal!.sub) throw new DisconnectError(Disconnect.invalidToken);
    this.setPrincipal(principal);
    // Rights are the new token's: subscriptions it no longer grants end now.
    for (const sub of [...this.subs.values()]) {
      if (sub.viaToken) continue;
      if (!this.rights!.allows(sub.channel, sub.info, 'subscribe'))
        this.serverUnsubscribe(sub.channel, Unsubscribe.permissionLost);
    }
    return { client: this.id, version: this.hub.version, expires: true, ttl: this.ttl(principal) };
  }

  private async subscribe(p: Readonly<Record<string, unknown>>): Promise<unknown> {
    const channel = requireChannel(p);
    const info = this.hub.channels.describe(channel);
    if (!info.ok)
      throw new ReplyError(protocolError(info.reason === 'unknown' ? ErrorCode.unknownChannel : ErrorCode.badRequest));
    if (this.subs.has(channel)) throw new ReplyError(protocolError(ErrorCode.alreadySubscribed));
    if (this.subs.size >= this.hub.limits.maxSubscriptions) throw new ReplyError(protocolError(ErrorCode.limitExceeded));
    const token = stringParam(p, 'token');
    let expiresAt: number | undefined;
    let viaToken = false;
    if (token) {
      expiresAt = await this.verifySubscriptionToken(token, channel);
      viaToken = true;
    } else if (info.options.subscriptionTokenRequired || !this.rights!.allows(channel, info, 'subscribe')) {
      throw new ReplyError(protocolError(ErrorCode.permissionDenied));
    }
    if (this.closed) return NO_REPLY;
    if (this.subs.has(channel)) throw new ReplyError(protocolError(ErrorCode.alreadySubscribed));
    const sub: Subscription = {
      channel,
      info,
      viaToken,
      expiresAt,
      timer: undefined,
      pending: [],
      joined: false,
      epoch: '',
      offset: 0,
    };
    const result: Record<string, unknown> = {};
    this.afterReply = () => this.flushPending(sub, result);
    if (expiresAt !== undefined) {
      Object.assign(result, { expires: true, ttl: Math.max(1, Math.floor((expiresAt - Date.now()) / 1000)) });
      this.armSubscriptionExpiry(sub);
    }
    this.subs.set(channel, sub);
    // After each wait: the connection may have closed, or the server ended the subscription meanwhile (its
    // unsubscribe push then follows this reply).
    const gone = () => this.closed || this.subs.get(channel) !== sub;
    try {
      await this.hub.addSubscriber(channel, this);
      if (gone()) return this.closed ? NO_REPLY : result;
      await this.subscribeState(p, channel, info, result);
      if (gone()) return this.closed ? NO_REPLY : result;
      if (info.options.presence) {
        sub.joined = true;
        await this.hub.enterPresence(channel, this);
      }
    } catch (err) {
      // The client hears the error: it must not stay subscribed here either.
      if (this.subs.get(channel) === sub) this.removeSubscription(sub);
      throw err;
    }
    return this.closed ? NO_REPLY : result;
  }

  /** Once the subscribe reply is out: its position, then the pushes that waited for it. */
  private flushPending(sub: Subscription, result: Record<string, unknown>): void {
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

  /** History position, and recovery of what a reconnecting client missed. */
  private async subscribeState(
    p: Readonly<Record<string, unknown>>,
    channel: string,
    info: ChannelInfo & { ok: true },
    result: Record<string, unknown>,
  ): Promise<void> {
    if (hasHistory(info.options)) {
      const bounds = this.hub.historyBounds(info.options)!;
      const recover = p.recover === true;
      const since = recover ? parsePosition(p) : undefined;
      const h = await this.hub.broker.history(channel, since ? { limit: bounds.size, since } : { limit: 0 }, bounds);
      Object.assign(result, { recoverable: true, positioned: true, epoch: h.position.epoch, offset: h.position.offset });
      if (since) {
        // What the client missed, if it fits one reply; else it is told it was not recovered.
        const fit = fitPublications(h.publications, this.hub.limits.maxBufferedBytes);
        const recovered = h.complete && !fit.truncated;
        // The SDK's rejectUnrecovered flag (2) asks for an error rather than a gap.
        if (!recovered && typeof p.flag === 'number' && (p.flag & 2) !== 0) {
          throw new ReplyError(protocolError(ErrorCode.unrecoverablePosition));
        }
        Object.assign(result, { was_recovering: true, recovered, publications: recovered ? fit.publications : [] });
      }
    }
  }

  private async subRefresh(p: Readonly<Record<string, unknown>>): Promise<unknown> {
    const channel = requireChannel(p);
    const token = stringParam(p, 'token');
    const sub = this.subs.get(channel);
    if (!sub || !sub.viaToken) throw new ReplyError(protocolError(ErrorCode.badRequest));
    if (!token) throw new ReplyError(protocolError(ErrorCode.badRequest));
    const expiresAt = await this.verifySubscriptionToken(token, channel);
    if (this.subs.get(channel) !== sub) throw new ReplyError(protocolError(ErrorCode.badRequest));
    sub.expiresAt = expiresAt;
    this.armSubscriptionExpiry(sub);
    return { expires: true, ttl: Math.max(1, Math.floor((expiresAt - Date.now()) / 1000)) };
  }

  private async publish(p: Readonly<Record<string, unknown>>): Promise<unknown> {
    const channel = requireChannel(p);
    if (!('data' in p)) throw new ReplyError(protocolError(ErrorCode.badRequest));
    const info = this.hub.channels.describe(channel);
    if (!info.ok)
      throw new ReplyError(protocolError(info.reason === 'unknown' ? ErrorCode.unknownChannel : ErrorCode.badRequest));
    if (!this.rights!.allows(channel, info, 'publish')) throw new ReplyError(protocolError(ErrorCode.permissionDenied));
    if (!this.publishBucket.take()) throw new ReplyError(protocolError(ErrorCode.tooManyRequests));
    await this.hub.broker.publish(channel, p.data, this.clientInfo, this.hub.historyBounds(info.options));
    return {};
  }

  private async history(p: Readonly<Record<string, unknown>>): Promise<unknown> {
    const channel = requireChannel(p);
    const info = this.authorizeRead(channel, 'history', false);
    const bounds = this.hub.historyBounds(info.options);
    if (!bounds) throw new ReplyError(protocolError(ErrorCode.notAvailable));
    const limit = p.limit === undefined ? 0 : p.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit)) throw new ReplyError(protocolError(ErrorCode.badRequest));
    const since = p.since === undefined || p.since === null ? undefined : parsePosition(p.since as Record<string, unknown>);
    const reverse = p.reverse === true;
    const h = await this.hub.broker.history(
      channel,
      { limit: limit < 0 ? bounds.size : limit, ...(since ? { since } : {}), reverse },
      bounds,
    );
    if (since && !sameStream(since, h.position)) throw new ReplyError(protocolError(ErrorCode.unrecoverablePosition));
    // At most one reply's worth (maxBufferedBytes): a client pages on with `since`.
    const { publications } = fitPublications(h.publications, this.hub.limits.maxBufferedBytes);
    return { publications, epoch: h.position.epoch, offset: h.position.offset };
  }

  /** Presence and history: the right from the connection's scopes (a subscription token grants neither). */
  private authorizeRead(channel: string, action: ChannelAction, presence: boolean): ChannelInfo & { ok: true } {
    const info = this.hub.channels.describe(channel);
    if (!info.ok)
      throw new ReplyError(protocolError(info.reason === 'unknown' ? ErrorCode.unknownChannel : ErrorCode.badRequest));
    if (!this.rights!.allows(channel, info, action)) throw new ReplyError(protocolError(ErrorCode.permissionDenied));
    if (presence && !info.options.presence) throw new ReplyError(protocolError(ErrorCode.notAvailable));
    return info;
  }

  private async verify(token: string): Promise<Principal> {
    if (!this.verifyBucket.take()) throw new DisconnectError(Disconnect.tooManyRequests);
    try {
      return await this.hub.verifier.verify(token);
    } catch (err) {
      if (err instanceof TokenExpiredError) throw new ReplyError(protocolError(ErrorCode.tokenExpired));
      if (err instanceof KeysUnavailableError || err instanceof RevocationsUnavailableError)
        throw new ReplyError(protocolError(ErrorCode.internal));
      this.hub.log('info', 'realtime.token_refused', { client: this.id, code: (err as { code?: string }).code ?? 'unknown' });
      throw new DisconnectError(Disconnect.invalidToken);
    }
  }

  /** Verifies a subscription token for `channel` and returns its expiry (ms). */
  private async verifySubscriptionToken(token: string, channel: string): Promise<number> {
    const verifier = this.hub.subscriptionVerifier;
    if (!verifier) throw new ReplyError(protocolError(ErrorCode.permissionDenied));
    if (!this.verifyBucket.take()) throw new DisconnectError(Disconnect.tooManyRequests);
    let principal: Principal;
    try {
      principal = await verifier.verify(token);
    } catch (err) {
      if (err instanceof TokenExpiredError) throw new ReplyError(protocolError(ErrorCode.tokenExpired));
      if (err instanceof KeysUnavailableError || err instanceof RevocationsUnavailableError)
        throw new ReplyError(protocolError(ErrorCode.internal));
      throw new ReplyError(protocolError(ErrorCode.permissionDenied));
    }
    if (principal.claims.channel !== channel || principal.sub !== this.principal!.sub)
      throw new ReplyError(protocolError(ErrorCode.permissionDenied));
    return principal.expiresAt * 1000;
  }

  private setPrincipal(principal: Principal): void {
    const previous = this.principal;
    this.principal = principal;
    this.rights = this.hub.channels.rights(principal.scopes, principal.sub);
    if (!previous) this.hub.index(this);
    clearTimeout(this.expiryTimer);
    const due = principal.expiresAt * 1000 + this.hub.limits.expiryGraceMs - Date.now();
    this.expiryTimer = setTimeout(() => this.disconnect(Disconnect.expired), Math.max(0, Math.min(due, 2 ** 31 - 1)));
  }

  private ttl(principal: Principal): number {
    return Math.max(1, Math.floor(principal.expiresAt - Date.now() / 1000));
  }

  private armSubscriptionExpiry(sub: Subscription): void {
    clearTimeout(sub.timer);
    if (sub.expiresAt === undefined) return;
    const due = sub.expiresAt + this.hub.limits.expiryGraceMs - Date.now();
    sub.timer = setTimeout(
      () => this.serverUnsubscribe(sub.channel, Unsubscribe.expired),
      Math.max(0, Math.min(due, 2 ** 31 - 1)),
    );
  }

  private removeSubscription(sub: Subscription): void {
    clearTimeout(sub.timer);
    this.subs.delete(sub.channel);
    this.hub.removeSubscriber(sub.channel, this, sub.joined);
  }

  private schedulePing(): void {
    this.pingTimer = setInterval(() => {
      this.send(PING_FRAME);
      if (!this.pongTimer) this.pongTimer = setTimeout(() => this.disconnect(Disconnect.noPong), this.hub.limits.pongTimeoutMs);
    }, this.hub.limits.pingIntervalMs);
  }

  private onPong(): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  /** Drops every trace of the connection in the hub and the broker (idempotent). */
  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.expiryTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    for (const sub of [...this.subs.values()]) this.removeSubscription(sub);
    this.hub.forget(this);
  }
}

const NO_REPLY = Symbol('no reply');

/** A token bucket: `burst` at once, then `rate` per second. */
class Bucket {
  private tokens: number;
  private at = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function requireChannel(p: Readonly<Record<string, unknown>>): string {
  const channel = stringParam(p, 'channel');
  if (!channel) throw new ReplyError(protocolError(ErrorCode.badRequest));
  return channel;
}

function parsePosition(p: Readonly<Record<string, unknown>>): StreamPosition | undefined {
  if (typeof p !== 'object' || p === null) throw new ReplyError(protocolError(ErrorCode.badRequest));
  const epoch = p.epoch;
  const offset = p.offset ?? 0;
  if (typeof epoch !== 'string' || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { epoch, offset };
}

function presenceStats(presence: Record<string, ClientInfo>): { num_clients: number; num_users: number } {
  const users = new Set<string>();
  let clients = 0;
  for (const id in presence) {
    clients++;
    users.add(presence[id]!.user);
  }
  return { num_clients: clients, num_users: users.size };
}

/** The first publications (in order) whose JSON fits in `budget` bytes, as the protocol writes them. */
function fitPublications(
  pubs: readonly Publication[],
  budget: number,
): { publications: Record<string, unknown>[]; truncated: boolean } {
  const out: Record<string, unknown>[] = [];
  let size = 0;
  for (const pub of pubs) {
    const wire = wirePublication(pub);
    size += JSON.stringify(wire).length + 1;
    if (size > budget) return { publications: out, truncated: true };
    out.push(wire);
  }
  return { publications: out, truncated: false };
}

/** A publication as the protocol writes it (no server time). */
export function wirePublication(pub: Publication): Record<string, unknown> {
  const out: Record<string, unknown> = { data: pub.data };
  if (pub.info) out.info = pub.info;
  if (pub.offset !== undefined) out.offset = pub.offset;
  if (pub.epoch !== undefined) out.epoch = pub.epoch;
  return out;
}

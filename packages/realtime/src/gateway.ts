/**
 * The gateway: a WebSocket endpoint speaking the Centrifuge client protocol (JSON), on its own port or on
 * an existing Node HTTP(S) server, plus the server API that back-end services call.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import { ConfigError } from '@tessera/core';
import { peerCertificate, type RevocationList, type Verifier } from '@tessera/verifier';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';

import { createApiApp, type ServerApi } from './api.js';
import { ChannelError } from './errors.js';
import { MemoryBroker, type Broker, type HistoryQuery, type StreamPosition } from './broker.js';
import { ChannelPolicy, type ChannelOptions } from './channels.js';
import { systemClock, type Clock } from './clock.js';
import { DEFAULT_LIMITS, Hub, type Limits, type Logger } from './hub.js';
import { Disconnect, wirePublication, type ClientInfo } from './protocol.js';
import { Session } from './session.js';

export interface GatewayOptions {
  /** Verifies connection tokens. Give it the gateway's audience; with `revocations`, revoked tokens are refused at connect and refresh. */
  readonly verifier: Verifier;
  /** The revocation list to follow: a revoked token's connections, or a cut-off subject's, are disconnected at once. */
  readonly revocations?: RevocationList;
  /** Namespaces and their options; rights come from scopes (see channels.ts). */
  readonly channels: ChannelOptions;
  /** Default: an in-memory broker (one node). `RedisBroker` for several nodes. */
  readonly broker?: Broker;
  /** Verifies subscription tokens (claims `sub`, `channel`, `exp`); without it, subscribe tokens are refused. */
  readonly subscriptionVerifier?: Verifier;
  /** Verifies the service tokens of the server API. Default: `verifier`. */
  readonly apiVerifier?: Verifier;
  readonly limits?: Partial<Limits>;
  /** WebSocket path. Default `/connection/websocket`. */
  readonly path?: string;
  /** Server API path prefix. Default `/api`. */
  readonly apiPath?: string;
  /** Names this node in connect replies and logs. Default: a random UUID. */
  readonly nodeId?: string;
  /** Structured log lines; never given a token. */
  readonly logger?: Logger;
  /**
   * Time for the connections' timers and token expiry (and the default broker's history and presence).
   * Default: the system clock; a test gives one it moves forward itself.
   */
  readonly clock?: Clock;
}

export interface ListenOptions {
  readonly port?: number;
  readonly host?: string;
  /** PEM certificate chain and key: serve wss:// and https://. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export interface GatewayStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly channels: number;
}

export class Gateway implements ServerApi {
  readonly hub: Hub;
  readonly path: string;
  readonly apiPath: string;
  private readonly wss: WebSocketServer;
  /** The server API and `/healthz`: a Fastify app, fed the requests of whichever server it is on. */
  private readonly http: FastifyInstance;
  private httpReady: Promise<void> | undefined;
  private readonly servers: {
    server: Server;
    onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
    own: boolean;
  }[] = [];
  private stopRevocations: (() => void) | undefined;
  private started: Promise<void> | undefined;
  private closing = false;

  constructor(private readonly options: GatewayOptions) {
    const limits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
    checkLimits(limits);
    const clock = options.clock ?? systemClock;
    this.hub = new Hub({
      verifier: options.verifier,
      subscriptionVerifier: options.subscriptionVerifier,
      channels: new ChannelPolicy(options.channels),
      broker: options.broker ?? new MemoryBroker({ now: () => clock.now() }),
      limits,
      clock,
      ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    this.path = options.path ?? '/connection/websocket';
    this.apiPath = (options.apiPath ?? '/api').replace(/\/+$/, '');
    this.http = createApiApp(this, {
      verifier: options.apiVerifier ?? options.verifier,
      maxBodyBytes: limits.maxMessageBytes,
      prefix: this.apiPath,
      log: (level, event, fields) => this.hub.log(level, event, fields),
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessageBytes,
      clientTracking: false,
      perMessageDeflate: false,
    });
  }

  /** Starts the broker and follows revocations. Called by `listen` and `attach`; call it when using `handleUpgrade` alone. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.apiReady();
      await this.hub.start();
      if (this.options.revocations)
        this.stopRevocations = this.options.revocations.onRevocation((entry) => this.hub.revoke(entry));
    })();
    return this.started;
  }

  /** Serves the WebSocket endpoint (and nothing else) on an existing HTTP or HTTPS server. */
  async attach(server: Server): Promise<void> {
    await this.start();
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (pathOf(req) === this.path) this.handleUpgrade(req, socket, head);
    };
    server.on('upgrade', onUpgrade);
    this.servers.push({ server, onUpgrade, own: false });
  }

  /** Takes over one upgrade request on the WebSocket path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const handshake = {
      url: req.url ?? '/',
      host: req.headers.host,
      secure: (req.socket as TLSSocket).encrypted === true,
      certificate: () => peerCertificate(req.socket),
    };
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => this.hub.add(new Session(this.hub, ws, handshake)));
  }

  /**
   * Serves the server API (`POST <apiPath>/publish` ...) for a request of another server; returns false
   * when the request is not for the API.
   */
  handleApiRequest(req: IncomingMessage, res: ServerResponse): boolean {
    if (!pathOf(req).startsWith(`${this.apiPath}/`)) return false;
    this.apiReady().then(
      () => this.http.routing(req, res),
      (err: unknown) => {
        this.hub.log('error', 'realtime.api_error', { error: String((err as Error)?.message ?? err) });
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      },
    );
    return true;
  }

  /** The API app, its plugins loaded (once). */
  private apiReady(): Promise<void> {
    this.httpReady ??= Promise.resolve(this.http.ready()).then(() => undefined);
    return this.httpReady;
  }

  /** Its own HTTP(S) server: the WebSocket path, the server API, `GET /healthz`. Resolves with the base URL. */
  async listen(options: ListenOptions = {}): Promise<{ url: string; wsUrl: string; server: Server }> {
    await this.start();
    // Every request goes to the API app: its routes, `/healthz`, and 404 for anything else.
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.http.routing(req, res);
    const server: Server = options.tls
      ? (createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) as unknown as Server)
      : createHttpServer(handler);
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (pathOf(req) === this.path) this.handleUpgrade(req, socket, head);
      else socket.destroy();
    };
    server.on('upgrade', onUpgrade);
    this.servers.push({ server, onUpgrade, own: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const scheme = options.tls ? 'https' : 'http';
    const url = `${scheme}://${host}:${addr.port}`;
    return { url, wsUrl: `${options.tls ? 'wss' : 'ws'}://${host}:${addr.port}${this.path}`, server };
  }

  // The server API, also callable in process.

  /** Publishes to a channel on every node; returns the stream position when the channel keeps history. */
  async publish(channel: string, data: unknown, info?: ClientInfo): Promise<StreamPosition | undefined> {
    const ns = this.namespace(channel);
    return this.hub.broker.publish(channel, data, info, this.hub.historyBounds(ns));
  }

  async broadcast(channels: readonly string[], data: unknown): Promise<void> {
    for (const c of channels) this.namespace(c);
    await Promise.all(channels.map((c) => this.publish(c, data)));
  }

  /** Disconnects every connection of `user` on every node (`reconnect: false` by default: code 3503). */
  async disconnectUser(user: string, options: { reconnect?: boolean } = {}): Promise<void> {
    const advice = options.reconnect ? Disconnect.forceReconnect : Disconnect.forceNoReconnect;
    await this.hub.broker.control({ type: 'disconnect', user, code: advice.code, reason: advice.reason });
  }

  /** Ends `user`'s subscriptions to `channel` on every node. */
  async unsubscribeUser(user: string, channel: string): Promise<void> {
    this.namespace(channel);
    await this.hub.broker.control({ type: 'unsubscribe', user, channel });
  }

  async presence(channel: string): Promise<Record<string, ClientInfo>> {
    this.namespace(channel);
    return this.hub.broker.presence(channel);
  }

  async history(
    channel: string,
    query: HistoryQuery,
  ): Promise<{ publications: Record<string, unknown>[]; epoch: string; offset: number }> {
    const bounds = this.hub.historyBounds(this.namespace(channel));
    if (!bounds) throw new ChannelError('history is not kept in this channel');
    const h = await this.hub.broker.history(channel, query, bounds);
    return { publications: h.publications.map(wirePublication), epoch: h.position.epoch, offset: h.position.offset };
  }

  stats(): GatewayStats {
    return {
      connections: this.hub.connections.size,
      subscriptions: this.hub.subscriberCount(),
      channels: this.hub.channelCount(),
    };
  }

  /** Disconnects every client (code 3001, they reconnect elsewhere), stops the servers it owns and the broker. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.stopRevocations?.();
    this.hub.disconnectAll(Disconnect.shutdown);
    await this.hub.stop();
    for (const { server, onUpgrade, own } of this.servers) {
      server.off('upgrade', onUpgrade);
      if (own) {
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
    await this.hub.broker.close();
    await this.http.close();
  }

  private namespace(channel: string) {
    const info = this.hub.channels.describe(channel);
    if (!info.ok) throw new ChannelError(info.reason === 'unknown' ? 'unknown channel namespace' : 'invalid channel name');
    return info.options;
  }
}

/** Limits where 0 means "none" or "at once"; every other one must be positive (0 would disable a bound). */
const ZERO_ALLOWED: ReadonlySet<string> = new Set(['maxConnectionsPerUser', 'expiryGraceMs', 'publishRate', 'verifyRate']);

/** Throws a ConfigError naming the first limit that is not a usable number. */
export function checkLimits(limits: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(limits)) {
    if (!(k in DEFAULT_LIMITS)) throw new ConfigError(`limits.${k}`, 'is not a limit');
    const min = ZERO_ALLOWED.has(k) ? 0 : 1;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new ConfigError(`limits.${k}`, `must be a ${min === 0 ? 'non-negative' : 'positive'} number`);
    }
  }
}

export function createGateway(options: GatewayOptions): Gateway {
  return new Gateway(options);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

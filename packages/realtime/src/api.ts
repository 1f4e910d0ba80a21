/**
 * The server API: back-end services publish, broadcast, disconnect users and read presence over HTTP, with
 * a Tessera service token (`Authorization: Bearer`) holding the method's scope. A Fastify app: bearer checks
 * by @tessera/verifier's Fastify plugin (its RFC 6750 refusals), bodies checked by JSON schema.
 *
 *   POST /api/publish          {channel, data}          realtime:publish   -> {result: {offset?, epoch?}}
 *   POST /api/broadcast        {channels, data}         realtime:publish   -> {result: {}}
 *   POST /api/disconnect       {user, reconnect?}       realtime:disconnect
 *   POST /api/unsubscribe      {user, channel}          realtime:disconnect
 *   POST /api/presence         {channel}                realtime:presence  -> {result: {presence}}
 *   POST /api/presence_stats   {channel}                realtime:presence  -> {result: {num_clients, num_users}}
 *   POST /api/history          {channel, limit?, since?, reverse?}  realtime:history
 *
 * Refusals: 401/403 with RFC 6750 challenges; 400 `invalid_request` for a bad body, naming the field;
 * 404 for another path; 405 for another method; 413 for a body over the message size limit.
 * The app also answers `GET /healthz` (public) when it serves the gateway's own port.
 */
import type { Verifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import { BODY_SCHEMAS, describeFailure, parseBody, type SchemaFailure } from './api-body.js';
import type { HistoryQuery, StreamPosition } from './broker.js';
import { ApiRequestError, BrokerError, ChannelError } from './errors.js';
import type { Logger } from './hub.js';
import type { ClientInfo } from './protocol.js';

/** What the HTTP API calls: the gateway's in-process server API (the Gateway implements it). */
export interface ServerApi {
  publish(channel: string, data: unknown): Promise<StreamPosition | undefined>;
  broadcast(channels: readonly string[], data: unknown): Promise<void>;
  disconnectUser(user: string, options: { reconnect?: boolean }): Promise<void>;
  unsubscribeUser(user: string, channel: string): Promise<void>;
  presence(channel: string): Promise<Record<string, ClientInfo>>;
  history(
    channel: string,
    query: HistoryQuery,
  ): Promise<{ publications: Record<string, unknown>[]; epoch: string; offset: number }>;
  /** The body of `GET /healthz`. */
  stats(): object;
}

export interface ApiOptions {
  /** Verifies the service tokens of the callers. */
  readonly verifier: Verifier;
  /** Largest body accepted (the message size limit of the sockets). */
  readonly maxBodyBytes: number;
  /** The path prefix of the methods, without a trailing slash (`/api`). */
  readonly prefix: string;
  readonly log: Logger;
}

/** Bytes a body may carry beyond the largest message: the JSON around `data`. */
const BODY_OVERHEAD = 1024;

type Body = Record<string, unknown>;
type Method = (api: ServerApi, body: Body) => Promise<unknown>;

/** Each method: its scope and what it does with a body its schema accepted. */
const METHODS: Readonly<Record<string, { readonly scope: string; readonly run: Method }>> = {
  publish: {
    scope: 'realtime:publish',
    run: async (api, b) => {
      const pos = await api.publish(b.channel as string, b.data);
      return pos ? { offset: pos.offset, epoch: pos.epoch } : {};
    },
  },
  broadcast: {
    scope: 'realtime:publish',
    run: async (api, b) => {
      await api.broadcast(b.channels as string[], b.data);
      return {};
    },
  },
  disconnect: {
    scope: 'realtime:disconnect',
    run: async (api, b) => {
      await api.disconnectUser(b.user as string, { reconnect: b.reconnect === true });
      return {};
    },
  },
  unsubscribe: {
    scope: 'realtime:disconnect',
    run: async (api, b) => {
      await api.unsubscribeUser(b.user as string, b.channel as string);
      return {};
    },
  },
  presence: {
    scope: 'realtime:presence',
    run: async (api, b) => ({ presence: await api.presence(b.channel as string) }),
  },
  presence_stats: {
    scope: 'realtime:presence',
    run: async (api, b) => {
      const presence = await api.presence(b.channel as string);
      const users = new Set(Object.values(presence).map((i) => i.user));
      return { num_clients: Object.keys(presence).length, num_users: users.size };
    },
  },
  history: {
    scope: 'realtime:history',
    run: async (api, b) => {
      const since = b.since as StreamPosition | undefined;
      return api.history(b.channel as string, {
        limit: (b.limit as number | undefined) ?? 0,
        reverse: (b.reverse as boolean | undefined) ?? false,
        ...(since ? { since: { offset: since.offset, epoch: since.epoch } } : {}),
      });
    },
  },
};

/** Builds the API's Fastify app; call `ready()` before routing requests to it. */
export function createApiApp(api: ServerApi, options: ApiOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes + BODY_OVERHEAD,
    exposeHeadRoutes: false,
    // A body is taken as sent: no type coercion, no defaults, nothing removed.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false } },
  });
  // Bodies are read as text whatever their content type (services send JSON with or without saying so),
  // and parsed by each method's preValidation step: a path that is no method is answered without parsing.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => done(null, text));
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  app.setErrorHandler((err: FastifyError, request, reply) => refuse(err, request, reply, options.log));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const known = path.startsWith(`${options.prefix}/`) && Object.hasOwn(METHODS, path.slice(options.prefix.length + 1));
    if (known) return reply.code(405).header('allow', 'POST').send({ error: 'method_not_allowed' });
    return reply.code(404).send({ error: 'not_found' });
  });
  void app.register(tesseraFastify, { verifier: options.verifier, realm: 'realtime' });
  void app.register(async (routes) => {
    routes.get('/healthz', { config: { tessera: { public: true } } }, async () => ({ status: 'ok', ...api.stats() }));
    for (const [name, method] of Object.entries(METHODS)) {
      routes.post(
        `${options.prefix}/${name}`,
        {
          config: { tessera: { scopes: [method.scope] } },
          preValidation: async function readBody(request) {
            request.body = parseBody(typeof request.body === 'string' ? request.body : '');
          },
          schema: { body: BODY_SCHEMAS[name]! },
        },
        async (request) => ({ result: await method.run(api, request.body as Body) }),
      );
    }
  });
  return app;
}

/** The answer to a request that failed after its bearer check: a bad body, a bad channel, a broker down. */
function refuse(err: FastifyError, request: FastifyRequest, reply: FastifyReply, log: Logger): FastifyReply {
  if (err.validation) return invalid(reply, describeFailure(err.validation[0] as SchemaFailure | undefined));
  if (err instanceof ApiRequestError || err instanceof ChannelError) return invalid(reply, err.message);
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // The rest of the body is not read: the connection cannot be reused.
    return reply
      .code(413)
      .header('connection', 'close')
      .send({ error: 'invalid_request', error_description: 'the body is too large' });
  }
  const method = request.url.split('?')[0]!.split('/').at(-1);
  if (err instanceof BrokerError) {
    log('warn', 'realtime.api_unavailable', { method, error: err.message });
    const description = 'the broker is unavailable';
    return reply.code(503).header('retry-after', '5').send({ error: 'temporarily_unavailable', error_description: description });
  }
  // Fastify's own refusals of a request it cannot read (a bad Content-Length, say).
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
    return invalid(reply, 'the request cannot be read');
  log('error', 'realtime.api_error', { method, error: String(err?.message ?? err) });
  return reply.code(500).send({ error: 'server_error' });
}

function invalid(reply: FastifyReply, description: string): FastifyReply {
  return reply.code(400).send({ error: 'invalid_request', error_description: description });
}

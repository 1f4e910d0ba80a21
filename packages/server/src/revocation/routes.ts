import { REVOCATIONS_SCOPE, revokes, type Principal, type RevocationEntry } from '@tessera/verifier';
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { bearerGuard } from '../admin/guard.js';
import type { ServerContext } from '../context.js';
import { wireRevocation } from './registry.js';

/** The audience of tokens for the revocation endpoints: `<issuer>/revocations`. */
export function revocationsAudience(issuer: string): string {
  return `${issuer}/revocations`;
}

/** A stream resuming further back than this many records is told to reload the snapshot instead. */
const MAX_REPLAY = 10_000;
/** A client that lets this much pile up unread is dropped (it resumes from its last event when it returns). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const SEQ = /^\d{1,15}$/;

/**
 * The revocation feed for verifiers and gateways, for clients holding scope `tessera:revocations`:
 * - `GET /revocations`: a snapshot, every record in force and the current sequence number;
 * - `GET /revocations/stream`: server-sent events, one `revocation` event per record (its id is the
 *   sequence number), resuming after `Last-Event-ID`, a `heartbeat` event with the current sequence every
 *   few seconds, and `reset` when the client must reload the snapshot (too far behind, or ahead of the
 *   server). A stream ends when the token that opened it expires or is revoked; the client reconnects with a fresh one;
 * - `POST /revocations/reports`: a verifier reports a revoked token presented to it (an anomaly event).
 */
export function revocationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const guard = bearerGuard(ctx, { audience: revocationsAudience, scope: REVOCATIONS_SCOPE, realm: 'tessera-revocations' });
  const streams = new Set<() => void>();
  const reporters = new WeakMap<FastifyRequest, Principal>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  app.get('/revocations', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    // Read what other instances recorded since the last catch-up; if the store is down, what is held is
    // still a consistent prefix of the sequence.
    await ctx.revocations.catchUp().catch((err: unknown) => req.log.warn({ err }, 'revocation catch-up failed'));
    const sequence = ctx.revocations.sequence;
    const revocations = ctx.revocations.active(ctx.now()).map(wireRevocation);
    return reply.header('cache-control', 'no-store').send({ sequence, revocations });
  });

  app.get<{ Querystring: { after?: string } }>('/revocations/stream', async (req, reply) => {
    const principal = await guard(req, reply);
    if (!principal) return reply;
    const raw = req.headers['last-event-id'] ?? req.query.after;
    const resume = typeof raw === 'string' && raw !== '' ? raw : undefined;
    if (resume !== undefined && !SEQ.test(resume))
      return reply.code(400).send({ error: 'invalid_request', error_description: 'Last-Event-ID must be a sequence number' });
    let after = resume === undefined ? 0 : Number(resume);
    if (after > ctx.revocations.sequence) await ctx.revocations.catchUp().catch(() => undefined);

    reply.hijack();
    const res = reply.raw;
    // Written past Fastify: the reply's headers (the security headers) go with the stream's own.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();

    let open = true;
    // Set once the stream is live: end() may come first (a replay past the bound, a client gone).
    const live: { stop?: () => void; heartbeat?: NodeJS.Timeout; expiry?: NodeJS.Timeout } = {};
    // What a client may leave unread is counted from the end of the replay: the replay itself (at most
    // MAX_REPLAY records, written at once) may exceed MAX_BUFFERED_BYTES for a client that reads.
    let limit = Number.POSITIVE_INFINITY;
    const write = (text: string) => {
      if (!open) return;
      res.write(text);
      if (res.writableLength > limit) {
        req.log.warn({ client: principal.clientId }, 'revocation stream dropped: client not reading');
        end();
        // Its unread buffer goes with it: the client resumes from its last event when it returns.
        res.destroy();
      }
    };
    const event = (r: RevocationEntry) =>
      write(`id: ${r.seq}\nevent: revocation\ndata: ${JSON.stringify(wireRevocation(r))}\n\n`);
    const reset = () => {
      write(`event: reset\ndata: ${JSON.stringify({ seq: ctx.revocations.sequence })}\n\n`);
      after = ctx.revocations.sequence;
    };
    function end(): void {
      if (!open) return;
      open = false;
      live.stop?.();
      clearInterval(live.heartbeat);
      clearTimeout(live.expiry);
      streams.delete(end);
      ctx.metrics.revocationStreams.dec();
      res.end();
    }
    streams.add(end);
    res.on('close', end);
    ctx.metrics.revocationStreams.inc();

    // From here to the listener's registration nothing awaits: no record can fall between replay and live.
    write('retry: 1000\n\n');
    const backlog = ctx.revocations.active(ctx.now()).filter((r) => r.seq > after);
    if (after > ctx.revocations.sequence || backlog.length > MAX_REPLAY) reset();
    else for (const r of backlog) event(r);
    limit = res.writableLength + MAX_BUFFERED_BYTES;
    live.stop = ctx.revocations.onRevocation((r) => {
      if (r.seq > after) event(r);
      // The token that opened the stream is its credential: revoked (or its client cut off), the stream ends.
      if (revokes(r, principal.claims, ctx.now())) end();
    });
    live.heartbeat = setInterval(
      () => write(`event: heartbeat\ndata: {"seq":${ctx.revocations.sequence}}\n\n`),
      ctx.config.revocationHeartbeatSeconds * 1000,
    );
    // The token that opened the stream is its credential: when it expires, so does the stream.
    live.expiry = setTimeout(() => end(), Math.max(0, principal.expiresAt * 1000 - ctx.now()));
  });

  app.post<{ Body: { jti?: string; sub?: string; client_id?: string; seq?: number } }>(
    '/revocations/reports',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            jti: { type: 'string', maxLength: 256 },
            sub: { type: 'string', maxLength: 256 },
            client_id: { type: 'string', maxLength: 256 },
            seq: { type: 'integer', minimum: 1 },
          },
        },
      },
      onRequest: async (req, reply) => {
        const caller = await guard(req, reply);
        if (!caller) return reply;
        reporters.set(req, caller);
      },
    },
    async (req, reply) => {
      const { jti, sub, client_id: clientId, seq } = req.body;
      await ctx.audit.record({
        type: 'anomaly.revoked_token_used',
        outcome: 'failure',
        actor: reporters.get(req)?.clientId ?? null,
        subject: sub ?? null,
        clientId: clientId ?? null,
        ip: req.ip,
        data: { ...(jti !== undefined ? { jti } : {}), ...(seq !== undefined ? { seq } : {}) },
      });
      return reply.code(202).send();
    },
  );
}

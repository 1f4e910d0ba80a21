import type { Writable } from 'node:stream';

import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

import { traceFields } from '../telemetry.js';
import { redactUrl } from './credentials.js';

/** Paths that may carry secrets: never logged. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.body', 'res.headers["set-cookie"]'];

/** A request as logged: the URL with the values of credential parameters redacted (see credentials.ts). */
function requestSerializer(req: FastifyRequest) {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * The pino options of the server's logger; `stream` (default stdout) is where the lines go. A line written inside
 * a recorded span (telemetry.ts) carries its `trace_id` and `span_id`.
 */
export function loggerOptions(level: string, stream?: Writable) {
  return {
    level,
    mixin: traceFields,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { req: requestSerializer },
    ...(stream ? { stream } : {}),
  };
}

/**
 * Fastify's per-request lines, moved: one `request completed` line per request (with the request, the
 * status and the time), at `debug`, or at `info` with `logRequests`. At the default level a request
 * writes no line at all (it was the largest cost of a token request); every other line Fastify writes
 * (errors, stream failures, refusals while closing) keeps its level.
 */
export class RequestLog extends LogController {
  constructor(private readonly level: 'info' | 'debug') {
    super({});
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log[this.level]({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { TesseraError } from '@tessera/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { HSTS, SECURITY_HEADERS, type ApplySecurityHeaders } from './headers.js';

/**
 * A refusal of the HTTP layer (body parsing, the query string): answered `invalid_request` with `statusCode`;
 * its description is safe to send.
 */
export class RequestError extends TesseraError {
  static readonly code = 'ERR_REQUEST';
  readonly statusCode: number;
  constructor(status: number, description: string) {
    super(RequestError.code, description);
    this.statusCode = status;
  }
}

/**
 * What Fastify's own errors become on the wire. Fastify's messages may echo the request (FST_ERR_BAD_URL
 * quotes the path), so none is ever sent: each known code has a fixed description, any other error its
 * status text.
 */
const FRAMEWORK_DESCRIPTIONS: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body too large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the request body is empty',
  FST_ERR_BAD_URL: 'malformed URL',
  FST_ERR_MAX_PARAM_LENGTH: 'URL parameter too long',
};

const FRAMEWORK_ERROR_HANDLERS = new WeakMap<
  FastifyInstance,
  (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void
>();

/**
 * Fastify's `frameworkErrors` option: the errors Fastify meets before routing (a malformed URL, a parameter
 * too long), which it would otherwise answer itself, echoing the URL. Given to the server's error handler.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const handle = FRAMEWORK_ERROR_HANDLERS.get(req.server);
  if (handle) handle(err, req, reply);
  else void reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
}

/**
 * The one error body of the server, `{error, error_description}`: an OAuth `error` code on the OAuth routes
 * (RFC 6749 section 5.2), the admin API's codes elsewhere (which share the shape). Never a stack, never the
 * input; always `Cache-Control: no-store` and the security headers.
 */
export type SendError = (
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
) => FastifyReply;

/** The wire form of the application's own coded errors (the admin service's refusals); undefined for others. */
export type RefusalOf = (
  err: unknown,
) => { status: number; body: { error: string; error_description: string }; retryAfter?: number } | undefined;

function isOAuth(req: FastifyRequest): boolean {
  return req.url.startsWith('/oauth/');
}

/**
 * Every error in the server's format: errors thrown by handlers and hooks, Fastify's own (a body too large,
 * a content type it has no parser for, a URL it cannot route), unknown routes (404) and known paths called
 * with another method (405 with `Allow`; the OAuth endpoints take POST only). Routes with parameters are
 * matched by Fastify, so only fixed paths get a 405. Returns the writer, for the other refusals of the HTTP
 * layer.
 */
export function errorHandling(
  app: FastifyInstance,
  headers: ApplySecurityHeaders,
  refusal: RefusalOf = () => undefined,
): SendError {
  const send: SendError = (req, reply, status, error, description) => {
    headers(req, reply);
    return reply
      .code(status)
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .type('application/json; charset=utf-8')
      .send({ error, error_description: description });
  };

  const handle = (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const known = refusal(err);
    if (known) {
      if (known.retryAfter !== undefined) void reply.header('retry-after', String(known.retryAfter));
      return send(req, reply, known.status, known.body.error, known.body.error_description);
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'request failed');
      return send(req, reply, 500, 'server_error', 'internal error');
    }
    const description =
      err instanceof RequestError
        ? err.message
        : err.validation
          ? `invalid request: ${err.message}`
          : (FRAMEWORK_DESCRIPTIONS[err.code] ?? (STATUS_CODES[status] ?? 'bad request').toLowerCase());
    return send(req, reply, status, status === 404 ? 'not_found' : 'invalid_request', description);
  };
  app.setErrorHandler(handle);
  FRAMEWORK_ERROR_HANDLERS.set(app, handle);

  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.url.includes(':') || route.url.includes('*')) return;
    const set = methods.get(route.url) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) set.add(m);
    methods.set(route.url, set);
  });
  app.setNotFoundHandler((req, reply) => {
    const q = req.url.indexOf('?');
    const allowed = methods.get(q === -1 ? req.url : req.url.slice(0, q));
    if (allowed && !allowed.has(req.method)) {
      const list = [...allowed].sort();
      reply.header('allow', list.join(', '));
      return send(req, reply, 405, isOAuth(req) ? 'invalid_request' : 'method_not_allowed', `use ${list.join(' or ')}`);
    }
    return send(req, reply, 404, 'not_found', 'no such endpoint');
  });
  return send;
}

/**
 * A request Node's parser refused before Fastify saw it (malformed, headers too large, a header or
 * request timeout): answered in the server's format on the raw socket, which is then closed. Only the
 * error code is logged: the error carries the raw bytes received, which may hold credentials.
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, description] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request headers too large']
        : [400, 'malformed request'];
  this.log.debug({ code: err.code }, 'client error');
  // A response already under way on this socket cannot be followed by another.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ error: 'invalid_request', error_description: description });
    const headers = [
      ...Object.entries(SECURITY_HEADERS),
      ...((socket as TLSSocket).encrypted ? [['strict-transport-security', HSTS]] : []),
    ]
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n${headers}\r\n${body}`,
    );
  }
  socket.destroy();
}

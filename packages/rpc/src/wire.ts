import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

import { Code, type ConnectError } from '@connectrpc/connect';

export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** How a request expects its error: the protocol Connect would answer it with, from the headers alone. */
export type Wire = 'connect-unary' | 'connect-stream' | 'grpc' | 'grpc-web';

/**
 * The protocol of a request (the content types Connect-ES routes on), or undefined for anything else,
 * which the gate leaves to Connect (it answers 415 or 405 without calling a handler).
 */
export function wireOf(method: string | undefined, contentType: string | undefined): Wire | undefined {
  if (method === 'GET') return 'connect-unary'; // Connect GET: ?encoding=...&message=...
  if (method !== 'POST' || contentType === undefined) return undefined;
  const ct = contentType.toLowerCase();
  if (/^application\/grpc-web(-text)?([+;]|$)/.test(ct)) return 'grpc-web';
  if (/^application\/grpc([+;]|$)/.test(ct)) return 'grpc';
  if (/^application\/connect\+/.test(ct)) return 'connect-stream';
  if (/^application\/(json|proto)(;|$)/.test(ct)) return 'connect-unary';
  return undefined;
}

/** HTTP status of a Connect unary error (connectrpc.com/docs/protocol#error-codes), for the codes we send. */
function httpStatus(code: Code): number {
  switch (code) {
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.Unavailable:
      return 503;
    default:
      return 500;
  }
}

/** `PermissionDenied` -> `permission_denied`, the Connect protocol's code string. */
function codeString(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? '_' : '') + c.toLowerCase());
}

/** Percent-encodes a grpc-message value as the gRPC spec says (bytes outside 0x20-0x7E, and '%'). */
function grpcMessage(message: string): string {
  return [...Buffer.from(message, 'utf8')]
    .map((b) =>
      b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/**
 * Answers a refused request in its own protocol, without reading its body:
 * - Connect unary (and GET): the HTTP status of the code, a JSON error body;
 * - Connect streaming: 200 and one end-of-stream message carrying the error and its metadata;
 * - gRPC and gRPC-Web: a trailers-only response (200 with `grpc-status` and `grpc-message` in the headers).
 * The error's metadata (the refusal reason) goes out as headers, or as end-stream metadata for Connect
 * streaming, where Connect's own handler puts it.
 */
export function writeRefusal(res: NodeResponse, wire: Wire, contentType: string | undefined, error: ConnectError): void {
  const metadata: Record<string, string> = {};
  error.metadata.forEach((value, key) => (metadata[key] = value));
  let status = 200;
  let body: Buffer | undefined;
  const headers: Record<string, string> = {};
  switch (wire) {
    case 'connect-unary':
      status = httpStatus(error.code);
      body = Buffer.from(JSON.stringify({ code: codeString(error.code), message: error.rawMessage }));
      Object.assign(headers, metadata, { 'content-type': 'application/json' });
      break;
    case 'connect-stream': {
      const end = {
        error: { code: codeString(error.code), message: error.rawMessage },
        metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, [v]])),
      };
      const json = Buffer.from(JSON.stringify(end));
      const prefix = Buffer.alloc(5);
      prefix.writeUInt8(0b10, 0); // end-stream flag
      prefix.writeUInt32BE(json.length, 1);
      body = Buffer.concat([prefix, json]);
      headers['content-type'] = contentType!;
      break;
    }
    case 'grpc':
    case 'grpc-web':
      Object.assign(headers, metadata, {
        'content-type': contentType!,
        'grpc-status': String(error.code),
        'grpc-message': grpcMessage(error.rawMessage),
      });
      break;
  }
  if (body !== undefined) headers['content-length'] = String(body.length);
  try {
    if ('stream' in res) {
      // HTTP/2: respond on the stream itself, so that a response without a body (gRPC trailers-only) is one
      // HEADERS frame with END_STREAM. (The compatibility API sends the headers alone and then, the request
      // body being unread, RST_STREAM(NO_ERROR), which @grpc/grpc-js reads as a call without a status.)
      const out = { ':status': status, ...headers };
      if (body === undefined) res.stream.respond(out, { endStream: true });
      else {
        res.stream.respond(out);
        res.stream.end(body);
      }
    } else {
      res.writeHead(status, headers);
      res.end(body);
    }
  } catch {
    res.destroy(); // the client went away while the token was checked
  }
}

/**
 * The Centrifuge client protocol, version 2, JSON encoding: what travels on the socket and the codes both
 * sides agree on (client.proto of centrifugal/protocol, and the error and disconnect code tables of its
 * documentation). A frame holds one or more JSON objects separated by `\n`; a command carries an `id` and
 * exactly one method field; a reply echoes the `id`; a push has no `id`; `{}` is the server's ping and the
 * client's pong.
 */

import { TesseraError } from '@tessera/core';

/** Error codes in replies (`{"id":N,"error":{"code":C,"message":M}}`). */
export const ErrorCode = {
  internal: 100,
  unauthorized: 101,
  unknownChannel: 102,
  permissionDenied: 103,
  methodNotFound: 104,
  alreadySubscribed: 105,
  limitExceeded: 106,
  badRequest: 107,
  notAvailable: 108,
  tokenExpired: 109,
  expired: 110,
  tooManyRequests: 111,
  unrecoverablePosition: 112,
} as const;

const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  100: 'internal server error',
  101: 'unauthorized',
  102: 'unknown channel',
  103: 'permission denied',
  104: 'method not found',
  105: 'already subscribed',
  106: 'limit exceeded',
  107: 'bad request',
  108: 'not available',
  109: 'token expired',
  110: 'expired',
  111: 'too many requests',
  112: 'unrecoverable position',
};

/** The wire form of an error; `temporary` tells the client it may retry. */
export interface ProtocolError {
  readonly code: number;
  readonly message: string;
  readonly temporary?: boolean;
}

export function protocolError(code: number): ProtocolError {
  const message = ERROR_MESSAGES[code] ?? 'error';
  return code === ErrorCode.internal || code === ErrorCode.tooManyRequests
    ? { code, message, temporary: true }
    : { code, message };
}

/**
 * Disconnect codes, sent as the WebSocket close code. 3000-3499: the client reconnects; 3500-3999: it
 * does not.
 */
export const Disconnect = {
  shutdown: { code: 3001, reason: 'shutdown' },
  /** The token expired and no refresh came in time: the client gets a new token and reconnects. */
  expired: { code: 3005, reason: 'connection expired' },
  slow: { code: 3008, reason: 'slow' },
  forceReconnect: { code: 3011, reason: 'force reconnect' },
  noPong: { code: 3012, reason: 'no pong' },
  tooManyRequests: { code: 3013, reason: 'too many requests' },
  invalidToken: { code: 3500, reason: 'invalid token' },
  badRequest: { code: 3501, reason: 'bad request' },
  stale: { code: 3502, reason: 'stale' },
  /** Forced off by the server API, without a reconnect. */
  forceNoReconnect: { code: 3503, reason: 'force disconnect' },
  connectionLimit: { code: 3504, reason: 'connection limit' },
  /** The connection's token (or every token of its user or client) was revoked. */
  revoked: { code: 3500, reason: 'token revoked' },
} as const;

export interface DisconnectAdvice {
  readonly code: number;
  readonly reason: string;
}

/** Unsubscribe push codes: under 2500 the subscription ends; from 2500 the client subscribes again. */
export const Unsubscribe = {
  /** The server ended it: the connection's new token no longer grants the channel, or the API said so. */
  server: { code: 2000, reason: 'server unsubscribe' },
  permissionLost: { code: 2000, reason: 'permission denied' },
  /** The node may have missed publications: the client subscribes again and recovers from its position. */
  insufficientState: { code: 2500, reason: 'insufficient state' },
  /** The subscription token expired without a sub_refresh: the client gets a new one and resubscribes. */
  expired: { code: 2501, reason: 'subscription expired' },
} as const;

/** Who a publication, join or leave came from. */
export interface ClientInfo {
  readonly user: string;
  readonly client: string;
}

export interface Publication {
  readonly data: unknown;
  readonly info?: ClientInfo;
  /** Position in the channel's history stream (history-enabled channels only). */
  readonly offset?: number;
  /** The stream's epoch, on the first publication of a stream (offset 1) only. */
  readonly epoch?: string;
  /** Milliseconds since the epoch, when the broker accepted it. */
  readonly time?: number;
}

/** The methods a command can carry, each with its parameters object. */
export const METHODS = [
  'connect',
  'subscribe',
  'unsubscribe',
  'publish',
  'presence',
  'presence_stats',
  'history',
  'ping',
  'send',
  'rpc',
  'refresh',
  'sub_refresh',
] as const;
export type Method = (typeof METHODS)[number];

const METHOD_SET: ReadonlySet<string> = new Set(METHODS);

export interface Command {
  readonly id: number;
  /** `unknown` for a method this protocol version does not have: answered "method not found". */
  readonly method: Method | 'unknown';
  readonly params: Readonly<Record<string, unknown>>;
}

/** One parsed line of a frame: a command, the client's pong (`{}`), or garbage (the frame is refused). */
export type Incoming = { readonly kind: 'command'; readonly command: Command } | { readonly kind: 'pong' };

const MAX_ID = 0xffffffff;

/**
 * Parses a text frame into its commands. Throws `FrameError` when the frame is not valid protocol: bad
 * JSON, a line that is not an object, an id that is not a positive uint32, no method or several. An
 * unknown method with a good id is returned as such, so the caller can answer "method not found".
 */
export function parseFrame(text: string, maxCommands: number): Incoming[] {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new FrameError('nested too deep');
  const out: Incoming[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') {
      if (end === text.length) break;
      continue;
    }
    if (out.length >= maxCommands) throw new FrameError('too many commands in one frame');
    out.push(parseLine(line));
  }
  if (out.length === 0) throw new FrameError('empty frame');
  return out;
}

/**
 * How deep a command may nest (its `data` included). Deeper JSON would parse, but re-encoding it for
 * subscribers (JSON.stringify recurses) could overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * True when the JSON text nests objects and arrays deeper than `max`: one pass over the characters,
 * brackets inside strings ignored. Says nothing about validity (JSON.parse does).
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * A client's frame is not valid protocol (not JSON, not an object, two methods, a bad id, params of the wrong
 * type, too many commands): the connection answers error 107 (bad request) or disconnects with 3501.
 */
export class FrameError extends TesseraError {
  static readonly code = 'ERR_REALTIME_FRAME';
  constructor(message: string) {
    super(FrameError.code, message);
  }
}

function parseLine(line: string): Incoming {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new FrameError('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrameError('not an object');
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 0) return { kind: 'pong' };
  const id = o.id;
  let method: string | undefined;
  let params: unknown;
  for (const k of keys) {
    if (k === 'id') continue;
    if (method !== undefined) throw new FrameError('more than one method');
    method = k;
    params = o[k];
  }
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_ID) {
    // `send` is fire-and-forget: it has no id.
    if (id === undefined && method === 'send') return { kind: 'command', command: { id: 0, method: 'send', params: {} } };
    throw new FrameError('bad id');
  }
  if (method === undefined) throw new FrameError('no method');
  if (params === undefined || params === null) params = {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new FrameError('params not an object');
  if (!METHOD_SET.has(method)) return { kind: 'command', command: { id, method: 'unknown', params: {} } };
  return { kind: 'command', command: { id, method: method as Method, params: params as Record<string, unknown> } };
}

/** The server's ping; the client answers with the same empty object. */
export const PING_FRAME = '{}';

export function encodeReply(id: number, method: Method, result: unknown): string {
  return `{"id":${id},"${method}":${JSON.stringify(result)}}`;
}

export function encodeError(id: number, error: ProtocolError): string {
  return `{"id":${id},"error":${JSON.stringify(error)}}`;
}

export function encodePush(push: Record<string, unknown>): string {
  return `{"push":${JSON.stringify(push)}}`;
}

/** A string field of the params, or undefined when absent; throws FrameError when it is not a string. */
export function stringParam(params: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new FrameError(`${name} must be a string`);
  return v;
}

/** A publication as the protocol writes it (no server time). */
export function wirePublication(pub: Publication): Record<string, unknown> {
  const out: Record<string, unknown> = { data: pub.data };
  if (pub.info) out.info = pub.info;
  if (pub.offset !== undefined) out.offset = pub.offset;
  if (pub.epoch !== undefined) out.epoch = pub.epoch;
  return out;
}

/**
 * The first publications (in order) whose JSON fits in `budget` bytes, as the protocol writes them: a
 * history or recovery reply holds at most what one client may have waiting in its send buffer.
 */
export function fitPublications(
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

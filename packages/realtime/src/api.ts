/**
 * The server API: back-end services publish, broadcast, disconnect users and read presence over HTTP, with
 * a Tessera service token (`Authorization: Bearer`) holding the method's scope.
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
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Verifier } from '@tessera/verifier';
import { rejection } from '@tessera/verifier';

import { ApiRequestError, BrokerError, ChannelError } from './errors.js';
import type { Gateway } from './gateway.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './protocol.js';

const SCOPES: Readonly<Record<string, string>> = {
  publish: 'realtime:publish',
  broadcast: 'realtime:publish',
  disconnect: 'realtime:disconnect',
  unsubscribe: 'realtime:disconnect',
  presence: 'realtime:presence',
  presence_stats: 'realtime:presence',
  history: 'realtime:history',
};

export async function handleApi(
  gateway: Gateway,
  verifier: Verifier,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const scope = Object.hasOwn(SCOPES, method) ? SCOPES[method] : undefined;
    if (!scope) return send(res, 404, { error: 'not_found' });
    if (req.method !== 'POST') return send(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
    try {
      await verifier.authorize(req.headers.authorization, { scopes: [scope] });
    } catch (err) {
      const r = rejection(err, { realm: 'realtime' });
      return send(res, r.status, r.body, r.headers);
    }
    const body = await readJson(req, gateway.hub.limits.maxMessageBytes);
    // The rest of the body is not read: the connection cannot be reused.
    if (body === TOO_LARGE)
      return send(res, 413, { error: 'invalid_request', error_description: 'the body is too large' }, { connection: 'close' });
    const result = await run(gateway, method, body);
    send(res, 200, { result });
  } catch (err) {
    if (err instanceof ApiRequestError || err instanceof ChannelError)
      return send(res, 400, { error: 'invalid_request', error_description: err.message });
    if (err instanceof BrokerError) {
      gateway.hub.log('warn', 'realtime.api_unavailable', { method, error: err.message });
      const description = 'the broker is unavailable';
      return send(res, 503, { error: 'temporarily_unavailable', error_description: description }, { 'retry-after': '5' });
    }
    gateway.hub.log('error', 'realtime.api_error', { method, error: String((err as Error)?.message ?? err) });
    send(res, 500, { error: 'server_error' });
  }
}

async function run(gateway: Gateway, method: string, body: Record<string, unknown>): Promise<unknown> {
  switch (method) {
    case 'publish': {
      const channel = str(body, 'channel');
      if (!('data' in body)) throw new ApiRequestError('data is required');
      const pos = await gateway.publish(channel, body.data);
      return pos ? { offset: pos.offset, epoch: pos.epoch } : {};
    }
    case 'broadcast': {
      const channels = body.channels;
      if (
        !Array.isArray(channels) ||
        channels.length === 0 ||
        channels.length > 1000 ||
        !channels.every((c) => typeof c === 'string')
      ) {
        throw new ApiRequestError('channels must be a non-empty array of at most 1000 channel names');
      }
      if (!('data' in body)) throw new ApiRequestError('data is required');
      await gateway.broadcast(channels as string[], body.data);
      return {};
    }
    case 'disconnect': {
      const reconnect = body.reconnect;
      if (reconnect !== undefined && typeof reconnect !== 'boolean') throw new ApiRequestError('reconnect must be a boolean');
      await gateway.disconnectUser(str(body, 'user'), { reconnect: reconnect === true });
      return {};
    }
    case 'unsubscribe':
      await gateway.unsubscribeUser(str(body, 'user'), str(body, 'channel'));
      return {};
    case 'presence':
      return { presence: await gateway.presence(str(body, 'channel')) };
    case 'presence_stats': {
      const presence = await gateway.presence(str(body, 'channel'));
      const users = new Set(Object.values(presence).map((i) => i.user));
      return { num_clients: Object.keys(presence).length, num_users: users.size };
    }
    case 'history': {
      const limit = body.limit ?? 0;
      if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)
        throw new ApiRequestError('limit must be a non-negative integer');
      const reverse = body.reverse ?? false;
      if (typeof reverse !== 'boolean') throw new ApiRequestError('reverse must be a boolean');
      const since = body.since;
      let position;
      if (since !== undefined) {
        const s = since as Record<string, unknown>;
        if (
          typeof s !== 'object' ||
          s === null ||
          typeof s.epoch !== 'string' ||
          typeof s.offset !== 'number' ||
          !Number.isSafeInteger(s.offset) ||
          s.offset < 0
        ) {
          throw new ApiRequestError('since must be {offset, epoch}');
        }
        position = { offset: s.offset, epoch: s.epoch };
      }
      return gateway.history(str(body, 'channel'), { limit, reverse, ...(position ? { since: position } : {}) });
    }
  }
  throw new ApiRequestError('unknown method');
}

function str(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v.length === 0) throw new ApiRequestError(`${name} must be a non-empty string`);
  return v;
}

const TOO_LARGE = Symbol('too large');

async function readJson(req: IncomingMessage, max: number): Promise<Record<string, unknown> | typeof TOO_LARGE> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max + 1024) return TOO_LARGE;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new ApiRequestError(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiRequestError('the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ApiRequestError('the body must be a JSON object');
  return value as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

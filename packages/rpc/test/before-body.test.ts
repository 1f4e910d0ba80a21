/**
 * When a refusal is sent, relative to the request body. Requests here send their headers and only the start
 * of a large body, then wait: an answer that comes while the body is still open was decided on the headers.
 *   - with withAuthGate: every refusal (unary and streaming, HTTP/1.1 and HTTP/2) comes before the body;
 *   - with the interceptor alone: a server-streaming call is refused before its request message is read,
 *     but Connect reads and parses a unary call's whole body before any interceptor runs.
 */
import assert from 'node:assert/strict';
import { request as http1Request } from 'node:http';
import { connect as http2Connect, constants } from 'node:http2';
import { after, before, describe, it } from 'node:test';

import { createVerifier, type Verifier } from '@tessera/verifier';

import { startInventory, type Inventory } from './helpers/inventory.js';

const ISSUER = 'https://auth.test';
const BODY_BYTES = 1_000_000;
const WAIT_MS = 300;

interface Early {
  /** The response status and headers, or undefined when none came while the body was open. */
  status: number | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** True when the headers frame ended the HTTP/2 stream (a trailers-only gRPC answer). */
  endStream?: boolean;
  /** HTTP/2 trailers that followed (gRPC status after a streamed answer). */
  trailers?: Record<string, string | string[] | undefined>;
}

/** HTTP/1.1: headers and the first bytes of a BODY_BYTES body; what answer (if any) comes within WAIT_MS. */
function http1Early(base: string, path: string, contentType: string): Promise<Early> {
  return new Promise((resolve) => {
    const req = http1Request(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': String(BODY_BYTES), 'connect-protocol-version': '1' },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: undefined, headers: {} });
    }, WAIT_MS);
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode, headers: res.headers });
      res.resume();
      req.destroy();
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(16));
  });
}

/** HTTP/2 (h2c): the same, on one stream. */
function http2Early(base: string, path: string, contentType: string): Promise<Early> {
  return new Promise((resolve) => {
    const session = http2Connect(base);
    session.on('error', () => undefined);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': contentType,
      te: 'trailers',
      'connect-protocol-version': '1',
    });
    stream.on('error', () => undefined);
    let settled = false;
    const done = (early: Early) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.close(constants.NGHTTP2_CANCEL);
      session.close();
      resolve(early);
    };
    const timer = setTimeout(() => done({ status: undefined, headers: {} }), WAIT_MS);
    stream.on('response', (headers, flags) => {
      const early: Early = {
        status: Number(headers[':status']),
        headers,
        endStream: (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0,
      };
      if (early.endStream) return done(early);
      stream.on('trailers', (trailers) => done({ ...early, trailers }));
      stream.on('end', () => done(early));
      stream.resume();
    });
    // A gRPC frame header announcing a large message, and a few bytes of it.
    const frame = Buffer.alloc(5 + 16);
    frame.writeUInt32BE(BODY_BYTES, 1);
    stream.write(frame);
  });
}

describe('refusal before the request body', () => {
  let verifier: Verifier;
  let gated: Inventory;
  let plain: Inventory;
  before(async () => {
    verifier = createVerifier({ issuer: ISSUER, audience: 'inventory', algorithms: ['ES256'], jwks: { keys: [] } });
    gated = await startInventory({ verifier, gate: true });
    plain = await startInventory({ verifier });
  });
  after(async () => {
    await gated.close();
    await plain.close();
  });

  const UNARY = '/inventory.v1.InventoryService/GetStock';
  const STREAM = '/inventory.v1.InventoryService/WatchStock';

  describe('with withAuthGate', () => {
    it('Connect unary over HTTP/1.1: 401 with the Connect error JSON, body unread', async () => {
      const r = await http1Early(gated.h1, UNARY, 'application/proto');
      assert.equal(r.status, 401);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['tessera-refusal'], 'token_missing');
    });

    it('Connect unary over HTTP/2', async () => {
      const r = await http2Early(gated.h2, UNARY, 'application/json');
      assert.equal(r.status, 401);
      assert.equal(r.headers['tessera-refusal'], 'token_missing');
    });

    it('Connect streaming: 200 with the end-stream message', async () => {
      const r = await http2Early(gated.h2, STREAM, 'application/connect+proto');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/connect+proto');
    });

    it('gRPC unary: trailers-only (grpc-status 16 in a HEADERS frame with END_STREAM)', async () => {
      const r = await http2Early(gated.h2, UNARY, 'application/grpc+proto');
      assert.equal(r.status, 200);
      assert.equal(r.headers['grpc-status'], '16');
      assert.equal(r.headers['grpc-message'], 'a bearer token is required');
      assert.equal(r.endStream, true);
    });

    it('gRPC-Web unary over HTTP/1.1: trailers-only', async () => {
      const r = await http1Early(gated.h1, UNARY, 'application/grpc-web+proto');
      assert.equal(r.status, 200);
      assert.equal(r.headers['grpc-status'], '16');
    });

    it('a method without policy: refused on its headers too', async () => {
      const r = await http2Early(gated.h2, '/inventory.v1.InventoryService/DeleteItem', 'application/grpc');
      assert.equal(r.headers['grpc-status'], '7');
      assert.equal(r.headers['tessera-refusal'], 'no_policy');
    });

    it('under a route prefix (the last two path segments name the method)', async () => {
      const r = await http2Early(gated.h2, `/api${UNARY}`, 'application/grpc');
      // connect-node has no such prefix configured: the gate refuses first, which is the point here.
      assert.equal(r.headers['grpc-status'], '16');
    });

    it('a public method goes through to Connect (which waits for the body)', async () => {
      const r = await http2Early(gated.h2, '/inventory.v1.InventoryService/Health', 'application/grpc');
      assert.equal(r.status, undefined);
    });
  });

  describe('with the interceptor alone', () => {
    it('a unary call waits for its whole body: Connect parses it before interceptors run', async () => {
      assert.equal((await http1Early(plain.h1, UNARY, 'application/proto')).status, undefined);
      assert.equal((await http2Early(plain.h2, UNARY, 'application/grpc')).status, undefined);
    });

    it('a server-streaming call is refused before its request message is read', async () => {
      const r = await http2Early(plain.h2, STREAM, 'application/grpc');
      assert.equal(r.status, 200);
      assert.equal(r.trailers?.['grpc-status'], '16');
      const c = await http2Early(plain.h2, STREAM, 'application/connect+proto');
      assert.equal(c.status, 200);
    });
  });
});

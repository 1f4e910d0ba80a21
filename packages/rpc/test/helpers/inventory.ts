import { createServer as createHttp1Server, type Server as Http1Server } from 'node:http';
import { createSecureServer, createServer as createHttp2Server, type Http2Server, type Http2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  createAuthInterceptor,
  definePolicy,
  principal,
  principalKey,
  PUBLIC,
  withAuthGate,
  type AuthOptions,
} from '@tessera/rpc';

import { InventoryService } from '../gen/inventory/v1/inventory_pb.js';

/** The policy under test: deleteItem is left out on purpose (refused by default). */
export const inventoryPolicy = definePolicy(InventoryService, {
  getStock: { scopes: ['inventory:read'] },
  watchStock: { scopes: ['inventory:read'] },
  adjustStock: { scopes: ['inventory:write', 'inventory:admin'], mode: 'any' },
  health: PUBLIC,
});

/** What the handlers saw: every call that reached one, with the caller's token id (and getStock's, its workload claim). */
export interface Seen {
  calls: { method: string; tokenId: string | undefined; workload?: unknown }[];
  /** watchStock handlers that have returned (their loop saw ctx.signal aborted). */
  streamsEnded: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** The inventory service's handlers, recording each call they get in `seen`. */
export function inventoryRoutes(seen: Seen) {
  return (router: ConnectRouter) =>
    router.service(InventoryService, {
      getStock(req, ctx) {
        const p = principal(ctx);
        seen.calls.push({ method: 'getStock', tokenId: p.tokenId, workload: p.claims.workload });
        return { sku: req.sku, quantity: 42, caller: p.sub ?? '' };
      },
      async *watchStock(req, ctx) {
        const p = principal(ctx);
        seen.calls.push({ method: 'watchStock', tokenId: p.tokenId });
        const interval = req.intervalMs > 0 ? req.intervalMs : 50;
        try {
          for (let seq = req.after + 1n; !ctx.signal.aborted; seq++) {
            yield { seq, sku: req.sku, quantity: Number(seq % 100n) };
            await sleep(interval, ctx.signal);
          }
        } finally {
          seen.streamsEnded++;
        }
      },
      adjustStock(req, ctx) {
        const p = principal(ctx);
        seen.calls.push({ method: 'adjustStock', tokenId: p.tokenId });
        return { sku: req.sku, quantity: 42 + req.delta, caller: p.sub ?? '' };
      },
      health(_req, ctx) {
        seen.calls.push({ method: 'health', tokenId: ctx.values.get(principalKey)?.tokenId });
        return { status: 'ok' };
      },
      deleteItem() {
        seen.calls.push({ method: 'deleteItem', tokenId: undefined });
        return {};
      },
    });
}

export interface Inventory {
  /** h2c (HTTP/2 without TLS): Connect, gRPC, gRPC-Web; HTTP/2 over TLS given `tls`. */
  h2: string;
  /** HTTP/1.1: Connect and gRPC-Web; over TLS given `tls`. */
  h1: string;
  seen: Seen;
  close(): Promise<void>;
}

export interface InventoryOptions extends Omit<AuthOptions, 'policy'> {
  /** Put withAuthGate in front of the Connect handler (refusal before the body is read). */
  gate?: boolean;
  /** Extra interceptors, after the auth interceptor. */
  interceptors?: Interceptor[];
  /**
   * Serve over TLS with this certificate and key (PEM), asking each client for a certificate and taking any or
   * none (mutual TLS for certificate-bound tokens, RFC 8705).
   */
  tls?: { cert: string; key: string };
}

/** The protected inventory service on an h2c server and an HTTP/1.1 server, both on port 0. */
export async function startInventory(options: InventoryOptions): Promise<Inventory> {
  const { gate, interceptors = [], tls, ...auth } = options;
  const seen: Seen = { calls: [], streamsEnded: 0 };
  const authOptions: AuthOptions = { ...auth, policy: inventoryPolicy };
  const adapter = connectNodeAdapter({
    routes: inventoryRoutes(seen),
    interceptors: [createAuthInterceptor(authOptions), ...interceptors],
  });
  const handler = gate === true ? withAuthGate(adapter, authOptions) : adapter;

  const secure = tls && { cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false };
  const h2 = secure ? createSecureServer(secure, handler) : createHttp2Server(handler);
  const sessions = new Set<Http2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const h1 = secure ? createHttpsServer(secure, handler) : createHttp1Server(handler);
  const [h2Url, h1Url] = await Promise.all([listen(h2, secure), listen(h1, secure)]);
  return {
    h2: h2Url,
    h1: h1Url,
    seen,
    async close() {
      for (const s of sessions) s.destroy();
      h1.closeAllConnections();
      await Promise.all([new Promise((r) => h2.close(r)), new Promise((r) => h1.close(r))]);
    },
  };
}

async function listen(server: Http1Server | Http2Server, tls: unknown): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

import { fileURLToPath } from 'node:url';

import { create } from '@bufbuild/protobuf';
import { ConnectError, createClient, type Client, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REFUSAL_HEADER } from '@tessera/rpc';

import { InventoryService, WatchStockRequestSchema } from '../gen/inventory/v1/inventory_pb.js';
import type { Inventory } from './inventory.js';

export type UnaryMethod = 'getStock' | 'adjustStock' | 'health' | 'deleteItem';

/** The result of a call as any client sees it: the answer, or the status code, message and refusal reason. */
export type Outcome =
  | { ok: true; caller?: string; status?: string; events?: bigint[] }
  | { ok: false; code: number; message: string; reason: string | undefined; events?: bigint[] };

/** One kind of client, calling the inventory service with a given Authorization value (or none). */
export interface Caller {
  name: string;
  unary(method: UnaryMethod, authorization: string | undefined): Promise<Outcome>;
  /** Opens watchStock, takes up to `take` events (then hangs up), or reports how the stream ended. */
  stream(authorization: string | undefined, take: number, request?: { after?: bigint; intervalMs?: number }): Promise<Outcome>;
  close(): void;
}

export const PROTO = fileURLToPath(new URL('../../test/proto/inventory/v1/inventory.proto', import.meta.url));
export const PROTO_ROOT = fileURLToPath(new URL('../../test/proto', import.meta.url));

const headersOf = (authorization: string | undefined) => (authorization === undefined ? {} : { authorization });

function connectCaller(name: string, transport: Transport): Caller {
  const client: Client<typeof InventoryService> = createClient(InventoryService, transport);
  const fail = (err: unknown, events?: bigint[]): Outcome => {
    const e = ConnectError.from(err);
    return {
      ok: false,
      code: e.code,
      message: e.rawMessage,
      reason: e.metadata.get(REFUSAL_HEADER) ?? undefined,
      ...(events ? { events } : {}),
    };
  };
  return {
    name,
    async unary(method, authorization) {
      const headers = headersOf(authorization);
      try {
        switch (method) {
          case 'getStock':
            return { ok: true, caller: (await client.getStock({ sku: 'sku-1' }, { headers })).caller };
          case 'adjustStock':
            return { ok: true, caller: (await client.adjustStock({ sku: 'sku-1', delta: 1 }, { headers })).caller };
          case 'health':
            return { ok: true, status: (await client.health({}, { headers })).status };
          case 'deleteItem':
            await client.deleteItem({ sku: 'sku-1' }, { headers });
            return { ok: true };
        }
      } catch (err) {
        return fail(err);
      }
    },
    async stream(authorization, take, request = {}) {
      const events: bigint[] = [];
      const abort = new AbortController();
      try {
        for await (const e of client.watchStock(
          create(WatchStockRequestSchema, { sku: 'sku-1', after: request.after ?? 0n, intervalMs: request.intervalMs ?? 10 }),
          { headers: headersOf(authorization), signal: abort.signal },
        )) {
          events.push(e.seq);
          if (events.length >= take) break;
        }
        return { ok: true, events };
      } catch (err) {
        return fail(err, events);
      } finally {
        abort.abort();
      }
    },
    close() {},
  };
}

export const connectH2 = (inv: Inventory) =>
  connectCaller('Connect (h2c)', createConnectTransport({ baseUrl: inv.h2, httpVersion: '2' }));
export const connectH1 = (inv: Inventory) =>
  connectCaller('Connect (HTTP/1.1)', createConnectTransport({ baseUrl: inv.h1, httpVersion: '1.1' }));
export const connectJson = (inv: Inventory) =>
  connectCaller(
    'Connect JSON (HTTP/1.1)',
    createConnectTransport({ baseUrl: inv.h1, httpVersion: '1.1', useBinaryFormat: false }),
  );
export const grpcTransport = (inv: Inventory) => connectCaller('gRPC (connect-node)', createGrpcTransport({ baseUrl: inv.h2 }));
export const grpcWebH2 = (inv: Inventory) =>
  connectCaller('gRPC-Web (h2c)', createGrpcWebTransport({ baseUrl: inv.h2, httpVersion: '2' }));
export const grpcWebH1 = (inv: Inventory) =>
  connectCaller('gRPC-Web (HTTP/1.1)', createGrpcWebTransport({ baseUrl: inv.h1, httpVersion: '1.1' }));

type GrpcJsUnary = (
  req: object,
  md: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void,
) => grpc.ClientUnaryCall;

export interface GrpcJsInventory extends grpc.Client {
  GetStock: GrpcJsUnary;
  AdjustStock: GrpcJsUnary;
  Health: GrpcJsUnary;
  DeleteItem: GrpcJsUnary;
  WatchStock(req: object, md: grpc.Metadata): grpc.ClientReadableStream<{ seq: string }>;
}

/** The inventory service as @grpc/grpc-js sees it, from the .proto (no generated code of ours involved). */
export function grpcJsClient(address: string, credentials = grpc.credentials.createInsecure()): GrpcJsInventory {
  const def = protoLoader.loadSync(PROTO, { longs: String, defaults: true, includeDirs: [PROTO_ROOT] });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    inventory: { v1: { InventoryService: new (a: string, c: grpc.ChannelCredentials) => GrpcJsInventory } };
  };
  return new pkg.inventory.v1.InventoryService(address, credentials);
}

function grpcJsFailure(err: grpc.ServiceError, events?: bigint[]): Outcome {
  const reason = err.metadata?.get(REFUSAL_HEADER)[0];
  return {
    ok: false,
    code: err.code,
    message: err.details,
    reason: reason === undefined ? undefined : String(reason),
    ...(events ? { events } : {}),
  };
}

/** @grpc/grpc-js over h2c, the token in call metadata. */
export function grpcJs(inv: Inventory): Caller {
  const client = grpcJsClient(new URL(inv.h2).host);
  const metadata = (authorization: string | undefined) => {
    const md = new grpc.Metadata();
    if (authorization !== undefined) md.set('authorization', authorization);
    return md;
  };
  const names = { getStock: 'GetStock', adjustStock: 'AdjustStock', health: 'Health', deleteItem: 'DeleteItem' } as const;
  const requests = {
    getStock: { sku: 'sku-1' },
    adjustStock: { sku: 'sku-1', delta: 1 },
    health: {},
    deleteItem: { sku: 'sku-1' },
  };
  return {
    name: '@grpc/grpc-js',
    unary(method, authorization) {
      return new Promise((resolve) => {
        client[names[method]](requests[method], metadata(authorization), (err, res) => {
          if (err) return resolve(grpcJsFailure(err));
          resolve({ ok: true, caller: res?.caller as string | undefined, status: res?.status as string | undefined });
        });
      });
    },
    stream(authorization, take, request = {}) {
      return new Promise((resolve) => {
        const events: bigint[] = [];
        const call = client.WatchStock(
          { sku: 'sku-1', after: String(request.after ?? 0n), intervalMs: request.intervalMs ?? 10 },
          metadata(authorization),
        );
        let settled = false;
        call.on('data', (e: { seq: string }) => {
          events.push(BigInt(e.seq));
          if (events.length >= take && !settled) {
            settled = true;
            call.cancel();
            resolve({ ok: true, events });
          }
        });
        call.on('error', (err: grpc.ServiceError) => {
          if (!settled) resolve(grpcJsFailure(err, events));
          settled = true;
        });
        call.on('end', () => {
          if (!settled) resolve({ ok: true, events });
          settled = true;
        });
      });
    },
    close: () => client.close(),
  };
}

/** Every client kind the behaviour suite runs through. */
export const CALLERS: readonly { name: string; make: (inv: Inventory) => Caller }[] = [
  { name: 'Connect (h2c)', make: connectH2 },
  { name: 'Connect (HTTP/1.1)', make: connectH1 },
  { name: 'Connect JSON (HTTP/1.1)', make: connectJson },
  { name: 'gRPC (connect-node)', make: grpcTransport },
  { name: 'gRPC-Web (h2c)', make: grpcWebH2 },
  { name: 'gRPC-Web (HTTP/1.1)', make: grpcWebH1 },
  { name: '@grpc/grpc-js (h2c, metadata)', make: grpcJs },
];

import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 port 0 in front of `target`, to simulate network faults between the server and its
 * database: `cut()` resets every connection and refuses new ones (the database is down), `stall()` holds every
 * byte without an answer (the network lost the database, no reset), `restore()` lets traffic through again
 * (what a stall held is delivered).
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** Bytes held during a stall, per direction. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'open' | 'cut' | 'stall' = 'open';
  const pairs = new Set<Pair>();

  const end = (p: Pair) => {
    pairs.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  };
  const flush = (p: Pair) => {
    if (!p.upstream) openUpstream(p);
    for (const b of p.toUpstream.splice(0)) p.upstream!.write(b);
    for (const b of p.toClient.splice(0)) p.client.write(b);
  };
  const openUpstream = (p: Pair) => {
    const upstream = connect(target.port, target.host);
    p.upstream = upstream;
    upstream.on('data', (b: Buffer) => (mode === 'open' ? p.client.write(b) : p.toClient.push(b)));
    upstream.on('error', () => end(p));
    upstream.on('close', () => end(p));
  };

  const server = createServer((client) => {
    if (mode === 'cut') return void client.destroy();
    const p: Pair = { client, upstream: undefined, toUpstream: [], toClient: [] };
    pairs.add(p);
    client.on('data', (b: Buffer) => (mode === 'open' && p.upstream ? p.upstream.write(b) : p.toUpstream.push(b)));
    client.on('error', () => end(p));
    client.on('close', () => end(p));
    if (mode === 'open') openUpstream(p);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));

  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      mode = 'cut';
      for (const p of [...pairs]) end(p);
    },
    stall() {
      mode = 'stall';
    },
    restore() {
      mode = 'open';
      for (const p of pairs) flush(p);
    },
    async close() {
      for (const p of [...pairs]) end(p);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

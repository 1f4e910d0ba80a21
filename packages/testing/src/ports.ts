import { connect, createServer } from 'node:net';

/** `port` if it can be listened on at 127.0.0.1 right now (0: any free port), else undefined. */
export function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer()
      .once('error', () => resolve(undefined))
      .listen(port, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
  });
}

/** A port free right now at 127.0.0.1. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await listenable(0);
    if (port !== undefined) return port;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

import type { AddressInfo } from 'node:net';

/** A listen() that failed because the port is taken (a Node system error code, not its message). */
export function isAddressInUse(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'EADDRINUSE';
}

/** The URL of the address a server is bound to, e.g. `http://0.0.0.0:4000`, `http://[::1]:4000`. */
export function boundUrl(address: AddressInfo, scheme: string): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

/** Resolves once SIGINT or SIGTERM has come and `close` has settled: a listening command runs until then. */
export function untilStopped(close: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

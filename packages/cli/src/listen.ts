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

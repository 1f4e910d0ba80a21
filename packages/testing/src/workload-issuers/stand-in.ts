/**
 * What the workload-identity stand-ins share: a real HTTP server on 127.0.0.1 port 0 that answers a few fixed
 * routes, counts what it served, and can be made unreachable (every connection is reset: TCP RST); a ring of signing keys; and the signing of exact JOSE header and claims texts.
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { CompactSign, type JWK } from 'jose';

/** The public key set a stand-in serves, as its issuer writes it (extra top-level members included). */
export interface PublishedKeySet {
  keys: JWK[];
  [member: string]: unknown;
}

/** What every workload-identity stand-in offers. */
export interface StandIn {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** The issuer its tokens name (or would name). */
  readonly issuer: string;
  /** How many key, discovery or bundle requests it served (not those refused while unreachable). */
  readonly requests: number;
  close(): Promise<void>;
  /** A new signing key signs from now on; `keepOld` (default true) keeps the old ones published for the overlap. */
  rotateKeys(opts?: { keepOld?: boolean }): Promise<void>;
  /** While down, every request has its socket destroyed (a connection reset): for fail-closed tests. */
  setUnreachable(down: boolean): void;
  /** The public key document it serves right now. */
  jwks(): PublishedKeySet;
  /** Signs `payload` under exactly `header` (which names the alg) with the current key: for negative cases. */
  sign(payload: Record<string, unknown>, header: Record<string, unknown>): Promise<string>;
}

/** One answer of a route: status 200 with this body (a string is sent as is, anything else as JSON). */
export interface Reply {
  body: unknown;
  headers: Record<string, string>;
}

export interface Host {
  url: string;
  requests: number;
  down: boolean;
  close(): Promise<void>;
}

/** Serves `routes` (exact path of a GET, query ignored) on 127.0.0.1 port 0; anything else gets a plain 404. */
export async function startHost(routes: (path: string) => Reply | undefined): Promise<Host> {
  const host: Host = { url: '', requests: 0, down: false, close: async () => {} };
  const server: Server = createServer((req, res) => {
    if (host.down) {
      req.socket.resetAndDestroy();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const reply = req.method === 'GET' ? routes(path) : undefined;
    if (!reply) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    host.requests++;
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(200, reply.headers).end(body);
  });
  // A new connection while down is reset before a byte is read (TCP RST); one kept alive is reset at its next request.
  server.on('connection', (socket) => {
    if (host.down) socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  host.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return host;
}

/** A signing key: its private half, the public JWK members and whatever the issuer publishes beside them. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** `kty` with `n`/`e` or `crv`/`x`/`y`, as jose exports them. */
  jwk: JWK;
  kid: string;
  /** DER of the key's certificate, for issuers that publish one. */
  certificate?: Buffer;
}

/** What every token request may add: when it was issued, and claims and header members laid over the minted ones. */
export interface MintOptions {
  /** Seconds added to the current time for the issue time (negative: issued in the past). */
  iatOffset?: number;
  /** Claims laid over the minted ones (`undefined` removes one). */
  claims?: Record<string, unknown>;
  /** Header members laid over the minted ones (`undefined` removes one). */
  header?: Record<string, unknown>;
}

/** The signing keys of a stand-in, the newest last: it signs; the others stay published until dropped. */
export class KeyRing {
  keys: SigningKey[];
  constructor(
    first: SigningKey,
    private readonly newKey: () => Promise<SigningKey>,
  ) {
    this.keys = [first];
  }
  get current(): SigningKey {
    return this.keys[this.keys.length - 1]!;
  }
  async rotate(keepOld: boolean): Promise<void> {
    const next = await this.newKey();
    this.keys = keepOld ? [...this.keys, next] : [next];
  }
}

/** The members every stand-in shares, over its host and key ring; `onRotate` runs after each rotation. */
export function standIn(
  host: Host,
  issuer: string,
  ring: KeyRing,
  jwks: () => PublishedKeySet,
  onRotate: () => void = () => {},
): StandIn {
  return {
    url: host.url,
    issuer,
    get requests() {
      return host.requests;
    },
    close: () => host.close(),
    async rotateKeys({ keepOld = true } = {}) {
      await ring.rotate(keepOld);
      onRotate();
    },
    setUnreachable(down) {
      host.down = down;
    },
    jwks,
    sign: (payload, header) => signCompact(payload, header, ring.current.privateKey),
  };
}

/** Signs the exact header and claims objects (their member order is kept: JSON.stringify of each). */
export function signCompact(payload: Record<string, unknown>, header: Record<string, unknown>, key: KeyObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(key);
}

/** Go's encoding/json writes a map's members in sorted order; go-jose builds JWT claims and headers as maps. */
export function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortedDeep(v);
  }
  return out;
}

/** `base` with `overrides` laid over it; an override of `undefined` removes the member. */
export function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...overrides };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const run = promisify(execFile);

/**
 * A fresh key and a self-signed certificate for it, made by openssl (as the project's TLS helpers do): `keyArgs`
 * choose the key (`['-newkey', 'rsa:2048']`), `subject` and `extensions` (each an `-addext` value) the certificate.
 */
export async function certifiedKey(
  keyArgs: string[],
  subject: string,
  extensions: string[],
  days: number,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject; certificate: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-stand-in-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-days',
      String(days),
      '-subj',
      subject,
      ...extensions.flatMap((e) => ['-addext', e]),
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ]);
    const privateKey = createPrivateKey(await readFile(keyFile));
    const cert = new X509Certificate(await readFile(certFile));
    return { privateKey, publicKey: cert.publicKey, certificate: cert.raw };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function sha1(data: Buffer): Buffer {
  return createHash('sha1').update(data).digest();
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

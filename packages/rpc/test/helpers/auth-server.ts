import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createServer, type CreateServerOptions, type TesseraServer } from '@tessera/server';
import { registerClient, type ClientInput, contextOf } from '@tessera/server/internal';
import {
  createRevocationList,
  createVerifier,
  REVOCATIONS_SCOPE,
  type RevocationList,
  type Verifier,
  type VerifierOptions,
} from '@tessera/verifier';

/** The audience the protected inventory service verifies. */
export const AUDIENCE = 'https://inventory.test';

export interface Creds {
  id: string;
  secret: string;
}

/** A real @tessera/server on a temp SQLite file, listening on 127.0.0.1 port 0. */
export interface AuthServer {
  server: TesseraServer;
  /** The issuer, e.g. http://127.0.0.1:39123. */
  url: string;
  tokenEndpoint: string;
  /** Registers a client_credentials client (secret auth) allowed `scopes` for AUDIENCE. */
  client(id: string, scopes: string[], extra?: Partial<ClientInput>): Promise<Creds>;
  /** A token by client credentials; throws unless the server answers 200. */
  token(c: Creds, params?: Record<string, string>): Promise<string>;
  /** Revokes a token through the RFC 7009 endpoint, as the client that owns it. */
  revoke(c: Creds, token: string): Promise<void>;
  close(): Promise<void>;
}

const basic = (c: Creds) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64');

async function post(url: string, c: Creds, params: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c) },
    body: new URLSearchParams(params).toString(),
  });
}

/** `now`: the server's clock (a test moves it forward to let tokens expire); `overrides`: settings of the test's own. */
export async function startAuthServer(
  options: { now?: () => number; overrides?: CreateServerOptions['overrides'] } = {},
): Promise<AuthServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rpc-'));
  const server = await createServer({
    overrides: { ...options.overrides, dataDir: dir, port: 0, logLevel: 'silent' },
    now: options.now,
  });
  await server.listen();
  const url = server.config.issuer;
  const ctx = contextOf(server);
  return {
    server,
    url,
    tokenEndpoint: `${url}/oauth/token`,
    async client(id, scopes, extra = {}) {
      const input: ClientInput = { id, grantTypes: ['client_credentials'], scopes, audiences: [AUDIENCE], ...extra };
      const { client, secret } = await registerClient(ctx.store, ctx.master, input, ctx.now());
      return { id: client.id, secret: secret! };
    },
    async token(c, params = {}) {
      const res = await post(`${url}/oauth/token`, c, { grant_type: 'client_credentials', ...params });
      const body = (await res.json()) as { access_token?: string };
      if (res.status !== 200 || typeof body.access_token !== 'string')
        throw new Error(`token for ${c.id}: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async revoke(c, token) {
      const res = await post(`${url}/oauth/revoke`, c, { token, token_type_hint: 'access_token' });
      if (res.status !== 200) throw new Error(`revoke: ${res.status}`);
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A verifier of the inventory service against `auth`: remote JWKS, and a revocation list that follows the server. */
export async function startVerifier(
  auth: AuthServer,
  options: Partial<VerifierOptions> = {},
): Promise<{ verifier: Verifier; revocations: RevocationList; close(): void }> {
  const feed = await auth.client(`revocation-feed-${Math.random().toString(36).slice(2, 8)}`, [REVOCATIONS_SCOPE], {
    audiences: [`${auth.url}/revocations`],
  });
  const revocations = createRevocationList({ issuer: auth.url, clientId: feed.id, clientSecret: feed.secret });
  await revocations.ready(10_000);
  const verifier = createVerifier({
    issuer: auth.url,
    audience: AUDIENCE,
    algorithms: ['ES256'],
    jwksUri: `${auth.url}/.well-known/jwks.json`,
    revocations,
    ...options,
  });
  return {
    verifier,
    revocations,
    close() {
      verifier.close();
      revocations.close();
    },
  };
}

/** Resolves once `list` has applied a revocation for which `match` is true. */
export function nextRevocation(list: RevocationList, match: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const stop = list.onRevocation(() => {
      if (match()) {
        stop();
        resolve();
      }
    });
  });
}

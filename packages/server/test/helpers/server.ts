import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createServer, type CreateServerOptions, type TesseraServer } from '@tessera/server';
import { ADMIN_SCOPE, adminAudience, hashPassword, registerClient, type ClientInput, contextOf } from '@tessera/server/internal';
import type { TestPki } from '@tessera/testing';

/** A parsed JSON response body; tests read it field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A real auth server on a fresh SQLite file in a temp dir, listening on 127.0.0.1 port 0. */
export interface TestServer {
  server: TesseraServer;
  /** Base URL, e.g. http://127.0.0.1:39123 (also the issuer). */
  url: string;
  dir: string;
  /** POST an application/x-www-form-urlencoded body. */
  form(
    path: string,
    params: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: Json }>;
  /** Registers a client directly in the store; returns its id and secret. */
  client(input: ClientInput): Promise<{ id: string; secret: string | undefined }>;
  /** Creates a user directly in the store. */
  user(username: string, password: string, roles?: string[]): Promise<string>;
  /** An admin access token (client credentials of a built-in admin client). */
  adminToken(): Promise<string>;
  /** Calls the admin API with the admin token. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: Json }>;
  /** Stops the server; `keepData` leaves the folder for a restart. */
  close(keepData?: boolean): Promise<void>;
}

export function basic(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

export async function startServer(options: CreateServerOptions & { dir?: string } = {}): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tessera-server-'));
  const server = await createServer({
    ...options,
    overrides: { dataDir: dir, port: 0, logLevel: 'silent', ...options.overrides },
  });
  await server.listen();
  const url = server.config.issuer;
  const ctx = contextOf(server);
  let adminClient: { id: string; secret: string } | undefined;

  const t: TestServer = {
    server,
    url,
    dir,
    async form(path, params, headers = {}) {
      const res = await fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(params).toString(),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    },
    async client(input) {
      const { client, secret } = await registerClient(ctx.store, ctx.master, input, ctx.now());
      return { id: client.id, secret };
    },
    async user(username, password, roles = []) {
      const id = `user-${username}`;
      const now = ctx.now();
      await ctx.store.users.create({
        id,
        username,
        passwordHash: await hashPassword(password),
        disabled: false,
        roles,
        createdAt: now,
        updatedAt: now,
      });
      return id;
    },
    async adminToken() {
      if (!adminClient) {
        const c = await t.client({
          id: 'test-admin',
          grantTypes: ['client_credentials'],
          scopes: [ADMIN_SCOPE],
          audiences: [adminAudience(url)],
        });
        adminClient = { id: c.id, secret: c.secret! };
      }
      const r = await t.form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic(adminClient.id, adminClient.secret) },
      );
      if (r.status !== 200) throw new Error(`admin token: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.access_token as string;
    },
    async admin(method, path, body) {
      const token = await t.adminToken();
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    },
    async close(keepData = false) {
      await server.close();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/**
 * A real auth server on HTTPS with the server certificate of `pki`, asking for client certificates issued by its CA
 * (mutual TLS, RFC 8705); the certificate files are in its data folder, removed by close().
 */
export function startMutualTlsServer(pki: TestPki, options: CreateServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mtls-'));
  writeFileSync(join(dir, 'server.crt'), pki.server.cert);
  writeFileSync(join(dir, 'server.key'), pki.server.key);
  writeFileSync(join(dir, 'clients-ca.crt'), pki.ca.cert);
  return startServer({
    ...options,
    dir,
    overrides: {
      tlsCert: join(dir, 'server.crt'),
      tlsKey: join(dir, 'server.key'),
      tlsClientCa: join(dir, 'clients-ca.crt'),
      ...options.overrides,
    },
  });
}

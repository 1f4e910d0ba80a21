/** A real @tessera/server on a temp SQLite file: users log in with the password grant for the gateway's audience. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createServer, type TesseraServer } from '@tessera/server';
import { ADMIN_SCOPE, adminAudience, hashPassword, registerClient, contextOf } from '@tessera/server/internal';
import { createRevocationList, createVerifier, REVOCATIONS_SCOPE, type RevocationList, type Verifier } from '@tessera/verifier';

export const GATEWAY_AUDIENCE = 'realtime';
export const CHAT_SCOPES = ['chat:room:*:subscribe', 'chat:room:*:publish'];

export interface Creds {
  id: string;
  secret: string;
}

export interface AuthServer {
  server: TesseraServer;
  url: string;
  /** Creates a user with the chat role. */
  user(username: string): Promise<string>;
  /**
   * Password grant for the gateway audience: the access token; with `dpop`, a proof for `POST <url>/oauth/token`
   * (`dpop(url)` signs it), the token is bound to the proof's key.
   */
  login(username: string, dpop?: (tokenEndpoint: string) => Promise<string>): Promise<string>;
  /** A service token (client credentials) with `scopes` for the gateway audience. */
  serviceToken(scopes: string[]): Promise<string>;
  /** Revokes one access token (RFC 7009) as the web client. */
  revoke(token: string): Promise<void>;
  /** Admin cut-off: every token of the user issued until now. */
  revokeSubject(sub: string): Promise<void>;
  /** A client allowed to read the revocation stream. */
  feedClient(): Promise<Creds>;
  /** A verifier for the gateway audience with a revocation list following this server. */
  gatewayVerifier(): Promise<{ verifier: Verifier; revocations: RevocationList; close(): void }>;
  close(): Promise<void>;
}

const PASSWORD = 'a long enough test password';

const basic = (c: Creds) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64');

async function form(
  url: string,
  c: Creds,
  params: Record<string, string>,
  dpop?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(c),
      ...(dpop === undefined ? {} : { dpop }),
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function startAuthServer(): Promise<AuthServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-realtime-'));
  const server = await createServer({ overrides: { dataDir: dir, port: 0, logLevel: 'silent' } });
  await server.listen();
  const url = server.config.issuer;
  const ctx = contextOf(server);
  const register = async (input: Parameters<typeof registerClient>[2]): Promise<Creds> => {
    const { client, secret } = await registerClient(ctx.store, ctx.master, input, ctx.now());
    return { id: client.id, secret: secret! };
  };
  await ctx.store.roles.put({ name: 'chatter', permissions: CHAT_SCOPES });
  const web = await register({
    id: 'chat-web',
    firstParty: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: CHAT_SCOPES,
    audiences: [GATEWAY_AUDIENCE],
  });
  const admin = await register({
    id: 'test-admin',
    grantTypes: ['client_credentials'],
    scopes: [ADMIN_SCOPE],
    audiences: [adminAudience(url)],
  });
  const feedClient = () =>
    register({
      id: `revocation-feed-${Math.random().toString(36).slice(2, 8)}`,
      grantTypes: ['client_credentials'],
      scopes: [REVOCATIONS_SCOPE],
      audiences: [`${url}/revocations`],
    });
  let services = 0;
  const token = async (c: Creds, params: Record<string, string>, dpop?: string): Promise<string> => {
    const r = await form(`${url}/oauth/token`, c, params, dpop);
    if (r.status !== 200 || typeof r.body.access_token !== 'string')
      throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.access_token;
  };
  return {
    server,
    url,
    async user(username) {
      const id = `user-${username}`;
      const now = ctx.now();
      await ctx.store.users.create({
        id,
        username,
        passwordHash: await hashPassword(PASSWORD),
        disabled: false,
        roles: ['chatter'],
        createdAt: now,
        updatedAt: now,
      });
      return id;
    },
    login: async (username, dpop) =>
      token(
        web,
        { grant_type: 'password', username, password: PASSWORD, scope: CHAT_SCOPES.join(' ') },
        dpop && (await dpop(`${url}/oauth/token`)),
      ),
    async serviceToken(scopes) {
      const c = await register({
        id: `svc-${++services}`,
        grantTypes: ['client_credentials'],
        scopes,
        audiences: [GATEWAY_AUDIENCE],
      });
      return token(c, { grant_type: 'client_credentials' });
    },
    async revoke(t) {
      const r = await form(`${url}/oauth/revoke`, web, { token: t, token_type_hint: 'access_token' });
      if (r.status !== 200) throw new Error(`revoke: ${r.status}`);
    },
    async revokeSubject(sub) {
      const adminToken = await token(admin, { grant_type: 'client_credentials' });
      const res = await fetch(`${url}/admin/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subject: sub }),
      });
      if (res.status >= 300) throw new Error(`admin revoke: ${res.status} ${await res.text()}`);
    },
    feedClient,
    async gatewayVerifier() {
      const feed = await feedClient();
      const revocations = createRevocationList({ issuer: url, clientId: feed.id, clientSecret: feed.secret });
      await revocations.ready(10_000);
      const verifier = createVerifier({
        issuer: url,
        audience: GATEWAY_AUDIENCE,
        algorithms: ['ES256', 'EdDSA', 'RS256'],
        jwksUri: `${url}/.well-known/jwks.json`,
        revocations,
      });
      return {
        verifier,
        revocations,
        close() {
          verifier.close();
          revocations.close();
        },
      };
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

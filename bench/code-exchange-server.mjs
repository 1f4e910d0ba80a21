// One authorization server for bench/code-exchange.mjs, listening on 127.0.0.1 port 0, with one confidential
// client (client_secret_basic; authorization_code and refresh_token) and one user:
//   tessera        @tessera/server on a temp SQLite folder, ES256
//   oidc-provider  node-oidc-provider (in-memory adapter), JWT access tokens, ES256
// Both answer a code exchange with an ES256 JWT access token and a refresh token they store.
// Prints `READY <port> <JSON: path, authorization, redirect_uri, code_verifier, control>` on stdout once
// listening. `control` is a second port on 127.0.0.1: `GET /mint?n=<n>` there mints n authorization codes (PKCE
// S256, all for the same verifier) and answers them one per line. Minting is not measured.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';

import { startTessera } from './tessera-server.mjs';

const mode = process.argv[2] ?? 'tessera';
const AUDIENCE = 'https://orders.example';
const SCOPE = 'orders:read';
const REDIRECT_URI = 'https://app.example/callback';
const SECRET = 'a-client-secret-of-sufficient-length-for-the-bench';
const VERIFIER = randomBytes(32).toString('base64url');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const basic = (id, secret) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

async function tessera() {
  const { hashPassword, issueAuthorizationCode, registerClient, startBrowserSession } = await import('@tessera/server/internal');
  const { ctx, port, close } = await startTessera();
  const now = Date.now();
  const { client, secret } = await registerClient(
    ctx.store,
    ctx.master,
    {
      id: 'web',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: [SCOPE],
      audiences: [AUDIENCE],
      redirectUris: [REDIRECT_URI],
    },
    now,
  );
  await ctx.store.roles.put({ name: 'reader', permissions: [SCOPE] });
  const user = {
    id: 'u-alice',
    username: 'alice',
    passwordHash: await hashPassword('correct horse battery staple'),
    disabled: false,
    roles: ['reader'],
    createdAt: now,
    updatedAt: now,
  };
  await ctx.store.users.create(user);
  // The browser session the user signed in with at /authorize; its codes' refresh families end with it.
  const { session } = await startBrowserSession(ctx, user.id, undefined);
  const request = {
    client,
    redirectUri: REDIRECT_URI,
    responseMode: 'query',
    state: undefined,
    scopes: [SCOPE],
    audience: [AUDIENCE],
    codeChallenge: CHALLENGE,
  };
  return {
    port,
    path: '/oauth/token',
    authorization: basic(client.id, secret),
    mint: () => issueAuthorizationCode(ctx, request, user, session),
    close,
  };
}

/**
 * node-oidc-provider's built-in development adapter keeps at most 1,000 entries (an LRU): past that it forgets
 * the grant and refuses the codes. This one keeps everything in maps, as a store would, for the run's length.
 */
function mapAdapter() {
  const entries = new Map();
  const byGrant = new Map();
  return class MapAdapter {
    constructor(name) {
      this.name = name;
    }
    key(id) {
      return `${this.name}:${id}`;
    }
    async upsert(id, payload) {
      entries.set(this.key(id), payload);
      if (payload.grantId) {
        if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
        byGrant.get(payload.grantId).add(this.key(id));
      }
    }
    async find(id) {
      return entries.get(this.key(id));
    }
    async findByUid(uid) {
      for (const payload of entries.values()) if (payload.uid === uid) return payload;
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id) {
      const payload = entries.get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id) {
      entries.delete(this.key(id));
    }
    async revokeByGrantId(grantId) {
      for (const key of byGrant.get(grantId) ?? []) entries.delete(key);
      byGrant.delete(grantId);
    }
  };
}

async function oidcProvider() {
  const { default: Provider } = await import('oidc-provider');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'es256-1', alg: 'ES256', use: 'sig' };
  const provider = new Provider('http://127.0.0.1', {
    adapter: mapAdapter(),
    clients: [
      {
        client_id: 'web',
        client_secret: SECRET,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
        scope: SCOPE,
      },
    ],
    jwks: { keys: [jwk] },
    scopes: [SCOPE],
    pkce: { required: () => true },
    issueRefreshToken: () => true,
    cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: SCOPE,
          audience: AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const client = await provider.Client.find('web');
  const grant = new provider.Grant({ accountId: 'u-alice', clientId: 'web' });
  grant.addResourceScope(AUDIENCE, SCOPE);
  const grantId = await grant.save();
  return {
    port: server.address().port,
    path: '/token',
    authorization: basic('web', SECRET),
    mint: () =>
      new provider.AuthorizationCode({
        client,
        accountId: 'u-alice',
        grantId,
        redirectUri: REDIRECT_URI,
        scope: SCOPE,
        resource: AUDIENCE,
        codeChallenge: CHALLENGE,
        codeChallengeMethod: 'S256',
        authTime: Math.floor(Date.now() / 1000),
        expiresWithSession: false,
      }).save(),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const started = mode === 'oidc-provider' ? await oidcProvider() : await tessera();
const exchange = {
  path: started.path,
  authorization: started.authorization,
  redirect_uri: REDIRECT_URI,
  code_verifier: VERIFIER,
};
// One exchange before READY, so a broken setup fails here and not under load.
const res = await fetch(`http://127.0.0.1:${started.port}${started.path}`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: started.authorization },
  body: new URLSearchParams({
    grant_type: 'authorization_code',
    code: await started.mint(),
    redirect_uri: REDIRECT_URI,
    code_verifier: VERIFIER,
  }).toString(),
});
const text = await res.text();
if (res.status !== 200 || !JSON.parse(text).refresh_token) {
  console.error(`${mode}: code exchange answered ${res.status}: ${text}`);
  process.exit(1);
}
console.error(`${mode}: ${text.slice(0, 300)}`);
const control = createHttpServer(async (req, res) => {
  const n = Number(new URL(req.url, 'http://control').searchParams.get('n'));
  const codes = [];
  for (let i = 0; i < n; i++) codes.push(await started.mint());
  res.end(codes.join('\n'));
}).listen(0, '127.0.0.1');
await new Promise((resolve) => control.once('listening', resolve));
exchange.control = control.address().port;
process.on('SIGTERM', () => {
  control.close();
  started.close().then(() => process.exit(0));
});
console.log(`READY ${started.port} ${JSON.stringify(exchange)}`);

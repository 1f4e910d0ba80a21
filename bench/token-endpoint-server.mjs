// One token server for bench/token-endpoint.mjs, listening on 127.0.0.1 port 0:
//   tessera           @tessera/server, client_credentials client (client_secret_basic), ES256
//   tessera-password  @tessera/server, first-party password-grant client and one user (argon2id)
//   oidc-provider     node-oidc-provider, client_credentials client (client_secret_basic), JWT access tokens, ES256
//   tessera-workload  @tessera/server, client_credentials for a workload_identity client: client_assertion is a
//                     Kubernetes projected service-account token (RS256) of a trusted issuer (the Kubernetes stand-in
//                     of @tessera/testing on port 0 in this process, its keys fetched once by discovery), reusable
//   tessera-workload-spiffe  the same with a SPIRE JWT-SVID (ES256, jwt-spiffe) and the SPIFFE bundle endpoint
//   tessera-dpop      the tessera request with a DPoP proof (RFC 9449), a fresh one per request: the request names
//                     the `htu` the proofs must carry (`dpop.htu`), bench/token-endpoint-dpop-load.mjs signs them
// Prints `READY <port> <request JSON>` on stdout once listening: the request autocannon sends.
import { generateKeyPairSync } from 'node:crypto';

import { dpopKey, proofMaker } from './dpop-proofs.mjs';

import { startTessera } from './tessera-server.mjs';

const mode = process.argv[2] ?? 'tessera';
const AUDIENCE = 'https://orders.example';
const SCOPE = 'orders:read';
const basic = (id, secret) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
const form = (params) => new URLSearchParams(params).toString();

async function tessera(password, dpop) {
  const { registerClient, hashPassword } = await import('@tessera/server/internal');
  const { server, ctx, port, close } = await startTessera();
  const now = Date.now();
  let body;
  let client;
  if (password) {
    client = await registerClient(
      ctx.store,
      ctx.master,
      { id: 'web', firstParty: true, grantTypes: ['password'], scopes: [SCOPE], audiences: [AUDIENCE] },
      now,
    );
    await ctx.store.roles.put({ name: 'reader', permissions: [SCOPE] });
    const passwordHash = await hashPassword('correct horse battery staple');
    await ctx.store.users.create({
      id: 'u-alice',
      username: 'alice',
      passwordHash,
      disabled: false,
      roles: ['reader'],
      createdAt: now,
      updatedAt: now,
    });
    body = form({
      grant_type: 'password',
      username: 'alice',
      password: 'correct horse battery staple',
      scope: SCOPE,
      resource: AUDIENCE,
    });
  } else {
    client = await registerClient(
      ctx.store,
      ctx.master,
      { id: 'reports', grantTypes: ['client_credentials'], scopes: [SCOPE], audiences: [AUDIENCE] },
      now,
    );
    body = form({ grant_type: 'client_credentials', scope: SCOPE, resource: AUDIENCE });
  }
  const request = {
    path: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client.id, client.secret) },
    body,
    ...(dpop ? { dpop: { htu: `${server.config.issuer}/oauth/token` } } : {}),
  };
  return { port, request, close };
}

async function oidcProvider() {
  const { default: Provider } = await import('oidc-provider');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'es256-1', alg: 'ES256', use: 'sig' };
  const secret = 'a-client-secret-of-sufficient-length-for-the-bench';
  const provider = new Provider('http://127.0.0.1', {
    clients: [
      {
        client_id: 'reports',
        client_secret: secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
        scope: SCOPE,
      },
    ],
    jwks: { keys: [jwk] },
    scopes: [SCOPE],
    ttl: { ClientCredentials: 600 },
    cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
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
  const request = {
    path: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('reports', secret) },
    body: form({ grant_type: 'client_credentials', scope: SCOPE, resource: AUDIENCE }),
  };
  const close = () => new Promise((resolve) => server.close(resolve));
  return { port: server.address().port, request, close };
}

/**
 * A workload_identity client and a trusted issuer: Kubernetes (RS256, keys by discovery) or SPIRE (ES256, keys from
 * the SPIFFE bundle endpoint); the request carries the platform's token as client_assertion and nothing else.
 */
async function tesseraWorkload(spiffe) {
  const { registerClient, parseWorkloadIssuer } = await import('@tessera/server/internal');
  const { startKubernetesIssuer, startSpireServer } = await import('@tessera/testing');
  const { ctx, port, close } = await startTessera();
  const issuerUrl = `http://127.0.0.1:${port}`;
  const now = Date.now();
  await registerClient(
    ctx.store,
    ctx.master,
    {
      id: 'reports',
      authMethod: 'workload_identity',
      grantTypes: ['client_credentials'],
      scopes: [SCOPE],
      audiences: [AUDIENCE],
    },
    now,
  );
  const platform = spiffe ? await startSpireServer({ trustDomain: 'example.org' }) : await startKubernetesIssuer();
  const wire = spiffe
    ? {
        name: 'spire',
        issuer: 'spiffe://example.org',
        keys: { spiffe_bundle_endpoint: platform.bundleUrl },
        algorithms: ['ES256'],
        rules: [{ client: 'reports', claims: { sub: 'spiffe://example.org/ns/shop/sa/*' } }],
      }
    : {
        name: 'kube',
        issuer: platform.issuer,
        keys: { discovery: true },
        algorithms: ['RS256'],
        rules: [{ client: 'reports', claims: { sub: 'system:serviceaccount:shop:reports' } }],
      };
  await ctx.store.workloadIssuers.create({
    ...parseWorkloadIssuer({ ...wire, audience: issuerUrl, single_use: false }),
    createdAt: now,
    updatedAt: now,
  });
  const token = spiffe
    ? await platform.svid({ spiffeId: '/ns/shop/sa/reports', audience: issuerUrl, ttlSeconds: 3600 })
    : await platform.token({ namespace: 'shop', serviceAccount: 'reports', audience: issuerUrl, podName: 'reports-1' });
  const request = {
    path: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({
      grant_type: 'client_credentials',
      client_assertion_type: `urn:ietf:params:oauth:client-assertion-type:${spiffe ? 'jwt-spiffe' : 'jwt-bearer'}`,
      client_assertion: token,
      scope: SCOPE,
      resource: AUDIENCE,
    }),
  };
  return { port, request, close: async () => (await close(), await platform.close()) };
}

const started =
  mode === 'oidc-provider'
    ? await oidcProvider()
    : mode === 'tessera-workload' || mode === 'tessera-workload-spiffe'
      ? await tesseraWorkload(mode === 'tessera-workload-spiffe')
      : await tessera(mode === 'tessera-password', mode === 'tessera-dpop');
// One request before READY, so a broken setup fails here and not as non-2xx answers under load; in the DPoP mode
// with a proof of a key of this process, and the token must come back bound to it.
const htu = started.request.dpop?.htu;
const holder = htu === undefined ? undefined : dpopKey();
const res = await fetch(`http://127.0.0.1:${started.port}${started.request.path}`, {
  method: 'POST',
  headers: { ...started.request.headers, ...(holder ? { dpop: proofMaker(holder, undefined, htu)('POST') } : {}) },
  body: started.request.body,
});
const text = await res.text();
if (res.status !== 200) {
  console.error(`${mode}: token request answered ${res.status}: ${text}`);
  process.exit(1);
}
if (holder && JSON.parse(text).token_type !== 'DPoP') {
  console.error(`${mode}: the token is not bound to the proof's key: ${text.slice(0, 400)}`);
  process.exit(1);
}
console.error(`${mode}: ${text.slice(0, 400)}`);
console.log(`READY ${started.port} ${JSON.stringify(started.request)}`);
process.on('SIGTERM', () => started.close().then(() => process.exit(0)));

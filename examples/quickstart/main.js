// `npm start`: Tessera on its embedded default. On first run it creates a data folder (.tessera-demo, or
// $TESSERA_DEMO_DIR) with `tessera init` defaults plus demo data, then runs
//   - the auth server (SQLite, ES256 keys) on PORT (default 4000),
//   - an `orders` service (Fastify + @tessera/verifier, keys from the server's JWKS) on PORT+1,
//   - an `inventory` Connect service (@tessera/rpc) on PORT+2, which orders calls on a user's behalf with a
//     token exchanged for audience "inventory" (examples/rpc),
//   - a chat in the browser (a page, its backend-for-frontend and the @tessera/realtime gateway) on PORT+3
//     (examples/chat),
//   - a single-page app that signs in through the hosted login (authorization code + PKCE, oauth4webapi) and
//     calls its API, on PORT+4 (examples/spa),
//   - a server-side web app that signs in with OpenID Connect (openid-client: PAR, code + PKCE, ID token,
//     userinfo, refresh, logout), on PORT+5 (examples/web),
//   - a `payroll` service that receives encrypted access tokens carrying the user's email (a registered
//     resource with its own encryption key, made at each start), on PORT+6 (examples/payroll),
// and prints curl lines that get a token and call the services, and the chat's users.
//   PORT=4000 npm start
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { createServer } from '@tessera/server';
import { hashPassword, initialize, registerClient, CONFIG_FILE, contextOf } from '@tessera/server/internal';
import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify from 'fastify';

import { startChat } from '../chat/server.js';
import { payrollKey, startPayroll } from '../payroll/server.js';
import { ensurePayrollDemo } from '../payroll/setup.js';
import { ensureChatDemo } from '../chat/setup.js';
import { startInventory } from '../rpc/inventory.js';
import { stockHandler } from '../rpc/orders-stock.js';
import { ensureInventoryDemo } from '../rpc/setup.js';
import { startSpa } from '../spa/server.js';
import { ensureSpaDemo } from '../spa/setup.js';
import { startWeb } from '../web/server.js';
import { ensureWebDemo } from '../web/setup.js';

const port = Number(process.env.PORT ?? 4000);
if (!Number.isInteger(port) || port < 1 || port > 65529) {
  console.error('error: PORT must be a port number from 1 to 65529 (the demo listens on PORT to PORT+6)');
  process.exit(2);
}

/** Starts one server; a port already taken stops the demo with one line naming it and PORT, not a stack trace. */
async function listening(at, start) {
  try {
    return await start();
  } catch (err) {
    if (err?.code !== 'EADDRINUSE') throw err;
    console.error(
      `error: port ${at} is already in use (the demo listens on PORT to PORT+6, now ${port} to ${port + 6}); ` +
        'stop what holds it, or start on other ports with PORT, e.g. PORT=5000 npm start',
    );
    process.exit(1);
  }
}
const dir = resolve(process.env.TESSERA_DEMO_DIR ?? '.tessera-demo');
const credentialsFile = join(dir, 'demo-credentials.json');

if (!existsSync(join(dir, CONFIG_FILE))) {
  const init = await initialize({ dir, port });
  const server = await createServer({ file: join(dir, CONFIG_FILE), overrides: { logLevel: 'silent' } });
  const { store, master } = contextOf(server);
  const now = Date.now();
  const service = await registerClient(
    store,
    master,
    { id: 'quickstart', grantTypes: ['client_credentials'], scopes: ['orders:read', 'orders:write'], audiences: ['orders'] },
    now,
  );
  const web = await registerClient(
    store,
    master,
    {
      id: 'web',
      authMethod: 'client_secret_post',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['orders:read'],
      audiences: ['orders'],
    },
    now,
  );
  await store.roles.put({ name: 'customer', permissions: ['orders:read'] });
  const password = 'correct horse battery staple';
  await store.users.create({
    id: crypto.randomUUID(),
    username: 'alice',
    passwordHash: await hashPassword(password),
    disabled: false,
    roles: ['customer'],
    createdAt: now,
    updatedAt: now,
  });
  await server.close();
  // Demo only: a real installation shows secrets once and keeps none of them.
  writeFileSync(
    credentialsFile,
    JSON.stringify(
      {
        admin: init.admin_user,
        adminClient: {
          clientId: init.admin_client.client_id,
          clientSecret: init.admin_client.client_secret,
          audience: init.admin_client.audience,
        },
        service: { clientId: 'quickstart', clientSecret: service.secret },
        web: { clientId: 'web', clientSecret: web.secret },
        user: { username: 'alice', password },
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
}

const demo = JSON.parse(readFileSync(credentialsFile, 'utf8'));
const server = await createServer({
  file: join(dir, CONFIG_FILE),
  overrides: { port, logLevel: process.env.LOG_LEVEL ?? 'warn' },
});
const changed = [
  await ensureInventoryDemo(contextOf(server), server.config.issuer, demo),
  await ensureChatDemo(contextOf(server), server.config.issuer, demo),
  await ensureSpaDemo(contextOf(server), server.config.issuer, demo),
  await ensureWebDemo(contextOf(server), server.admin, demo),
];
// Payroll's key pair of this start: the auth server gets the public key, the payroll service keeps the private one.
const payrollEncryption = payrollKey();
// After the others: the web example gives alice the email that payroll's tokens carry.
changed.push(await ensurePayrollDemo(contextOf(server), server.admin, demo, payrollEncryption.publicKey().toJwk()));
if (changed.includes(true)) writeFileSync(credentialsFile, JSON.stringify(demo, null, 2), { mode: 0o600 });
await listening(port, () => server.listen());
const issuer = server.config.issuer;
const tokenEndpoint = `${issuer}/oauth/token`;

const inventory = await listening(port + 2, () =>
  startInventory({ issuer, host: server.config.host, port: port + 2, revocationClient: demo.inventoryRevocations }),
);

const chat = await listening(port + 3, () =>
  startChat({
    issuer,
    host: server.config.host,
    port: port + 3,
    clientId: demo.chat.clientId,
    clientSecret: demo.chat.clientSecret,
    revocationClient: demo.chatRevocations,
  }),
);

const alice = await contextOf(server).store.users.getByUsername(demo.user.username);
const spa = await listening(port + 4, () => startSpa({ issuer, port: port + 4, revocationClient: demo.spaRevocations }));
const web = await listening(port + 5, () => startWeb({ issuer, port: port + 5, clientSecret: demo.webApp.clientSecret }));
const payroll = await listening(port + 6, () =>
  startPayroll({
    issuer,
    host: server.config.host,
    port: port + 6,
    key: payrollEncryption,
    logLevel: process.env.LOG_LEVEL ?? 'warn',
  }),
);

const verifier = createVerifier({
  issuer,
  audience: 'orders',
  algorithms: ['ES256'],
  jwksUri: `${issuer}/.well-known/jwks.json`,
});
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
await app.register(tesseraFastify, { verifier, realm: 'orders' });
app.get('/healthz', { config: { tessera: { public: true } } }, async () => ({ ok: true }));
app.get('/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (req) => ({
  orders: [{ id: 1, item: 'tessera tiles', for: req.principal.sub }],
}));
app.post('/orders', { config: { tessera: { scopes: ['orders:write'] } } }, async (req, reply) =>
  reply.code(201).send({ created: true, by: req.principal.sub }),
);
app.get(
  '/stock/:sku',
  { config: { tessera: { scopes: ['orders:read', 'inventory:read'] } } },
  stockHandler({
    tokenEndpoint,
    clientId: demo.orders.clientId,
    clientSecret: demo.orders.clientSecret,
    inventoryUrl: inventory.url,
  }),
);
const ordersUrl = `http://${server.config.host}:${port + 1}/orders`;
const stockUrl = `http://${server.config.host}:${port + 1}/stock/tile-blue`;
const getStock = `curl -i -X POST ${inventory.url}/inventory.v1.InventoryService/GetStock -H 'content-type: application/json' -d '{"sku":"tile-blue"}'`;
const accessToken = `node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token'`;
const adminToken = `curl -s -u ${demo.adminClient.clientId}:${demo.adminClient.clientSecret} -d grant_type=client_credentials -d resource=${demo.adminClient.audience} ${tokenEndpoint} | ${accessToken}`;
const login = (params) =>
  `curl -s -d grant_type=password ${params} -d username=${demo.user.username} -d 'password=${demo.user.password}' -d client_id=${demo.web.clientId} -d client_secret=${demo.web.clientSecret} ${tokenEndpoint}`;
const payrollLogin = `curl -s -d grant_type=password -d resource=payroll -d scope=payroll:read+email -d username=${demo.user.username} -d 'password=${demo.user.password}' -d client_id=${demo.hrApp.clientId} -d client_secret=${demo.hrApp.clientSecret} ${tokenEndpoint}`;
await listening(port + 1, () => app.listen({ port: port + 1, host: server.config.host }));

console.log(`
Tessera is running (data in ${dir})
  auth server:     ${issuer}   (metadata: ${issuer}/.well-known/oauth-authorization-server)
  orders service:  ${ordersUrl}   (GET needs orders:read, POST needs orders:write)
  inventory:       ${inventory.url}   (Connect: inventory.v1.InventoryService, GetStock needs inventory:read, Health is public)
  chat:            ${chat.url}   (open it in a browser; WebSocket gateway on ${chat.url.replace('http', 'ws')}/connection/websocket)
  single-page app: ${spa.url}   (signs in through the hosted login: authorization code + PKCE)
  web app:         ${web.url}   (OpenID Connect sign-in with PAR, consent, userinfo and logout)
  payroll:         ${payroll.url}/payslip   (GET needs payroll:read; takes encrypted tokens only)

Get a token (client credentials) and call the service:
  TOKEN=$(curl -s -u ${demo.service.clientId}:${demo.service.clientSecret} -d grant_type=client_credentials -d resource=orders ${tokenEndpoint} | ${accessToken})
  curl -i -H "Authorization: Bearer $TOKEN" ${ordersUrl}

Log in as a user (password grant, first-party client "web"):
  ${login('-d resource=orders')}

Orders asks inventory for the user: it exchanges the user's token for one for audience "inventory" (token
exchange, as client "${demo.orders.clientId}") and calls GetStock with it; inventory sees the user as sub and orders as act.sub:
  USER_TOKEN=$(${login('-d resource=orders')} | ${accessToken})
  curl -i -H "Authorization: Bearer $USER_TOKEN" ${stockUrl}

Call inventory directly (Connect protocol, JSON). Without a token: 401 unauthenticated:
  ${getStock}
With a token for inventory lacking inventory:read: 403 permission_denied:
  LOW_TOKEN=$(${login('-d resource=inventory -d scope=orders:read')} | ${accessToken})
  ${getStock} -H "Authorization: Bearer $LOW_TOKEN"
With inventory:read: 200, and no actor (nobody called on the user's behalf):
  INVENTORY_TOKEN=$(${login('-d resource=inventory -d scope=inventory:read')} | ${accessToken})
  ${getStock} -H "Authorization: Bearer $INVENTORY_TOKEN"

Chat: open ${chat.url} in two browser windows and log in as
  ${demo.user.username} / ${demo.user.password}
  ${demo.chatUser.username} / ${demo.chatUser.password}
Cut ${demo.chatUser.username} off (admin API: every token of the user revoked; the page shows "disconnected: token revoked"):
  ADMIN_TOKEN=$(${adminToken})
  curl -i -X POST -H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' -d '{"subject":"${demo.chatUser.id}"}' ${issuer}/admin/revoke

Single-page app: open ${spa.url} in a browser, "Sign in" as ${demo.user.username} / ${demo.user.password}, then "Load
my orders". End that browser session (admin API): the page's tokens are revoked and the API refuses them at once:
  curl -s -H "Authorization: Bearer $ADMIN_TOKEN" ${issuer}/admin/users/${alice.id}/browser-sessions
  curl -i -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN" ${issuer}/admin/browser-sessions/<id>

Web app: open ${web.url}, "Sign in" as ${demo.user.username}, allow the web app on the consent page (a third-party
client); the page shows the ID token's claims and /userinfo; "Sign out" ends the session at the auth server too.

Payroll receives encrypted access tokens: registered as resource "payroll" with the public key it made at this
start, it gets nested JWTs (signed, then encrypted to its key) carrying the user's email, which only payroll can
read; the client ("${demo.hrApp.clientId}") holds five opaque segments ("npx tessera token decode" refuses them):
  PAYROLL_TOKEN=$(${payrollLogin} | ${accessToken})
  curl -i -H "Authorization: Bearer $PAYROLL_TOKEN" ${payroll.url}/payslip
A signed token for another audience is refused there (401), and so is any token not encrypted to payroll's key.

Admin: ${demo.adminClient.clientId} / ${demo.adminClient.clientSecret} (client credentials, scope tessera:admin, resource ${demo.adminClient.audience})
Demo credentials are kept in ${credentialsFile}. Ctrl-C to stop.`);

const stop = async () => {
  verifier.close();
  await app.close();
  await payroll.close();
  await web.close();
  await spa.close();
  await chat.close();
  await inventory.close();
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

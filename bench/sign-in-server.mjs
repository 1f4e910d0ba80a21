// The authorization server of bench/sign-in.mjs: @tessera/server on a temp SQLite folder with its default
// settings (ES256, the login throttle as configured by default), listening on 127.0.0.1 port 0, with one public
// first-party client (a single-page app: no secret, PKCE, no consent page) and USERS users of the role that
// holds the client's scope.
//   node bench/sign-in-server.mjs <users>
// The users share one argon2id hash of the same password: a verification costs the same whatever the salt, and
// hashing hundreds of passwords would only slow the start.
// Prints `READY <port> <JSON: clientId, redirectUri, scope, usernames (a prefix and a count), password, the
// per-address login budget, control>`
// on stdout once listening. `control` is a second port on 127.0.0.1: `GET /verifications` there answers the
// server's count of argon2id password verifications (tessera_password_verifications_total), so that the run can
// check that every flow verified exactly one password.
import { createServer as createHttpServer } from 'node:http';

import { hashPassword, registerClient } from '@tessera/server/internal';

import { startTessera } from './tessera-server.mjs';

const USERS = Number(process.argv[2] ?? 200);
const AUDIENCE = 'https://orders.example';
const SCOPE = 'orders:read';
const REDIRECT_URI = 'https://app.example/callback';
const PASSWORD = 'correct horse battery staple';
const PREFIX = 'user';

const { server, ctx, port, close } = await startTessera();
const now = Date.now();
await registerClient(
  ctx.store,
  ctx.master,
  {
    id: 'spa',
    name: 'Orders',
    authMethod: 'none',
    firstParty: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: [SCOPE],
    audiences: [AUDIENCE],
    redirectUris: [REDIRECT_URI],
  },
  now,
);
await ctx.store.roles.put({ name: 'reader', permissions: [SCOPE] });
const passwordHash = await hashPassword(PASSWORD);
for (let i = 0; i < USERS; i++) {
  await ctx.store.users.create({
    id: `u-${PREFIX}${i}`,
    username: `${PREFIX}${i}`,
    passwordHash,
    disabled: false,
    roles: ['reader'],
    createdAt: now,
    updatedAt: now,
  });
}

const control = createHttpServer(async (req, res) => {
  const { values } = await ctx.metrics.passwordVerifications.get();
  res.end(String(values[0]?.value ?? 0));
}).listen(0, '127.0.0.1');
await new Promise((resolve) => control.once('listening', resolve));
process.on('SIGTERM', () => {
  control.close();
  close().then(() => process.exit(0));
});
const flow = {
  clientId: 'spa',
  redirectUri: REDIRECT_URI,
  scope: SCOPE,
  usernamePrefix: PREFIX,
  users: USERS,
  password: PASSWORD,
  /** Login attempts in flight from one address count against this budget (security/throttle.ts). */
  addressBudget: server.config.loginMaxFailuresPerAddress,
  control: control.address().port,
};
console.log(`READY ${port} ${JSON.stringify(flow)}`);

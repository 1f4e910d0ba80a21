// The demo data of the server-side web app example, on top of the quickstart's (examples/quickstart/main.js).
// Idempotent: it runs at every start, so a data folder made before this example existed gets it too.
import { ensureDemoClient } from '../quickstart/demo-client.js';

import { WEB_CLIENT_ID, WEB_POST_LOGOUT_URI, WEB_REDIRECT_URI, WEB_SCOPES } from './server.js';

/**
 * Makes sure the auth server of `context` (a TesseraServer's, before it listens) has the `web-app` client:
 * confidential (its secret stays on the web app's server), third-party (so its users see the consent page),
 * required to push its authorization requests (PAR), OpenID Connect scopes, loopback redirect and post-logout
 * URIs (any port matches, so the demo follows PORT). `alice` gets a name and an email for the profile and email
 * claims. The secret goes into `demo` (the demo credentials); returns true when the caller must save it.
 */
export async function ensureWebDemo(context, admin, demo) {
  const { store } = context;
  const { created } = await ensureDemoClient(context, demo, 'webApp', {
    id: WEB_CLIENT_ID,
    name: 'Web app (demo)',
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: WEB_SCOPES,
    // Its access tokens are for the orders service (and /userinfo, which takes any audience of this server).
    audiences: ['orders'],
    redirectUris: [WEB_REDIRECT_URI],
    postLogoutRedirectUris: [WEB_POST_LOGOUT_URI],
    requirePar: true,
  });
  const alice = await store.users.getByUsername('alice');
  if (alice && alice.email === undefined)
    await admin.users.setProfile({ actor: 'demo', ip: 'local' }, alice.id, {
      name: 'Alice Example',
      given_name: 'Alice',
      family_name: 'Example',
      email: 'alice@example.com',
      email_verified: true,
    });
  return created;
}

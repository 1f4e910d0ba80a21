// The demo data of the single-page app example, on top of the quickstart's (examples/quickstart/main.js).
// Idempotent: it runs at every start, so a data folder made before this example existed gets it too.
import { registerClient } from '@tessera/server/internal';
import { REVOCATIONS_SCOPE } from '@tessera/verifier';

import { SPA_AUDIENCE, SPA_CLIENT_ID, SPA_REDIRECT_URI, SPA_SCOPES } from './server.js';

/**
 * Makes sure the auth server of `context` (a TesseraServer's, before it listens) has
 *  - the `spa` client: public (no secret: the app runs in the browser), first-party (no consent screen), the
 *    authorization code flow with PKCE and rotating refresh tokens, `orders:read` at audience "spa-api", its
 *    redirect URI `http://127.0.0.1/callback` (a loopback URI: any port matches, so the demo follows PORT);
 *  - the `spa-revocations` client: the API's revocation list follows the server's feed with it.
 * New secrets go into `demo` (the demo credentials); returns true when the caller must save it.
 */
export async function ensureSpaDemo({ store, master, now }, issuer, demo) {
  let changed = false;
  const t = now();
  if (!(await store.clients.get(SPA_CLIENT_ID)))
    await registerClient(
      store,
      master,
      {
        id: SPA_CLIENT_ID,
        authMethod: 'none',
        firstParty: true,
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: SPA_SCOPES,
        audiences: [SPA_AUDIENCE],
        redirectUris: [SPA_REDIRECT_URI],
      },
      t,
    );
  const feedAudience = `${issuer}/revocations`;
  let feed = demo.spaRevocations && (await store.clients.get('spa-revocations'));
  if (!feed) {
    await store.clients.delete('spa-revocations'); // registered by a start that did not get to save its secret
    const registered = await registerClient(
      store,
      master,
      { id: 'spa-revocations', grantTypes: ['client_credentials'], scopes: [REVOCATIONS_SCOPE], audiences: [feedAudience] },
      t,
    );
    feed = registered.client;
    demo.spaRevocations = { clientId: feed.id, clientSecret: registered.secret };
    changed = true;
  }
  // The issuer follows PORT: started on another port, the feed's audience moves with it.
  if (!feed.audiences.includes(feedAudience)) await store.clients.update(feed.id, { audiences: [feedAudience] }, t);
  return changed;
}

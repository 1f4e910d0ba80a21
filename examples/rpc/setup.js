// The demo data of the orders -> inventory example, on top of the quickstart's (examples/quickstart/main.js).
// Idempotent: it runs at every start, so a data folder made before this example existed gets it too.
import { registerClient } from '@tessera/server/internal';
import { REVOCATIONS_SCOPE } from '@tessera/verifier';

import { INVENTORY_AUDIENCE } from './inventory.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const USER_SCOPES = ['orders:read', 'inventory:read'];

/**
 * Makes sure the auth server of `context` (a TesseraServer's, before it listens) has
 *  - the `orders` client: token exchange only, for inventory:read at audience "inventory";
 *  - the `inventory-revocations` client: inventory's revocation list follows the server's feed with it;
 *  - the `web` client and the `customer` role extended with inventory:read (and web with audience "inventory").
 * The secrets of new clients go into `demo` (the demo credentials); returns true when the caller must save it.
 */
export async function ensureInventoryDemo({ store, master, now }, issuer, demo) {
  let changed = false;
  const t = now();
  if (!demo.orders) {
    await store.clients.delete('orders'); // registered by a start that did not get to save its secret
    const { secret } = await registerClient(
      store,
      master,
      { id: 'orders', grantTypes: [TOKEN_EXCHANGE], scopes: ['inventory:read'], audiences: [INVENTORY_AUDIENCE] },
      t,
    );
    demo.orders = { clientId: 'orders', clientSecret: secret };
    changed = true;
  }
  const feedAudience = `${issuer}/revocations`;
  const feed = demo.inventoryRevocations && (await store.clients.get('inventory-revocations'));
  if (!feed) {
    await store.clients.delete('inventory-revocations');
    const { secret } = await registerClient(
      store,
      master,
      { id: 'inventory-revocations', grantTypes: ['client_credentials'], scopes: [REVOCATIONS_SCOPE], audiences: [feedAudience] },
      t,
    );
    demo.inventoryRevocations = { clientId: 'inventory-revocations', clientSecret: secret };
    changed = true;
  } else if (!feed.audiences.includes(feedAudience)) {
    // The issuer follows PORT: started on another port, the feed's audience moves with it.
    await store.clients.update(feed.id, { audiences: [feedAudience] }, t);
  }
  const web = await store.clients.get('web');
  if (web && !(web.scopes.includes('inventory:read') && web.audiences.includes(INVENTORY_AUDIENCE))) {
    await store.clients.update(
      'web',
      { scopes: [...new Set([...web.scopes, ...USER_SCOPES])], audiences: [...new Set([...web.audiences, INVENTORY_AUDIENCE])] },
      t,
    );
  }
  await store.roles.put({ name: 'customer', permissions: USER_SCOPES });
  return changed;
}

// One demo client of an example's set-up (examples/*/setup.js), kept across starts with its secret in the demo
// credentials.
import { registerClient } from '@tessera/server/internal';

/**
 * Registers the client `input` unless `demo[key]` holds its secret and the store still has it; a new client's
 * id and secret go into `demo[key]`. Returns `created`: true when the caller must save `demo`.
 */
export async function ensureDemoClient({ store, master, now }, demo, key, input) {
  const existing = demo[key] && (await store.clients.get(input.id));
  if (existing) return { client: existing, created: false };
  await store.clients.delete(input.id); // registered by a start that did not get to save its secret
  const { client, secret } = await registerClient(store, master, input, now());
  demo[key] = { clientId: client.id, clientSecret: secret };
  return { client, created: true };
}

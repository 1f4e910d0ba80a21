// The demo data of the chat example, on top of the quickstart's (examples/quickstart/main.js). Idempotent: it
// runs at every start, so a data folder made before this example existed gets it too.
import { randomBytes } from 'node:crypto';

import { createUserAccount, hashPassword, registerClient } from '@tessera/server/internal';
import { REVOCATIONS_SCOPE } from '@tessera/verifier';

import { CHAT_AUDIENCE, CHAT_SCOPES } from './server.js';

export const CHAT_ROLE = 'chatter';

/**
 * Makes sure the auth server of `context` (a TesseraServer's, before it listens) has
 *  - the `chat-web` client: the chat's backend-for-frontend, first-party and confidential, password and
 *    refresh_token grants, the chat scopes at audience "chat";
 *  - the `chat-revocations` client: the gateway's revocation list follows the server's feed with it;
 *  - the role `chatter` (the chat scopes), held by `alice` (who keeps `customer`) and by a new user `bob`.
 * New secrets and bob's password go into `demo` (the demo credentials); returns true when the caller must save it.
 */
export async function ensureChatDemo({ store, master, now }, issuer, demo) {
  let changed = false;
  const t = now();
  /** The client `input.id`, registered unless `demo[key]` holds its secret already. */
  const ensureClient = async (key, input) => {
    const existing = demo[key] && (await store.clients.get(input.id));
    if (existing) return existing;
    await store.clients.delete(input.id); // registered by a start that did not get to save its secret
    const { client, secret } = await registerClient(store, master, input, t);
    demo[key] = { clientId: client.id, clientSecret: secret };
    changed = true;
    return client;
  };

  await ensureClient('chat', {
    id: 'chat-web',
    firstParty: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: CHAT_SCOPES,
    audiences: [CHAT_AUDIENCE],
  });
  const feedAudience = `${issuer}/revocations`;
  const feed = await ensureClient('chatRevocations', {
    id: 'chat-revocations',
    grantTypes: ['client_credentials'],
    scopes: [REVOCATIONS_SCOPE],
    audiences: [feedAudience],
  });
  // The issuer follows PORT: started on another port, the feed's audience moves with it.
  if (!feed.audiences.includes(feedAudience)) await store.clients.update(feed.id, { audiences: [feedAudience] }, t);

  await store.roles.put({ name: CHAT_ROLE, permissions: CHAT_SCOPES });
  const alice = await store.users.getByUsername('alice');
  if (alice && !alice.roles.includes(CHAT_ROLE)) await store.users.update(alice.id, { roles: [...alice.roles, CHAT_ROLE] }, t);

  const bob = await store.users.getByUsername('bob');
  if (bob && demo.chatUser?.id === bob.id) return changed;
  // A new bob, or one whose password a start did not get to save: either way a password the demo knows.
  const password = randomBytes(12).toString('base64url');
  let id;
  if (bob) {
    const roles = [...new Set([...bob.roles, CHAT_ROLE])];
    await store.users.update(bob.id, { passwordHash: await hashPassword(password), roles }, t);
    id = bob.id;
  } else {
    ({ id } = await createUserAccount(store, { username: 'bob', password, roles: [CHAT_ROLE] }, t));
  }
  demo.chatUser = { username: 'bob', password, id };
  return true;
}

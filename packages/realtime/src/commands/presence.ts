/** `presence` and `presence_stats`: who is in a presence channel, in full or counted. */
import type { ClientInfo } from '../protocol.js';
import type { Params, SessionContext } from './context.js';
import { authorizeRead, requireChannel } from './params.js';

export async function presence(session: SessionContext, p: Params): Promise<unknown> {
  return { presence: await readPresence(session, p) };
}

export async function presenceStats(session: SessionContext, p: Params): Promise<unknown> {
  return countPresence(await readPresence(session, p));
}

async function readPresence(session: SessionContext, p: Params): Promise<Record<string, ClientInfo>> {
  const channel = requireChannel(p);
  authorizeRead(session, channel, 'presence', true);
  return session.hub.broker.presence(channel);
}

/** Clients and distinct users of a presence listing. */
export function countPresence(presence: Record<string, ClientInfo>): { num_clients: number; num_users: number } {
  const users = new Set<string>();
  let clients = 0;
  for (const id in presence) {
    clients++;
    users.add(presence[id]!.user);
  }
  return { num_clients: clients, num_users: users.size };
}

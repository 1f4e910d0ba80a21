/** `unsubscribe`: the client ends one subscription; a channel it was not subscribed to is no error. */
import type { Params, SessionContext } from './context.js';
import { requireChannel } from './params.js';

export async function unsubscribe(session: SessionContext, p: Params): Promise<unknown> {
  const sub = session.subs.get(requireChannel(p));
  if (sub) session.removeSubscription(sub);
  return {};
}

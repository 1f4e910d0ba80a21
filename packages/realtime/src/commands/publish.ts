/** `publish`: a client publishes to a channel its scopes let it publish to, within its rate. */
import { ErrorCode } from '../protocol.js';
import type { Params, SessionContext } from './context.js';
import { refuse } from './outcome.js';
import { describeChannel, requireChannel } from './params.js';

export async function publish(session: SessionContext, p: Params): Promise<unknown> {
  const channel = requireChannel(p);
  if (!('data' in p)) throw refuse(ErrorCode.badRequest);
  const info = describeChannel(session, channel);
  if (!session.rights!.allows(channel, info, 'publish')) throw refuse(ErrorCode.permissionDenied);
  if (!session.publishBucket.take()) throw refuse(ErrorCode.tooManyRequests);
  const hub = session.hub;
  await hub.broker.publish(channel, p.data, session.clientInfo, hub.historyBounds(info.options));
  return {};
}

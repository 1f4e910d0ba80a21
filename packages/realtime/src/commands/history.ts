/** `history`: a page of a history channel's publications, at most one reply's worth. */
import { sameStream } from '../broker.js';
import { ErrorCode, fitPublications } from '../protocol.js';
import type { Params, SessionContext } from './context.js';
import { refuse } from './outcome.js';
import { authorizeRead, parsePosition, requireChannel } from './params.js';

export async function history(session: SessionContext, p: Params): Promise<unknown> {
  const channel = requireChannel(p);
  const info = authorizeRead(session, channel, 'history', false);
  const hub = session.hub;
  const bounds = hub.historyBounds(info.options);
  if (!bounds) throw refuse(ErrorCode.notAvailable);
  const limit = p.limit === undefined ? 0 : p.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit)) throw refuse(ErrorCode.badRequest);
  const since = p.since === undefined || p.since === null ? undefined : parsePosition(p.since as Params);
  const reverse = p.reverse === true;
  const h = await hub.broker.history(
    channel,
    { limit: limit < 0 ? bounds.size : limit, ...(since ? { since } : {}), reverse },
    bounds,
  );
  if (since && !sameStream(since, h.position)) throw refuse(ErrorCode.unrecoverablePosition);
  // At most one reply's worth (maxBufferedBytes): a client pages on with `since`.
  const { publications } = fitPublications(h.publications, hub.limits.maxBufferedBytes);
  return { publications, epoch: h.position.epoch, offset: h.position.offset };
}

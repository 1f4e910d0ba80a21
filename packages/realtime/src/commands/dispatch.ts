/** The handler of each method of the protocol. */
import { ErrorCode, type Command, type Method } from '../protocol.js';
import { connect } from './connect.js';
import type { Params, SessionContext } from './context.js';
import { history } from './history.js';
import { NO_REPLY, refuse } from './outcome.js';
import { presence, presenceStats } from './presence.js';
import { publish } from './publish.js';
import { refresh } from './refresh.js';
import { subRefresh } from './sub-refresh.js';
import { subscribe } from './subscribe.js';
import { unsubscribe } from './unsubscribe.js';

type Handler = (session: SessionContext, params: Params, command: Command) => Promise<unknown>;

const HANDLERS: Readonly<Record<Method | 'unknown', Handler>> = {
  connect,
  refresh,
  subscribe,
  unsubscribe,
  sub_refresh: subRefresh,
  publish,
  presence,
  presence_stats: presenceStats,
  history,
  ping: async () => ({}),
  // Asynchronous messages to the server have no handler here.
  send: async (_session, _params, command) => {
    if (command.id > 0) throw refuse(ErrorCode.notAvailable);
    return NO_REPLY;
  },
  rpc: async () => {
    throw refuse(ErrorCode.methodNotFound);
  },
  unknown: async () => {
    throw refuse(ErrorCode.methodNotFound);
  },
};

/** Runs one command; resolves with its result, or NO_REPLY. */
export function dispatch(session: SessionContext, command: Command): Promise<unknown> {
  return HANDLERS[command.method](session, command.params, command);
}

/** How a command ends other than with its result: an error reply, a disconnect, or no reply at all. */
import { ErrorCode, protocolError, type DisconnectAdvice, type ProtocolError } from '../protocol.js';

/** A reply error: the command fails, the connection stays. */
export class ReplyError extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

/** The connection must end. */
export class DisconnectError extends Error {
  constructor(readonly advice: DisconnectAdvice) {
    super(advice.reason);
  }
}

/** The command's result when nothing is to be sent back (the connection closed meanwhile, or `send`). */
export const NO_REPLY = Symbol('no reply');

/** The reply error of one protocol code (ErrorCode). */
export function refuse(code: number): ReplyError {
  return new ReplyError(protocolError(code));
}

/** 102 for a namespace that is not configured, 107 for a name that is not a channel. */
export function channelRefusal(reason: 'unknown' | 'invalid'): ReplyError {
  return refuse(reason === 'unknown' ? ErrorCode.unknownChannel : ErrorCode.badRequest);
}

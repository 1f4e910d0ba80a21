import { TesseraError } from '@tessera/core';

import { FrameError } from './protocol.js';

/**
 * A server API call (HTTP or in process) named a channel that is not valid, whose namespace is not
 * configured, or that does not keep what was asked (history). Answered 400 `invalid_request` over HTTP.
 */
export class ChannelError extends TesseraError {
  static readonly code = 'ERR_REALTIME_CHANNEL';
  constructor(message: string) {
    super(ChannelError.code, message);
  }
}

/**
 * The broker failed or did not answer within `limits.brokerTimeoutMs` (Redis unreachable, say); `cause`
 * holds the broker's error. Temporary: clients get error 100 (temporary), the server API 503.
 */
export class BrokerError extends TesseraError {
  static readonly code = 'ERR_REALTIME_BROKER';
  constructor(message: string, options?: { cause?: unknown }) {
    super(BrokerError.code, message, options);
  }
}

/** The body of a server API call is not what the method takes (not JSON, a field missing or mistyped). HTTP 400 `invalid_request`. */
export class ApiRequestError extends TesseraError {
  static readonly code = 'ERR_REALTIME_API_REQUEST';
  constructor(message: string) {
    super(ApiRequestError.code, message);
  }
}

/** Every code thrown by @tessera/realtime (besides ConfigError of @tessera/core for options it cannot run with). */
export const REALTIME_ERROR_CODES: readonly string[] = Object.freeze([
  ChannelError.code,
  BrokerError.code,
  ApiRequestError.code,
  FrameError.code,
]);

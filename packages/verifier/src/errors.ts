import { TesseraError, TokenError } from '@tessera/core';

import type { Principal } from './principal.js';

/** The request carries no bearer token, or an Authorization header that is not `Bearer <token>`. */
export class TokenMissingError extends TokenError {
  static readonly code = 'ERR_TOKEN_MISSING';
  /** True when an Authorization header was present but malformed (RFC 6750 `invalid_request`). */
  readonly malformed: boolean;
  constructor(malformed: boolean) {
    super(TokenMissingError.code, malformed ? 'the Authorization header is not a valid Bearer credential' : 'no bearer token');
    this.malformed = malformed;
  }
}

/** The token verified, but the revocation hook reports it revoked. */
export class TokenRevokedError extends TokenError {
  static readonly code = 'ERR_TOKEN_REVOKED';
  /**
   * The caller the token would have established, when the verifier refused it (an issuer acting on its own
   * revoked tokens, such as revoking one again, needs its claims). Never sent to the client.
   */
  readonly principal: Principal | undefined;
  constructor(principal?: Principal) {
    super(TokenRevokedError.code, 'token has been revoked');
    this.principal = principal;
  }
}

/**
 * The token's binding does not fit how it came: a token bound to a key (RFC 9449 `cnf.jkt`) presented as a
 * bearer token (`bearer`, a downgrade: whoever copied it could use it), an unbound token presented with the
 * `DPoP` scheme (`unbound`), or a token bound to a client certificate (RFC 8705 `cnf["x5t#S256"]`) on a
 * request without that certificate as its mutual-TLS peer certificate (`certificate`: none, another, or no
 * request to tell).
 */
export class TokenBindingError extends TokenError {
  static readonly code = 'ERR_TOKEN_BINDING';
  readonly reason: 'bearer' | 'unbound' | 'certificate';
  constructor(reason: 'bearer' | 'unbound' | 'certificate') {
    super(
      TokenBindingError.code,
      reason === 'bearer'
        ? 'a token bound to a key (cnf.jkt) was presented as a bearer token'
        : reason === 'unbound'
          ? 'a token not bound to a key was presented with the DPoP scheme'
          : "a token bound to a client certificate (cnf.x5t#S256) came without that certificate as the request's TLS peer certificate",
    );
    this.reason = reason;
  }
}

/** A DPoP proof that this verifier has already accepted (its jti, for its key) came again: a replay. */
export class DpopReplayError extends TesseraError {
  static readonly code = 'ERR_DPOP_REPLAY';
  constructor() {
    super(DpopReplayError.code, 'the DPoP proof was already used');
  }
}

/** Fetching the JWKS failed: network error, timeout, status, size, or a body that is not a usable JWKS. */
export class JwksFetchError extends TesseraError {
  static readonly code = 'ERR_JWKS_FETCH';
  readonly reason: 'timeout' | 'network' | 'status' | 'too_large' | 'invalid';
  constructor(reason: JwksFetchError['reason'], message: string, options?: { cause?: unknown }) {
    super(JwksFetchError.code, message, options);
    this.reason = reason;
  }
}

/**
 * No verification keys can be used: none were ever fetched, or the last good set is older than the
 * maximum stale age. The verifier fails closed; adapters answer 503.
 */
export class KeysUnavailableError extends TesseraError {
  static readonly code = 'ERR_KEYS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeysUnavailableError.code, message, options);
  }
}

/**
 * The revocation list cannot vouch for a token: it has not loaded yet, or has not heard from the server for
 * longer than its staleness window. The verifier fails closed (the default); adapters answer 503.
 */
export class RevocationsUnavailableError extends TesseraError {
  static readonly code = 'ERR_REVOCATIONS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(RevocationsUnavailableError.code, message, options);
  }
}

/**
 * The token endpoint refused or could not be reached, or the workload token file could not be read (`file`);
 * `error` is the OAuth error code when there was one.
 */
export class TokenRequestError extends TesseraError {
  static readonly code = 'ERR_TOKEN_REQUEST';
  readonly status: number | undefined;
  readonly error: string | undefined;
  /** The server's `error_description`, when it gave one. */
  readonly description: string | undefined;
  /** The workload token file that could not be used (the request was not sent), when that was the failure. */
  readonly file: string | undefined;
  constructor(
    message: string,
    details: { status?: number; error?: string; description?: string; file?: string; cause?: unknown } = {},
  ) {
    super(TokenRequestError.code, message, { cause: details.cause });
    this.status = details.status;
    this.error = details.error;
    this.description = details.description;
    this.file = details.file;
  }
}

export const VERIFIER_ERROR_CODES: readonly string[] = Object.freeze([
  TokenMissingError.code,
  TokenRevokedError.code,
  TokenBindingError.code,
  DpopReplayError.code,
  JwksFetchError.code,
  KeysUnavailableError.code,
  RevocationsUnavailableError.code,
  TokenRequestError.code,
]);

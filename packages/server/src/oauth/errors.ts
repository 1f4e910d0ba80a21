import { TesseraError } from '@tessera/core';

/**
 * An OAuth error response (RFC 6749 section 5.2, RFC 7009, RFC 7662, RFC 8693, RFC 8707, RFC 9449): thrown by the
 * steps of the OAuth endpoints and answered with `{error, error_description}` and `status`. The OAuth
 * `error` value is the code on the wire; `code` is the same for every such refusal.
 */
export class OAuthError extends TesseraError {
  static readonly code = 'ERR_OAUTH';
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_client'
      | 'invalid_grant'
      | 'unauthorized_client'
      | 'unsupported_grant_type'
      | 'unsupported_response_type'
      | 'invalid_request_uri'
      | 'request_not_supported'
      | 'login_required'
      | 'consent_required'
      | 'access_denied'
      | 'invalid_scope'
      | 'invalid_target'
      | 'unsupported_token_type'
      | 'invalid_dpop_proof'
      | 'use_dpop_nonce'
      | 'temporarily_unavailable'
      | 'server_error',
    readonly description: string,
    readonly status: number = error === 'invalid_client'
      ? 401
      : error === 'temporarily_unavailable'
        ? 503
        : error === 'server_error'
          ? 500
          : 400,
    /** For 429: seconds the client should wait (Retry-After). */
    readonly retryAfter = 1,
  ) {
    super(OAuthError.code, description);
  }
}

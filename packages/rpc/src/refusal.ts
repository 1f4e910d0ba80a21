import { Code, ConnectError } from '@connectrpc/connect';
import { DpopNonceError, DpopProofError, InsufficientScopeError, TokenError, TokenExpiredError } from '@tessera/core';
import { DpopReplayError, KeysUnavailableError, RevocationsUnavailableError, TokenMissingError } from '@tessera/verifier';

/**
 * The metadata entry (a response header, or a trailer) naming why a call was refused: one of the keys of
 * REFUSALS. Clients tell an expired token (`token_expired`: get a fresh one and call again) from the others.
 */
export const REFUSAL_HEADER = 'tessera-refusal';

/** The metadata entry of a `dpop_nonce` refusal holding the nonce the next proof must carry (RFC 9449 section 9). */
export const DPOP_NONCE_HEADER = 'dpop-nonce';

export type RefusalReason =
  | 'token_missing'
  | 'token_malformed'
  | 'token_invalid'
  | 'token_expired'
  | 'dpop_invalid'
  | 'dpop_nonce'
  | 'insufficient_scope'
  | 'no_policy'
  | 'unavailable'
  | 'internal';

/**
 * Every refusal, its code and its fixed message. No message carries internal detail (the verifier's own
 * error, its cause, the token): that goes to `onRefusal` for the logs.
 */
export const REFUSALS: Readonly<Record<RefusalReason, { readonly code: Code; readonly message: string }>> = Object.freeze({
  token_missing: { code: Code.Unauthenticated, message: 'a bearer token is required' },
  token_malformed: { code: Code.Unauthenticated, message: 'the authorization header is not a valid bearer credential' },
  token_invalid: { code: Code.Unauthenticated, message: 'the access token is invalid' },
  token_expired: { code: Code.Unauthenticated, message: 'the access token expired' },
  dpop_invalid: { code: Code.Unauthenticated, message: 'the DPoP proof is invalid' },
  dpop_nonce: { code: Code.Unauthenticated, message: 'the DPoP proof must carry the server nonce' },
  insufficient_scope: { code: Code.PermissionDenied, message: 'the access token lacks the required scope' },
  no_policy: { code: Code.PermissionDenied, message: 'the method is not open to callers' },
  unavailable: { code: Code.Unavailable, message: 'token verification is unavailable' },
  internal: { code: Code.Internal, message: 'authorization failed' },
});

/** Why a verifier error refuses a call. Revoked tokens are `token_invalid`, as in the HTTP adapters. */
export function refusalReason(err: unknown): RefusalReason {
  if (err instanceof TokenMissingError) return err.malformed ? 'token_malformed' : 'token_missing';
  if (err instanceof TokenExpiredError) return 'token_expired';
  if (err instanceof DpopNonceError) return 'dpop_nonce';
  if (err instanceof DpopProofError || err instanceof DpopReplayError) return 'dpop_invalid';
  if (err instanceof TokenError) return 'token_invalid';
  if (err instanceof InsufficientScopeError) return 'insufficient_scope';
  if (err instanceof KeysUnavailableError || err instanceof RevocationsUnavailableError) return 'unavailable';
  return 'internal';
}

/**
 * The ConnectError a refusal goes on the wire as: its code, its fixed message, and the REFUSAL_HEADER (and the
 * DPOP_NONCE_HEADER with the nonce to use, for `dpop_nonce`).
 */
export function refusalError(reason: RefusalReason, nonce?: string): ConnectError {
  const r = REFUSALS[reason];
  return new ConnectError(
    r.message,
    r.code,
    nonce === undefined ? { [REFUSAL_HEADER]: reason } : { [REFUSAL_HEADER]: reason, [DPOP_NONCE_HEADER]: nonce },
  );
}

/** True for a refusal because the token expired: at the call, or during a stream. The caller may retry with a fresh token. */
export function isTokenExpired(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.Unauthenticated && err.metadata.get(REFUSAL_HEADER) === 'token_expired';
}

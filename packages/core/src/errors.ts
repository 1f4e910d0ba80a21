/**
 * Every error Tessera throws is a `TesseraError` with a stable string `code`. Subclasses carry data
 * (`TokenClaimError.claim`, `InsufficientScopeError.missing`, ...). Messages never contain token,
 * key or secret material: they are safe to log and safe to show to an operator.
 *
 * The table of codes lives in docs/errors.md; a test checks the two against each other.
 */

export class TesseraError extends Error {
  /** Stable machine-readable code, e.g. `ERR_TOKEN_EXPIRED`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Base of every reason a token is refused. Maps to `invalid_token` (HTTP 401) on the wire. */
export class TokenError extends TesseraError {}

export class TokenMalformedError extends TokenError {
  static readonly code = 'ERR_TOKEN_MALFORMED';
  /** Which rule the token broke, e.g. `segments`, `base64url`, `json`, `jwe`, `json-serialization`. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(TokenMalformedError.code, message);
    this.reason = reason;
  }
}

export class TokenTooLargeError extends TokenError {
  static readonly code = 'ERR_TOKEN_TOO_LARGE';
  readonly limit: number;
  constructor(limit: number) {
    super(TokenTooLargeError.code, `token is longer than the ${limit}-character limit`);
    this.limit = limit;
  }
}

export class AlgorithmNotAllowedError extends TokenError {
  static readonly code = 'ERR_ALG_NOT_ALLOWED';
  constructor(message: string) {
    super(AlgorithmNotAllowedError.code, message);
  }
}

export class AlgorithmKeyMismatchError extends TokenError {
  static readonly code = 'ERR_ALG_KEY_MISMATCH';
  constructor() {
    super(AlgorithmKeyMismatchError.code, "the token's alg is not the algorithm its key is pinned to");
  }
}

export class TokenTypeError extends TokenError {
  static readonly code = 'ERR_TOKEN_TYPE';
  constructor(message: string) {
    super(TokenTypeError.code, message);
  }
}

export class UnsupportedHeaderError extends TokenError {
  static readonly code = 'ERR_HEADER_UNSUPPORTED';
  /** The header parameter refused: `crit`, `b64`, `kid`, ... */
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super(UnsupportedHeaderError.code, message);
    this.parameter = parameter;
  }
}

export class KeyNotFoundError extends TokenError {
  static readonly code = 'ERR_KEY_NOT_FOUND';
  constructor(message = 'no key matches the token (kid and alg)') {
    super(KeyNotFoundError.code, message);
  }
}

export class SignatureInvalidError extends TokenError {
  static readonly code = 'ERR_SIGNATURE_INVALID';
  constructor(message = 'signature verification failed') {
    super(SignatureInvalidError.code, message);
  }
}

export class TokenClaimError extends TokenError {
  static readonly code: string = 'ERR_CLAIM_INVALID';
  /** The claim that failed, e.g. `iss`, `aud`, `scope`. */
  readonly claim: string;
  /** `missing`, `type`, `mismatch`, `future`, `too_old`, ... */
  readonly reason: string;
  constructor(claim: string, reason: string, message: string, code: string = TokenClaimError.code) {
    super(code, message);
    this.claim = claim;
    this.reason = reason;
  }
}

export class TokenExpiredError extends TokenClaimError {
  static override readonly code = 'ERR_TOKEN_EXPIRED';
  /** The token's `exp`, in seconds since the epoch. */
  readonly expiredAt: number;
  constructor(expiredAt: number) {
    super('exp', 'expired', 'token has expired', TokenExpiredError.code);
    this.expiredAt = expiredAt;
  }
}

export class TokenNotYetValidError extends TokenClaimError {
  static override readonly code = 'ERR_TOKEN_NOT_YET_VALID';
  constructor(claim: 'nbf' | 'iat', message: string) {
    super(claim, 'future', message, TokenNotYetValidError.code);
  }
}

/**
 * An encrypted token (compact JWE, RFC 7516) that does not decrypt or is not built as Tessera accepts it.
 * `reason` names the rule for logs: `segments`, `base64url`, `header`, `typ`, `cty`, `epk`, `iv`, `tag`,
 * `decryption` (every failure from the key agreement or unwrapping to the tag: one reason, so that no step
 * can be told from another), `plaintext` or `nested-jwe` (the content is not a JWS).
 */
export class JweInvalidError extends TokenError {
  static readonly code = 'ERR_JWE_INVALID';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(JweInvalidError.code, message);
    this.reason = reason;
  }
}

/**
 * An encrypted token that uses what Tessera never decrypts, or this decrypter was not configured for: `parameter`
 * names it (`alg`, `enc`, `zip`, `crit`, `serialization` for the JSON serialization).
 */
export class JweUnsupportedError extends TokenError {
  static readonly code = 'ERR_JWE_UNSUPPORTED';
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super(JweUnsupportedError.code, message);
    this.parameter = parameter;
  }
}

/** Thrown by `requireScopes`. Maps to `insufficient_scope` (HTTP 403) on the wire. */
export class InsufficientScopeError extends TesseraError {
  static readonly code = 'ERR_INSUFFICIENT_SCOPE';
  readonly required: readonly string[];
  readonly missing: readonly string[];
  readonly mode: 'all' | 'any';
  constructor(required: readonly string[], missing: readonly string[], mode: 'all' | 'any') {
    super(InsufficientScopeError.code, `token lacks the required scope (${mode} of ${required.join(' ')})`);
    this.required = required;
    this.missing = missing;
    this.mode = mode;
  }
}

export class ScopeSyntaxError extends TesseraError {
  static readonly code = 'ERR_SCOPE_SYNTAX';
  constructor(message: string) {
    super(ScopeSyntaxError.code, message);
  }
}

/** A key was refused at import or generation: weak, unfit for signatures, or inconsistent. */
export class KeyInvalidError extends TesseraError {
  static readonly code = 'ERR_KEY_INVALID';
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(KeyInvalidError.code, message, options);
    this.reason = reason;
  }
}

export class JwksInvalidError extends TesseraError {
  static readonly code = 'ERR_JWKS_INVALID';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(JwksInvalidError.code, message);
    this.reason = reason;
  }
}

/** The caller passed options Tessera will not run with (no algorithm allowlist, `none`, ...). */
export class ConfigError extends TesseraError {
  static readonly code = 'ERR_CONFIG';
  /** The option at fault, e.g. `algorithms`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super(ConfigError.code, `${option}: ${message}`);
    this.option = option;
  }
}

/**
 * `parseStrictJson` refused the text: `reason` is `syntax` (not JSON), `duplicate` (a member name repeated)
 * or `depth` (nested deeper than allowed). Token parsing turns it into `TokenMalformedError`.
 */
export class JsonSyntaxError extends TesseraError {
  static readonly code = 'ERR_JSON_SYNTAX';
  readonly reason: 'syntax' | 'duplicate' | 'depth';
  constructor(reason: 'syntax' | 'duplicate' | 'depth', message: string) {
    super(JsonSyntaxError.code, message);
    this.reason = reason;
  }
}

/**
 * A DPoP proof was refused (RFC 9449 section 7.1 `invalid_dpop_proof`): `reason` names the rule it broke
 * (`typ`, `jwk`, `htm`, `htu`, `iat`, `ath`, `jti`, `jkt`, ...), for logs; the wire says only invalid_dpop_proof.
 */
export class DpopProofError extends TesseraError {
  static readonly code = 'ERR_DPOP_PROOF';
  readonly reason: string;
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(DpopProofError.code, message, options);
    this.reason = reason;
  }
}

/** The proof lacks the server's current nonce (RFC 9449 section 8: `use_dpop_nonce`, with a fresh `DPoP-Nonce`). */
export class DpopNonceError extends TesseraError {
  static readonly code = 'ERR_DPOP_NONCE';
  constructor(message = 'the DPoP proof must carry the current nonce') {
    super(DpopNonceError.code, message);
  }
}

/** Every code thrown by @tessera/core. */
export const CORE_ERROR_CODES: readonly string[] = Object.freeze([
  TokenMalformedError.code,
  TokenTooLargeError.code,
  AlgorithmNotAllowedError.code,
  AlgorithmKeyMismatchError.code,
  TokenTypeError.code,
  UnsupportedHeaderError.code,
  KeyNotFoundError.code,
  SignatureInvalidError.code,
  TokenClaimError.code,
  TokenExpiredError.code,
  TokenNotYetValidError.code,
  InsufficientScopeError.code,
  ScopeSyntaxError.code,
  KeyInvalidError.code,
  JwksInvalidError.code,
  ConfigError.code,
  JsonSyntaxError.code,
  DpopProofError.code,
  DpopNonceError.code,
  JweInvalidError.code,
  JweUnsupportedError.code,
]);

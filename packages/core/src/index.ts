export { ALGORITHMS, isAlgorithm } from './algorithms.js';
export type { Algorithm, AlgorithmInfo, KeyType } from './algorithms.js';
export {
  AlgorithmKeyMismatchError,
  AlgorithmNotAllowedError,
  ConfigError,
  CORE_ERROR_CODES,
  InsufficientScopeError,
  JsonSyntaxError,
  DpopProofError,
  DpopNonceError,
  JweInvalidError,
  JweUnsupportedError,
  JwksInvalidError,
  KeyInvalidError,
  KeyNotFoundError,
  ScopeSyntaxError,
  SignatureInvalidError,
  TesseraError,
  TokenClaimError,
  TokenError,
  TokenExpiredError,
  TokenMalformedError,
  TokenNotYetValidError,
  TokenTooLargeError,
  TokenTypeError,
  UnsupportedHeaderError,
} from './errors.js';
export { Key, MAX_RSA_BITS, MIN_RSA_BITS } from './key/key.js';
export type { KeyKind } from './key/key.js';
export { generateKey } from './key/generate.js';
export type { GenerateOptions } from './key/generate.js';
export { importDer, importJwk, importKey, importPem, importSecret, importSshPublicKey } from './key/import.js';
export type { ImportOptions } from './key/import.js';
export {
  CONTENT_ENCRYPTIONS,
  EncryptionKey,
  generateEncryptionKey,
  importDirectKey,
  importEncryptionJwk,
  importEncryptionPem,
  KEY_MANAGEMENT_ALGORITHMS,
} from './key/encryption-key.js';
export type {
  ContentEncryption,
  EncryptionCurve,
  GenerateEncryptionKeyOptions,
  KeyManagementAlgorithm,
} from './key/encryption-key.js';
export { certificateThumbprint, jwkThumbprint } from './key/thumbprint.js';
export { buildJwks, KeySet, MAX_JWKS_KEYS, parseJwks, spiffeBundleJwks } from './jwks.js';
export type { JsonWebKeySet, ParseJwksOptions, SkippedKey } from './jwks.js';
export { ACCESS_TOKEN_TYPE, signAccessToken, signJwt } from './jwt/sign.js';
export type { AccessTokenInput, SignOptions } from './jwt/sign.js';
export {
  AccessTokenVerifier,
  DEFAULT_CLOCK_TOLERANCE,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_TOKEN_LENGTH,
  JwsVerifier,
  verifyAccessToken,
} from './jwt/verify.js';
export type { AccessTokenVerifyOptions, JwsVerifyOptions, KeySource, VerifiedAccessToken, VerifiedJws } from './jwt/verify.js';
export type { OptionalClaim, TokenProfile } from './jwt/profile.js';
export {
  CLIENT_ASSERTION_ALGORITHMS,
  CLIENT_ASSERTION_PROFILE,
  ClientAssertionVerifier,
  DEFAULT_ASSERTION_CLOCK_TOLERANCE,
  DEFAULT_MAX_ASSERTION_LIFETIME,
  MAX_ASSERTION_JTI_LENGTH,
} from './jwt/client-assertion.js';
export type { ClientAssertionClaims, ClientAssertionVerifyOptions, VerifiedClientAssertion } from './jwt/client-assertion.js';
export { DEFAULT_MAX_WORKLOAD_TOKEN_AGE, WORKLOAD_TOKEN_PROFILE, WorkloadTokenVerifier } from './jwt/workload-token.js';
export type { VerifiedWorkloadToken, WorkloadTokenClaims, WorkloadTokenVerifyOptions } from './jwt/workload-token.js';
export {
  accessTokenHash,
  boundCertificateThumbprint,
  boundJkt,
  DEFAULT_DPOP_FUTURE_SKEW,
  DEFAULT_DPOP_MAX_AGE,
  DPOP_ALGORITHMS,
  DPOP_PROOF_TYPE,
  DpopProofVerifier,
  MAX_DPOP_JTI_LENGTH,
  normalizeHtu,
} from './jwt/dpop.js';
export type { DpopProofVerifyOptions, DpopRequest, VerifiedDpopProof } from './jwt/dpop.js';
export {
  decryptJwe,
  isCompactJwe,
  DEFAULT_MAX_JWE_HEADER_LENGTH,
  DEFAULT_MAX_JWE_LENGTH,
  EncryptedAccessTokenVerifier,
  encryptJwt,
  JweDecrypter,
} from './jwt/jwe.js';
export type {
  DecryptedJwe,
  DecryptionKeySource,
  EncryptedAccessTokenVerifyOptions,
  EncryptJwtOptions,
  JweDecryptOptions,
  JweHeader,
  VerifiedEncryptedAccessToken,
} from './jwt/jwe.js';
export { decodeUnverified } from './jwt/decode.js';
export type { DecodedToken } from './jwt/decode.js';
export type { AccessTokenClaims, JwsHeader } from './jwt/types.js';
export { formatScope, hasScopes, isScopeToken, parseScope, requireScopes } from './scopes.js';
export type { ScopeMode } from './scopes.js';
export { decodeBase64url, encodeBase64url, isCanonicalBase64url } from './lib/base64url.js';
export { parseStrictJson } from './lib/json.js';

export { bearerToken, createVerifier, Verifier } from './verifier.js';
export type {
  AuthorizeOptions,
  DecryptionOptions,
  DpopChallenge,
  DpopOptions,
  RequestCredentials,
  VerifierOptions,
} from './verifier.js';
export type { Principal } from './principal.js';
export { RemoteJwks } from './remote-jwks.js';
export type { RemoteJwksOptions } from './remote-jwks.js';
export {
  JwksFetchError,
  KeysUnavailableError,
  RevocationsUnavailableError,
  DpopReplayError,
  TokenBindingError,
  TokenMissingError,
  TokenRequestError,
  TokenRevokedError,
  VERIFIER_ERROR_CODES,
} from './errors.js';
export { createRevocationList, RevocationList } from './revocation/list.js';
export { REVOCATIONS_CHANNEL, REVOCATIONS_SCOPE } from './revocation/options.js';
export type { RedisSubscriber, RevocationListOptions } from './revocation/options.js';
export { revokes } from './revocation/set.js';
export type { RevocableClaims, RevocationEntry, RevocationKind } from './revocation/set.js';
export { createDpopProof, DpopKey } from './dpop-key.js';
export type { DpopProofOptions } from './dpop-key.js';
export { ServiceTokenSource } from './token-source.js';
export type { ServiceTokenSourceOptions, TokenRequest, TokenResponse, WorkloadAssertionType } from './token-source.js';
export { peerCertificate } from './adapters/request.js';
export { rejection, writeRejection } from './adapters/rejection.js';
export type { ChallengeOptions, HttpRejection } from './adapters/rejection.js';

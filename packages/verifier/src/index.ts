export { bearerToken, createVerifier, Verifier } from './verifier.js';
export type { AuthorizeOptions, VerifierOptions } from './verifier.js';
export type { Principal } from './principal.js';
export { RemoteJwks } from './remote-jwks.js';
export type { RemoteJwksOptions } from './remote-jwks.js';
export { JwksFetchError, KeysUnavailableError, TokenMissingError, TokenRevokedError, VERIFIER_ERROR_CODES } from './errors.js';
export { rejection } from './adapters/rejection.js';
export type { ChallengeOptions, HttpRejection } from './adapters/rejection.js';

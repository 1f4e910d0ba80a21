import type { Algorithm, TokenProfile } from '@tessera/core';
import { createVerifier, type Verifier } from '@tessera/verifier';

import { UsageError } from './errors.js';

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** True when `--jwks` names a URL rather than a file; only http:// and https:// are accepted. */
export function isJwksUrl(value: string): boolean {
  if (!URL_SCHEME.test(value)) return false;
  if (!/^https?:\/\//i.test(value)) throw new UsageError('--jwks URL must be http:// or https://');
  return true;
}

export interface JwksUrlVerifyOptions {
  url: string;
  issuer: readonly string[] | undefined;
  audience: readonly string[] | undefined;
  algorithms: readonly Algorithm[];
  clockTolerance: number | undefined;
  profile?: TokenProfile;
}

/**
 * `--jwks URL`: a verifier of the @tessera/verifier SDK, which fetches the JWKS with its timeout, size cap
 * and parseJwks, exactly as a service would. It verifies one token, so its cache is off; close it after.
 */
export function createJwksUrlVerifier(options: JwksUrlVerifyOptions): Verifier {
  return createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.algorithms,
    jwksUri: options.url,
    clockTolerance: options.clockTolerance,
    profile: options.profile,
    cache: false,
  });
}

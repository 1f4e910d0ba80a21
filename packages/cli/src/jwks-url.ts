import { UsageError } from './errors.js';

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** True when `--jwks` names a URL rather than a file; only http:// and https:// are accepted. */
export function isJwksUrl(value: string): boolean {
  if (!URL_SCHEME.test(value)) return false;
  if (!/^https?:\/\//i.test(value)) throw new UsageError('--jwks URL must be http:// or https://');
  return true;
}

import { randomBytes, randomUUID } from 'node:crypto';

/** A client secret: 256 random bits, base64url, with a recognisable prefix for secret scanners. */
export function newClientSecret(): string {
  return `tss_${randomBytes(32).toString('base64url')}`;
}

/** A refresh token: 256 random bits, base64url, prefixed. */
export function newRefreshToken(): string {
  return `tsr_${randomBytes(32).toString('base64url')}`;
}

/** A browser session id (the hosted login's cookie): 256 random bits, base64url, prefixed. */
export function newSessionId(): string {
  return `tsb_${randomBytes(32).toString('base64url')}`;
}

/** An authorization code: 256 random bits, base64url, prefixed. */
export function newAuthorizationCode(): string {
  return `tsc_${randomBytes(32).toString('base64url')}`;
}

/** The reference part of a pushed authorization request's `request_uri` (RFC 9126): 256 random bits, base64url. */
export function newPushedRequestReference(): string {
  return randomBytes(32).toString('base64url');
}

/** The reference to a pending authorization request that the login form carries: 256 random bits, base64url, prefixed. */
export function newRequestReference(): string {
  return `tsq_${randomBytes(32).toString('base64url')}`;
}

/** The login form's browser key (its cookie), which the form's anti-forgery token is bound to: 256 random bits. */
export function newLoginKey(): string {
  return `tsk_${randomBytes(32).toString('base64url')}`;
}

/** A Content-Security-Policy nonce for one response's script: 128 random bits, base64url. */
export function newCspNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function newId(): string {
  return randomUUID();
}

import { epochSeconds } from '../services/epoch.js';
import type { User } from '../store/types.js';

/**
 * OpenID Connect's scopes (Core sections 3.1.2.1 and 5.4): `openid` makes a request an OpenID Connect one,
 * `profile` and `email` ask for the user's standard claims. They are identity scopes: a client registered for
 * them may ask for them for any user, whatever the user's roles, unlike the permissions roles grant.
 */
export const OPENID_SCOPE = 'openid';
export const IDENTITY_SCOPES: readonly string[] = [OPENID_SCOPE, 'profile', 'email'];

/** The standard claims each scope gives (Core section 5.4), from the user record; `sub` always. */
export const SCOPE_CLAIMS = {
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
} as const;

/** Every claim the server can state about a user (discovery's `claims_supported`). */
export const CLAIMS_SUPPORTED: readonly string[] = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'sid',
  ...SCOPE_CLAIMS.profile,
  ...SCOPE_CLAIMS.email,
];

/**
 * `offline_access` (OpenID Connect Core section 11): the refresh token may outlive the browser session it was
 * started in. Like the identity scopes it asks for something of the sign-in, not for a permission.
 */
export const OFFLINE_ACCESS = 'offline_access';

/** The scopes about the sign-in itself: a client allowed them may ask for them for any user, whatever their roles. */
const SIGN_IN_SCOPES: readonly string[] = [...IDENTITY_SCOPES, OFFLINE_ACCESS];

/**
 * Whether a user with these permissions may hold the scope (already allowed to the client) in a token of theirs:
 * a sign-in scope, or one of their permissions.
 */
export function userMayHold(scope: string, permissions: readonly string[]): boolean {
  return SIGN_IN_SCOPES.includes(scope) || permissions.includes(scope);
}

/**
 * The user's claims for the granted scopes (Core section 5.3.2): `sub`, then the claims of `profile` and `email`
 * that the user has; a claim the user has no value for is left out (section 5.3.2).
 */
export function userClaims(user: User, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.id };
  if (scopes.includes('profile')) {
    if (user.name !== undefined) claims.name = user.name;
    if (user.givenName !== undefined) claims.given_name = user.givenName;
    if (user.familyName !== undefined) claims.family_name = user.familyName;
    claims.preferred_username = user.username;
    claims.updated_at = epochSeconds(user.updatedAt);
  }
  if (scopes.includes('email') && user.email !== undefined) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified === true;
  }
  return claims;
}

import type { ServerContext } from '../context.js';
import { newAuthorizationCode } from '../security/random.js';
import type { User } from '../store/types.js';
import type { AuthorizationRequest } from './authorize-request.js';
import { userMayHold } from './identity-scopes.js';

/** How the user authenticated for this code (OpenID Connect `acr` and `amr`, stated in the ID token). */
export interface Authentication {
  /** The authentication context class met; absent: DEFAULT_ACR (oauth/id-token.ts). */
  acr?: string;
  /** RFC 8176 methods, e.g. `['pwd']` when the user typed their password; absent: none stated. */
  amr?: readonly string[];
}

/** An authorization code lives 60 seconds (RFC 6749 section 4.1.2 recommends at most 10 minutes). */
export const CODE_LIFETIME_S = 60;

/**
 * Issues the code answering a checked authorization request for a signed-in user: stored as its keyed digest,
 * bound to the client, the redirect URI and the S256 challenge, with the requested scopes the user's roles
 * allow (a scope they lack is left out, and the token response's `scope` says what was granted; the identity
 * scopes openid, profile and email need no role). OpenID Connect: the request's nonce and the authentication's
 * acr and amr go with the code into the ID token.
 */
export async function issueAuthorizationCode(
  ctx: ServerContext,
  request: AuthorizationRequest,
  user: User,
  authTime: number,
  authentication: Authentication = {},
): Promise<string> {
  const permissions = await ctx.store.roles.permissionsOf(user.roles);
  const code = newAuthorizationCode();
  const now = ctx.now();
  await ctx.store.authorizationCodes.create({
    digest: ctx.master.secretDigest(code),
    clientId: request.client.id,
    userId: user.id,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scope: request.scopes.filter((s) => userMayHold(s, permissions)).join(' '),
    audience: [...request.audience],
    authTime,
    createdAt: now,
    expiresAt: now + CODE_LIFETIME_S * 1000,
    usedAt: null,
    familyId: null,
    nonce: request.nonce ?? null,
    acr: authentication.acr ?? null,
    amr: [...(authentication.amr ?? [])],
  });
  return code;
}

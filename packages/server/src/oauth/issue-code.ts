import type { ServerContext } from '../context.js';
import { newAuthorizationCode } from '../security/random.js';
import type { BrowserSession, User } from '../store/types.js';
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
 * Issues the code answering a checked authorization request for a user signed in through `session`: stored as its
 * keyed digest, bound to the client, the redirect URI, the S256 challenge and the browser session (the refresh
 * family its redemption starts ends with that session, unless `offline_access` was granted), with the requested
 * scopes the user's roles allow (a scope they lack is left out, and the token response's `scope` says what was
 * granted; the sign-in scopes openid, profile, email and offline_access need no role). `auth_time` is the
 * session's. OpenID Connect: the request's nonce and the authentication's acr and amr go with the code into the
 * ID token. A `dpop_jkt` binds the code to that DPoP key (RFC 9449 section 10).
 */
export async function issueAuthorizationCode(
  ctx: ServerContext,
  request: AuthorizationRequest,
  user: User,
  session: Pick<BrowserSession, 'id' | 'authTime'>,
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
    authTime: session.authTime,
    createdAt: now,
    expiresAt: now + CODE_LIFETIME_S * 1000,
    usedAt: null,
    familyId: null,
    browserSessionId: session.id,
    nonce: request.nonce ?? null,
    acr: authentication.acr ?? null,
    amr: [...(authentication.amr ?? [])],
    ...(request.dpopJkt !== undefined ? { dpopJkt: request.dpopJkt } : {}),
  });
  return code;
}

import { TokenExpiredError, TokenNotYetValidError, type Algorithm } from '@tessera/core';
import { createVerifier, TokenRevokedError, type Principal, type Verifier } from '@tessera/verifier';

import type { ServerContext } from '../context.js';
import { ownSignedToken } from '../resources/encrypt.js';

/**
 * The server's Verifier of its own access tokens: the one every service runs, over the live signing keys
 * (active and retired) of its key manager, with the revocation registry as its revocation hook and the
 * server's clock. Only the configured signing algorithm is accepted: every key the server makes or imports
 * has it (services/keys.ts), and the deployment guide asks that it never change under a data folder. With
 * `audience` the tokens must be for `audience(issuer)` (the server's own APIs); without, for any audience
 * (introspection, token exchange and revocation act on tokens meant for other services).
 *
 * Returned as a getter: the issuer of a server on port 0 is known only once it binds, so the Verifier is
 * built for the current issuer, again if it changes.
 */
export function ownTokenVerifier(ctx: ServerContext, audience?: (issuer: string) => string): () => Verifier {
  let verifier: Verifier | undefined;
  let builtFor = '';
  return () => {
    const issuer = ctx.config.issuer;
    if (verifier === undefined || builtFor !== issuer) {
      builtFor = issuer;
      verifier = createVerifier({
        issuer,
        ...(audience !== undefined ? { audience: audience(issuer) } : { profile: { ignoreAudience: true } }),
        algorithms: [ctx.config.signingAlg as Algorithm],
        // The key manager returns one KeySet object until its keys change: the verified-token cache holds
        // exactly as long (a removed key's tokens are verified again, and refused).
        keys: () => ctx.keys.verificationKeys(),
        isRevoked: (p) => ctx.revocations.isRevoked(p.claims, ctx.now()),
        now: ctx.now,
        // The signer and this check share one clock; the only skew is of the server's own making: a token
        // issued in the second of a revocation cut-off is dated the next second (oauth/issue.ts).
        clockTolerance: 1,
      });
    }
    return verifier;
  };
}

/** One any-audience Verifier per server (its cache is shared by introspection, token exchange, revocation and userinfo). */
const anyAudience = new WeakMap<ServerContext, () => Verifier>();

/**
 * Verifies an access token this server issued, meant for any audience. Throws what the Verifier throws:
 * a TokenError for a token that is not one of this server's or no longer counts (see `isInactive`). An encrypted
 * token counts by the signed token the server kept when it issued it.
 */
export async function verifyOwnAccessToken(ctx: ServerContext, token: string): Promise<Principal> {
  // An encrypted token (for a resource that receives its tokens encrypted) is checked by the signed token inside.
  return anyAudienceVerifier(ctx)().verify(await ownSignedToken(ctx, token));
}

/** The server's one any-audience Verifier (introspection, token exchange, revocation, userinfo). */
export function anyAudienceVerifier(ctx: ServerContext): () => Verifier {
  let verifier = anyAudience.get(ctx);
  if (verifier === undefined) {
    verifier = ownTokenVerifier(ctx);
    anyAudience.set(ctx, verifier);
  }
  return verifier;
}

/**
 * A refusal of a token this server did issue, whose signature, issuer and claims hold, but which does not
 * count now: expired, not valid yet, or revoked. Introspection reports such a token as `active: false`
 * (RFC 7662), token exchange says why it refuses it.
 */
export function isInactive(err: unknown): err is TokenExpiredError | TokenNotYetValidError | TokenRevokedError {
  return err instanceof TokenExpiredError || err instanceof TokenNotYetValidError || err instanceof TokenRevokedError;
}

import type { Principal } from '../principal.js';
import type { AuthorizeOptions, RequestCredentials, Verifier } from '../verifier.js';

/**
 * Authorizes a request for a framework that goes on through a callback (Express's `next`, a Fastify hook's
 * `done`): a token in the verified-token cache is answered at once, without a promise (its DPoP proof, if any,
 * checked in full); any other is verified by `authorizeRequest`. `accept` gets the Principal, `refuse` the error.
 */
export function authorizeThen(
  verifier: Verifier,
  request: RequestCredentials,
  options: AuthorizeOptions,
  accept: (principal: Principal) => void,
  refuse: (err: unknown) => void,
): void {
  let cached: Principal | undefined;
  try {
    cached = verifier.authorizeRequestCached(request, options);
  } catch (err) {
    return refuse(err);
  }
  if (cached !== undefined) return accept(cached);
  verifier.authorizeRequest(request, options).then(accept, refuse);
}

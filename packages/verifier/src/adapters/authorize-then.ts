import type { Principal } from '../principal.js';
import type { AuthorizeOptions, Verifier } from '../verifier.js';

/**
 * Authorizes a request for a framework that goes on through a callback (Express's `next`, a Fastify hook's
 * `done`): a token in the verified-token cache is answered at once, without a promise; any other is verified
 * by `authorize`. `accept` gets the Principal, `refuse` the error.
 */
export function authorizeThen(
  verifier: Verifier,
  authorization: string | undefined,
  options: AuthorizeOptions,
  accept: (principal: Principal) => void,
  refuse: (err: unknown) => void,
): void {
  let cached: Principal | undefined;
  try {
    cached = verifier.authorizeCached(authorization, options);
  } catch (err) {
    return refuse(err);
  }
  if (cached !== undefined) return accept(cached);
  verifier.authorize(authorization, options).then(accept, refuse);
}

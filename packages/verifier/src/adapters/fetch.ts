import { TesseraError } from '@tessera/core';

import type { Principal } from '../principal.js';
import type { AuthorizeOptions, Verifier } from '../verifier.js';
import { rejection, type ChallengeOptions } from './rejection.js';

export type AuthOptions = AuthorizeOptions & ChallengeOptions;

/**
 * Fetch-API helper: the Principal of a Request's token (Bearer, or DPoP with its proof, checked against the
 * Request's method and URL); throws a TesseraError when refused. A fetch Request carries no TLS peer
 * certificate, so a token bound to a client certificate (RFC 8705 `cnf["x5t#S256"]`) is refused here
 * (TokenBindingError, 401 invalid_token): serve such tokens through the node:http, Express or Fastify adapter,
 * or call `verifier.authorizeRequest` with the connection's `certificate` where the runtime exposes it.
 */
export function authenticateRequest(verifier: Verifier, request: Request, options: AuthorizeOptions = {}): Promise<Principal> {
  return verifier.authorizeRequest(
    {
      authorization: request.headers.get('authorization'),
      dpop: request.headers.get('dpop'),
      method: request.method,
      url: request.url,
    },
    options,
  );
}

/** The RFC 6750 Response for a refusal (401 / 400 / 403 / 503). */
export function rejectionResponse(err: unknown, options: ChallengeOptions = {}): Response {
  const r = rejection(err, options);
  return new Response(JSON.stringify(r.body), { status: r.status, headers: r.headers });
}

/** Wraps a fetch handler (Request -> Response) so that it runs only for authorized requests. */
export function withAuth(
  verifier: Verifier,
  handler: (request: Request, principal: Principal) => Response | Promise<Response>,
  options: AuthOptions = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    let principal: Principal;
    try {
      principal = await authenticateRequest(verifier, request, options);
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err;
      return rejectionResponse(err, { realm: options.realm, dpop: verifier.dpopChallenge(request.headers.get('authorization')) });
    }
    return handler(request, principal);
  };
}

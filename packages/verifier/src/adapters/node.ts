import type { IncomingMessage, ServerResponse } from 'node:http';

import { TesseraError } from '@tessera/core';

import type { Principal } from '../principal.js';
import type { AuthorizeOptions, Verifier } from '../verifier.js';
import { writeRejection, type ChallengeOptions } from './rejection.js';
import { nodeRequestCredentials } from './request.js';

export type AuthOptions = AuthorizeOptions & ChallengeOptions;

/**
 * node:http helper: verifies the request's token (Bearer, or DPoP with its proof). On success returns the Principal; on refusal
 * writes the RFC 6750 / RFC 9449 answer (401 / 400 / 403 / 503) and returns undefined.
 */
export async function authenticate(
  verifier: Verifier,
  req: IncomingMessage,
  res: ServerResponse,
  options: AuthOptions = {},
): Promise<Principal | undefined> {
  try {
    return await verifier.authorizeRequest(nodeRequestCredentials(req), options);
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    writeRejection(res, err, { realm: options.realm, dpop: verifier.dpopChallenge(req.headers.authorization) });
    return undefined;
  }
}

/**
 * Wraps a request listener so that it runs only for authorized requests, with the Principal. Like a
 * node:http listener, the handler may return anything (`res.end(...)` included); a returned promise is
 * awaited, and its rejection answers 500.
 */
export function withAuth(
  verifier: Verifier,
  handler: (req: IncomingMessage, res: ServerResponse, principal: Principal) => unknown,
  options: AuthOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    authenticate(verifier, req, res, options)
      .then((principal) => (principal ? handler(req, res, principal) : undefined))
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'server_error' }));
        req.emit('tessera:error', err);
      });
  };
}

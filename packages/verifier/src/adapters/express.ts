import type { IncomingMessage, ServerResponse } from 'node:http';

import { requireScopes, TesseraError, type ScopeMode } from '@tessera/core';

import { TokenMissingError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { AuthorizeOptions, Verifier } from '../verifier.js';
import { authorizeThen } from './authorize-then.js';
import { writeRejection, type ChallengeOptions } from './rejection.js';
import { nodeRequestCredentials } from './request.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the Tessera middleware once the bearer token verified. */
      principal?: Principal;
    }
  }
}

type Next = (err?: unknown) => void;
type Req = IncomingMessage & { principal?: Principal; originalUrl?: string };

/** The verifier that authorized a request, for the DPoP challenge of `requireScope`'s refusal. */
const authorizedBy = new WeakMap<IncomingMessage, Verifier>();

/**
 * Express / Connect middleware: verifies the request's token (Bearer, or DPoP with its proof), sets
 * `req.principal`, and answers 401 / 403 / 503 itself (RFC 6750, RFC 9449). Errors that are not Tessera's go
 * to `next(err)`.
 */
export function tesseraExpress(verifier: Verifier, options: AuthorizeOptions & ChallengeOptions = {}) {
  const refuse = (req: Req, res: ServerResponse, next: Next, err: unknown) =>
    err instanceof TesseraError
      ? writeRejection(res, err, { realm: options.realm, dpop: verifier.dpopChallenge(req.headers.authorization) })
      : next(err);
  return function tesseraAuth(req: Req, res: ServerResponse, next: Next): void {
    authorizeThen(
      verifier,
      nodeRequestCredentials(req),
      options,
      (principal) => {
        req.principal = principal;
        authorizedBy.set(req, verifier);
        next();
      },
      (err) => refuse(req, res, next, err),
    );
  };
}

/** Per-route scope check, after `tesseraExpress` has set `req.principal`. */
export function requireScope(scopes: readonly string[], mode: ScopeMode = 'all', options: ChallengeOptions = {}) {
  return function tesseraRequireScope(req: Req, res: ServerResponse, next: Next): void {
    try {
      if (!req.principal) throw new TokenMissingError(false);
      requireScopes(req.principal.scopes, scopes, mode);
      next();
    } catch (err) {
      writeRejection(res, err, { ...options, dpop: authorizedBy.get(req)?.dpopChallenge(req.headers.authorization) });
    }
  };
}

import type { Interceptor } from '@connectrpc/connect';
import { SpanKind } from '@opentelemetry/api';
import { OUTCOME } from '@tessera/verifier/internal';

import { Authorizer, VOUCH_HEADER, type AuthOptions } from './authorizer.js';
import { principalKey } from './context.js';
import { untilTokenEnds } from './stream-expiry.js';
import { extractContext, inRpcSpan } from './telemetry.js';

/**
 * The server interceptor: every call needs a rule in the policy (a method without one is refused with
 * PermissionDenied, deny by default); a public method passes untouched; any other needs an
 * `Authorization: Bearer` token (a Connect header, gRPC metadata or gRPC-Web header alike) that the verifier
 * accepts (signature, claims, revocation) with the rule's scopes, or a DPoP-bound token as `Authorization: DPoP`
 * with its proof in the `DPoP` header, made by the token's key for this call (its HTTP method, and the method's
 * URL on the server's origin, or on the verifier's `externalOrigin`); a stream's proof is checked at its start. The caller's Principal reaches the handler
 * as `principal(ctx)`. A response stream ends with Unauthenticated when the token expires (or is revoked,
 * given `revocations`).
 * Each call is an OpenTelemetry server span (`rpc.call`, `tessera.outcome`), the child of the trace context the
 * request's headers carry; the verification and the handler run inside it.
 *
 * Connect runs interceptors of unary calls only after it has read and parsed the request body; put
 * `withAuthGate` in front of the Node handler to refuse before that.
 */
export function createAuthInterceptor(options: AuthOptions): Interceptor {
  const auth = new Authorizer(options);
  return (next) => (req) =>
    // The call's server span, the child of the caller's trace context: the verification and the handler run in it.
    inRpcSpan(SpanKind.SERVER, req, extractContext(req.header), async (span) => {
      const path = `${req.service.typeName}/${req.method.name}`;
      // The proof names the URL as the client addressed it: Connect's URL of the call (the Host header's origin),
      // or the verifier's externalOrigin and the path.
      const principal = await auth.authorize(
        path,
        { authorization: req.header.get('authorization'), dpop: req.header.get('dpop'), method: req.requestMethod, url: req.url },
        false,
        // The word of a gate in front (withAuthGate), put on this very request: never one a client can send.
        req.header.get(VOUCH_HEADER),
      );
      span.setAttribute(OUTCOME, principal === undefined ? 'public' : 'ok');
      if (principal === undefined) return next(req);
      req.contextValues.set(principalKey, principal);
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: untilTokenEnds(res.message, principal, auth, path) };
    });
}

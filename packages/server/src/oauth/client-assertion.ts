import { CLIENT_ASSERTION_ALGORITHMS, ClientAssertionVerifier, parseJwks, TesseraError, type Algorithm } from '@tessera/core';

import type { ServerContext } from '../context.js';
import type { Client } from '../store/types.js';
import { OAuthError } from './errors.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The algorithms of private_key_jwt: core's list, advertised in the metadata and required of a client's JWKS. */
export const ASSERTION_ALGORITHMS: readonly Algorithm[] = CLIENT_ASSERTION_ALGORITHMS;

/**
 * RFC 7523 section 3, by core's ClientAssertionVerifier: signed by a key of the client's JWKS; iss = sub =
 * client_id; aud the issuer, the token endpoint or the PAR endpoint (RFC 9126 section 2 requires all three); exp
 * within the maximum lifetime; then the jti used once. Every failure is the same `invalid_client`.
 */
export async function checkClientAssertion(ctx: ServerContext, client: Client, assertion: string, now: number): Promise<void> {
  const refuse = () => new OAuthError('invalid_client', 'client authentication failed');
  // Built per request, as the client's JWKS is parsed per request: the audiences are the issuer and its token
  // endpoint (RFC 7523 section 3) and its PAR endpoint (RFC 9126 section 2), the clock the server's.
  const verifier = new ClientAssertionVerifier({
    audience: [ctx.config.issuer, `${ctx.config.issuer}/oauth/token`, `${ctx.config.issuer}/oauth/par`],
    now: () => now,
  });
  let jti: string, exp: number;
  try {
    const keys = parseJwks(client.jwks, { algorithms: ASSERTION_ALGORITHMS });
    ({ jti, exp } = verifier.verifyClientAssertion(assertion, client.id, keys).claims);
  } catch (err) {
    if (err instanceof TesseraError) throw refuse();
    throw err;
  }
  if (!(await ctx.store.assertionJtis.use(client.id, jti, (exp + verifier.clockTolerance) * 1000, now))) {
    await ctx.audit.record({ type: 'client.assertion_replay', outcome: 'failure', clientId: client.id });
    throw refuse();
  }
}

import type { ServerContext } from '../../context.js';
import { authenticateWorkload } from '../../workload/authenticate.js';
import type { AuthenticatedClient } from '../client-auth.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import type { Sender, TokenResponse } from '../issue.js';
import { serviceToken } from './client-credentials.js';
import { JWT_BEARER_GRANT } from '../../store/clients.js';

/**
 * The JWT bearer grant (RFC 7523 section 2.1) for workload tokens: `assertion` is a token of a trusted workload
 * issuer, whose rules name the client; the workload it names is the one the token records. A request without client
 * credentials is authenticated by that assertion itself (the token route, `jwtBearerClient`); one with credentials
 * (a secret, or a workload token as client_assertion) must be of the client the assertion's rule names, and the
 * assertion is verified here. The token is the service's own, as with client_credentials.
 */
export async function jwtBearerGrant(
  ctx: ServerContext,
  client: AuthenticatedClient,
  form: Form,
  ip: string,
  authorizedAt: number,
  sender: Sender,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes(JWT_BEARER_GRANT))
    throw new OAuthError('unauthorized_client', 'this client may not use the jwt-bearer grant');
  const assertion = param(form, 'assertion', true);
  let workload = client.grantAssertion === assertion ? client.workload : undefined;
  if (workload === undefined) {
    ({ workload } = await authenticateWorkload(ctx, { assertion, spiffe: false, clientId: client.id }, ip, 'invalid_grant'));
  }
  return serviceToken(ctx, { ...client, workload }, form, ip, authorizedAt, 'jwt-bearer', sender);
}

/**
 * The client of a JWT bearer grant request that carries no client credentials: the one its assertion's rule names
 * (which must be allowed the grant before a single-use jti is spent).
 */
export async function jwtBearerClient(ctx: ServerContext, form: Form, ip: string): Promise<AuthenticatedClient> {
  const assertion = param(form, 'assertion', true);
  const { client, workload } = await authenticateWorkload(
    ctx,
    { assertion, spiffe: false, clientId: param(form, 'client_id'), grant: JWT_BEARER_GRANT },
    ip,
    'invalid_grant',
  );
  return { ...client, workload, grantAssertion: assertion };
}

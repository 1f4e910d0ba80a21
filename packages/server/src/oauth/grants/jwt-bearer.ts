import type { ServerContext } from '../../context.js';
import { authenticateWorkload } from '../../workload/authenticate.js';
import type { AuthenticatedClient } from '../client-auth.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import type { TokenResponse } from '../issue.js';
import { serviceToken } from './client-credentials.js';

/**
 * The JWT bearer grant (RFC 7523 section 2.1) for workload tokens: `assertion` is a token of a trusted workload
 * issuer, whose rules name the client. A request without client credentials is authenticated by the assertion
 * itself (the token route, `jwtBearerClient`); one with credentials must be of the client the rules name. The
 * token is the service's own, as with client_credentials, and records the workload identity.
 */
export async function jwtBearerGrant(
  ctx: ServerContext,
  client: AuthenticatedClient,
  form: Form,
  ip: string,
  authorizedAt: number,
  jkt: string | undefined,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes('urn:ietf:params:oauth:grant-type:jwt-bearer'))
    throw new OAuthError('unauthorized_client', 'this client may not use the jwt-bearer grant');
  let workload = client.workload;
  if (workload === undefined) {
    ({ workload } = await authenticateWorkload(
      ctx,
      { assertion: param(form, 'assertion', true), spiffe: false, clientId: client.id },
      ip,
      'invalid_grant',
    ));
  }
  return serviceToken(ctx, { ...client, workload }, form, ip, authorizedAt, 'jwt-bearer', jkt);
}

/** The client of a JWT bearer grant request that carries no client credentials: the one its assertion's rule names. */
export async function jwtBearerClient(ctx: ServerContext, form: Form, ip: string): Promise<AuthenticatedClient> {
  const { client, workload } = await authenticateWorkload(
    ctx,
    { assertion: param(form, 'assertion', true), spiffe: false, clientId: param(form, 'client_id') },
    ip,
    'invalid_grant',
  );
  return { ...client, workload };
}

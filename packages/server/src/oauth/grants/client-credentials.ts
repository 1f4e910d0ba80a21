import type { ServerContext } from '../../context.js';
import type { AuthenticatedClient } from '../client-auth.js';
import { OAuthError } from '../errors.js';
import type { Form } from '../form.js';
import { confirmation, issueAccessToken, type Sender, type TokenResponse } from '../issue.js';
import { grantAudience, grantScopes, requestedScopes } from '../policy.js';

/** client_credentials (RFC 6749 section 4.4): a token for the client itself; sub = client_id. */
export async function clientCredentialsGrant(
  ctx: ServerContext,
  client: AuthenticatedClient,
  form: Form,
  ip: string,
  authorizedAt: number,
  sender: Sender,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes('client_credentials'))
    throw new OAuthError('unauthorized_client', 'this client may not use client_credentials');
  return serviceToken(ctx, client, form, ip, authorizedAt, 'client_credentials', sender);
}

/**
 * A token for the client itself (client_credentials, and the JWT bearer grant of a workload): the scopes and
 * audience it asks for within its own, sub = client_id, the workload identity it authenticated with as the
 * `workload` claim, bound to the key of the request's DPoP proof or to its client certificate (`sender`) when there is one; counted, and audited per
 * client (and workload) and minute.
 */
export async function serviceToken(
  ctx: ServerContext,
  client: AuthenticatedClient,
  form: Form,
  ip: string,
  authorizedAt: number,
  grant: 'client_credentials' | 'jwt-bearer',
  sender: Sender,
): Promise<TokenResponse> {
  const cnf = confirmation(sender);
  const scopes = grantScopes(requestedScopes(form), client.scopes);
  const audience = grantAudience(form, client);
  const workload = client.workload && { issuer: client.workload.issuer, sub: client.workload.sub };
  const { token, jti, expiresIn, tokenType } = await issueAccessToken(ctx, {
    sub: client.id,
    client,
    scopes,
    audience,
    authorizedAt,
    cnf,
    // Who the service is, as its platform said: for the services that receive the token and the audit log.
    ...(client.workload ? { claims: { workload: { iss: client.workload.iss, sub: client.workload.sub } } } : {}),
  });
  // Routine service traffic: counted, and audited per client and minute unless clientCredentialsAudit says otherwise.
  await ctx.audit.clientCredentialsIssued({
    type: 'token.issued',
    outcome: 'success',
    subject: client.id,
    clientId: client.id,
    ip,
    ...(workload ? { workload } : {}),
    grant,
    data: { grant, jti, aud: audience, scope: scopes.join(' '), ...(workload ? { workload } : {}), ...cnf },
  });
  return { access_token: token, token_type: tokenType, expires_in: expiresIn, scope: scopes.join(' ') };
}

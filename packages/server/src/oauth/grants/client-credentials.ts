import type { ServerContext } from '../../context.js';
import type { Client } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import type { Form } from '../form.js';
import { issueAccessToken, type TokenResponse } from '../issue.js';
import { grantAudience, grantScopes, requestedScopes } from '../policy.js';

/** client_credentials (RFC 6749 section 4.4): a token for the client itself; sub = client_id. */
export async function clientCredentialsGrant(
  ctx: ServerContext,
  client: Client,
  form: Form,
  ip: string,
  authorizedAt: number,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes('client_credentials'))
    throw new OAuthError('unauthorized_client', 'this client may not use client_credentials');
  const scopes = grantScopes(requestedScopes(form), client.scopes);
  const audience = grantAudience(form, client);
  const { token, jti, expiresIn } = await issueAccessToken(ctx, { sub: client.id, client, scopes, audience, authorizedAt });
  // Routine service traffic: counted, and audited per client and minute unless clientCredentialsAudit says otherwise.
  await ctx.audit.clientCredentialsIssued({
    type: 'token.issued',
    outcome: 'success',
    subject: client.id,
    clientId: client.id,
    ip,
    data: { grant: 'client_credentials', jti, aud: audience, scope: scopes.join(' ') },
  });
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scopes.join(' ') };
}

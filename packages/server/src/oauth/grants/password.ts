import type { ServerContext } from '../../context.js';
import { checkPassword } from '../../security/check-password.js';
import { normalizeUsername } from '../../security/username.js';
import type { Client } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import { confirmation, startRefreshFamily, userTokenResponse, type Sender, type TokenResponse } from '../issue.js';
import { userMayHold } from '../identity-scopes.js';
import { grantAudience, grantScopes, requestedScopes } from '../policy.js';

const BAD_CREDENTIALS = 'invalid username or password';

/**
 * password (RFC 6749 section 4.3), for first-party clients only. An unknown user, a wrong password and a
 * disabled user get the same answer after the same argon2id work. The password is checked by checkPassword
 * (security/check-password.ts), whose throttle the hosted login shares: a username, address or pair of the two
 * whose budget is spent is refused at once, with 429 and Retry-After, and no password is verified.
 */
export async function passwordGrant(
  ctx: ServerContext,
  client: Client,
  form: Form,
  ip: string,
  authorizedAt: number,
  sender: Sender,
): Promise<TokenResponse> {
  if (!client.firstParty || !client.grantTypes.includes('password'))
    throw new OAuthError('unauthorized_client', 'this client may not use the password grant');
  const rawUsername = param(form, 'username', true);
  const password = param(form, 'password', true);
  const requested = requestedScopes(form);
  const audience = grantAudience(form, client);
  const username = normalizeUsername(rawUsername);
  const checked = await checkPassword(ctx, client.id, username, password, ip);
  if (!checked.ok) {
    if (checked.reason === 'throttled')
      throw new OAuthError(
        'temporarily_unavailable',
        'too many failed logins: retry later',
        429,
        Math.ceil(checked.retryAfterMs / 1000),
      );
    throw new OAuthError('invalid_grant', BAD_CREDENTIALS);
  }
  const user = checked.user;
  const permissions = await ctx.store.roles.permissionsOf(user.roles);
  // The user's permissions, and the sign-in scopes (profile, email: what the user's claims may be given for), as
  // the refresh grant allows them.
  const scopes = grantScopes(
    requested,
    client.scopes.filter((s) => userMayHold(s, permissions)),
  );
  const cnf = confirmation(sender);
  let refreshToken: string | undefined;
  let sid: string | undefined;
  if (client.grantTypes.includes('refresh_token')) {
    const started = await startRefreshFamily(ctx, user.id, client, scopes, audience, cnf);
    refreshToken = started.token;
    sid = started.family.id;
  }
  return userTokenResponse(ctx, 'password', {
    userId: user.id,
    client,
    scopes,
    audience,
    sid,
    refreshToken,
    ip,
    authorizedAt,
    cnf,
  });
}

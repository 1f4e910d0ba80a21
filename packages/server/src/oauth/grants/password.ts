import type { ServerContext } from '../../context.js';
import { verifyPassword } from '../../security/password.js';
import { normalizeUsername } from '../../security/username.js';
import type { Client } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import { issueAccessToken, startRefreshFamily, type TokenResponse } from '../issue.js';
import { grantAudience, grantScopes, requestedScopes } from '../policy.js';

const BAD_CREDENTIALS = 'invalid username or password';

/**
 * password (RFC 6749 section 4.3), for first-party clients only. An unknown user, a wrong password, a
 * disabled user and a locked-out username or address all get the same answer after the same argon2id work.
 */
export async function passwordGrant(ctx: ServerContext, client: Client, form: Form, ip: string): Promise<TokenResponse> {
  if (!client.firstParty || !client.grantTypes.includes('password'))
    throw new OAuthError('unauthorized_client', 'this client may not use the password grant');
  const rawUsername = param(form, 'username', true);
  const password = param(form, 'password', true);
  const requested = requestedScopes(form);
  const audience = grantAudience(form, client);
  const username = normalizeUsername(rawUsername);
  const now = ctx.now();
  const locked =
    (username !== undefined && (await ctx.userThrottle.isLocked(username, now))) || (await ctx.addressThrottle.isLocked(ip, now));
  const user = username !== undefined && !locked ? await ctx.store.getUserByUsername(username) : undefined;
  const ok = await verifyPassword(user?.passwordHash, password);
  if (!user || !ok || user.disabled || locked) {
    const reason = locked ? 'locked' : !user ? 'unknown_user' : !ok ? 'wrong_password' : 'disabled';
    ctx.metrics.loginFailures.inc({ reason });
    if (!locked) {
      if (username !== undefined && (await ctx.userThrottle.fail(username, now))) {
        await ctx.audit.record({
          type: 'login.lockout',
          outcome: 'info',
          subject: username,
          clientId: client.id,
          ip,
          data: { scope: 'username' },
        });
      }
      if (await ctx.addressThrottle.fail(ip, now))
        await ctx.audit.record({ type: 'login.lockout', outcome: 'info', clientId: client.id, ip, data: { scope: 'address' } });
    }
    await ctx.audit.loginFailed(ip, { id: user?.id, username }, client.id, reason);
    throw new OAuthError('invalid_grant', BAD_CREDENTIALS);
  }
  await ctx.userThrottle.succeed(username!);
  const permissions = await ctx.store.permissionsOf(user.roles);
  const scopes = grantScopes(
    requested,
    client.scopes.filter((s) => permissions.includes(s)),
  );
  let refreshToken: string | undefined;
  let sid: string | undefined;
  if (client.grantTypes.includes('refresh_token')) {
    const started = await startRefreshFamily(ctx, user.id, client, scopes, audience);
    refreshToken = started.token;
    sid = started.family.id;
  }
  const { token, jti, expiresIn } = issueAccessToken(ctx, { sub: user.id, client, scopes, audience, sid });
  await ctx.audit.record({
    type: 'login.success',
    outcome: 'success',
    subject: user.id,
    clientId: client.id,
    ip,
    data: { username: user.username },
  });
  await ctx.audit.record({
    type: 'token.issued',
    outcome: 'success',
    subject: user.id,
    clientId: client.id,
    ip,
    data: { grant: 'password', jti, aud: audience, scope: scopes.join(' '), sid },
  });
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: expiresIn,
    scope: scopes.join(' '),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

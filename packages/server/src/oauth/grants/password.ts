import type { ServerContext } from '../../context.js';
import { verifyPassword } from '../../security/password.js';
import { normalizeUsername } from '../../security/username.js';
import { type Outcome } from '../../security/throttle.js';
import type { Client, User } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import { startRefreshFamily, userTokenResponse, type TokenResponse } from '../issue.js';
import { grantAudience, grantScopes, requestedScopes } from '../policy.js';

const BAD_CREDENTIALS = 'invalid username or password';

/**
 * password (RFC 6749 section 4.3), for first-party clients only. An unknown user, a wrong password and a
 * disabled user get the same answer after the same argon2id work. Each attempt first reserves its place in
 * the login throttle (security/throttle.ts), atomically: a username, address or pair of the two whose budget
 * is spent is refused at once, with 429 and Retry-After, and no password is verified.
 */
export async function passwordGrant(ctx: ServerContext, client: Client, form: Form, ip: string): Promise<TokenResponse> {
  if (!client.firstParty || !client.grantTypes.includes('password'))
    throw new OAuthError('unauthorized_client', 'this client may not use the password grant');
  const rawUsername = param(form, 'username', true);
  const password = param(form, 'password', true);
  const requested = requestedScopes(form);
  const audience = grantAudience(form, client);
  const username = normalizeUsername(rawUsername);
  const user = await checkPassword(ctx, client, username, password, ip);
  const permissions = await ctx.store.roles.permissionsOf(user.roles);
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
  await ctx.audit.record({
    type: 'login.success',
    outcome: 'success',
    subject: user.id,
    clientId: client.id,
    ip,
    data: { username: user.username },
  });
  return userTokenResponse(ctx, 'password', { userId: user.id, client, scopes, audience, sid, refreshToken, ip });
}

/** The throttle's reservation, the password check, and the reservation settled: the user, or a refusal. */
async function checkPassword(
  ctx: ServerContext,
  client: Client,
  username: string | undefined,
  password: string,
  ip: string,
): Promise<User> {
  const now = ctx.now();
  const reservation = await ctx.limits.reserve({ username, address: ip }, now);
  if (!reservation.ok) {
    ctx.metrics.loginFailures.inc({ reason: 'throttled' });
    throw new OAuthError(
      'temporarily_unavailable',
      'too many failed logins: retry later',
      429,
      Math.ceil(reservation.retryAfterMs / 1000),
    );
  }
  let outcome: Outcome = 'abandon';
  try {
    const user = username !== undefined ? await ctx.store.users.getByUsername(username) : undefined;
    const ok = await verifyPassword(user?.passwordHash, password);
    ctx.metrics.passwordVerifications.inc();
    if (user && ok && !user.disabled) {
      outcome = 'success';
      return user;
    }
    outcome = 'failure';
    // One metric label for an unknown user and a wrong password: the metrics must not tell them apart.
    ctx.metrics.loginFailures.inc({ reason: user && ok ? 'disabled' : 'invalid_credentials' });
    await ctx.audit.loginFailed(
      ip,
      { id: user?.id, username },
      client.id,
      !user ? 'unknown_user' : !ok ? 'wrong_password' : 'disabled',
    );
    throw new OAuthError('invalid_grant', BAD_CREDENTIALS);
  } finally {
    const started = await ctx.limits.settle(reservation.ticket, outcome, ctx.now());
    for (const scope of started)
      await ctx.audit.record({
        type: 'login.lockout',
        outcome: 'info',
        subject: scope === 'address' ? undefined : username,
        clientId: client.id,
        ip,
        data: { scope },
      });
  }
}

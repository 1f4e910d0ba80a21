import type { ServerContext } from '../context.js';
import type { User } from '../store/types.js';
import { verifyPassword } from './password.js';
import type { Outcome } from './throttle.js';

/**
 * What a password check ends in: the user; a refusal by the login throttle before any password was verified
 * (`retryAfterMs`); or bad credentials, one answer for an unknown user, a wrong password and a disabled user.
 */
export type PasswordCheck =
  { ok: true; user: User } | { ok: false; reason: 'throttled'; retryAfterMs: number } | { ok: false; reason: 'bad_credentials' };

/**
 * The one password check of every login, the password grant and the hosted login page alike, so that both
 * spend the same throttle budgets: the attempt first reserves its place in the login throttle
 * (security/throttle.ts), atomically, and a username, address or pair of the two whose budget is spent is
 * refused at once with no password verified. Otherwise argon2id runs, on a dummy hash for an unknown user
 * (the same work), the reservation is settled as a success or a failure, and failures are audited and counted
 * with one metric label for an unknown user and a wrong password; a success is audited as `login.success`.
 */
export async function checkPassword(
  ctx: ServerContext,
  clientId: string,
  username: string | undefined,
  password: string,
  ip: string,
): Promise<PasswordCheck> {
  const reservation = await ctx.limits.reserve({ username, address: ip }, ctx.now());
  if (!reservation.ok) {
    ctx.metrics.loginFailures.inc({ reason: 'throttled' });
    return { ok: false, reason: 'throttled', retryAfterMs: reservation.retryAfterMs };
  }
  let outcome: Outcome = 'abandon';
  try {
    const user = username !== undefined ? await ctx.store.users.getByUsername(username) : undefined;
    const ok = await verifyPassword(user?.passwordHash, password);
    ctx.metrics.passwordVerifications.inc();
    if (user && ok && !user.disabled) {
      outcome = 'success';
      await ctx.audit.record({
        type: 'login.success',
        outcome: 'success',
        subject: user.id,
        clientId,
        ip,
        data: { username: user.username },
      });
      return { ok: true, user };
    }
    outcome = 'failure';
    // One metric label for an unknown user and a wrong password: the metrics must not tell them apart.
    ctx.metrics.loginFailures.inc({ reason: user && ok ? 'disabled' : 'invalid_credentials' });
    await ctx.audit.loginFailed(
      ip,
      { id: user?.id, username },
      clientId,
      !user ? 'unknown_user' : !ok ? 'wrong_password' : 'disabled',
    );
    return { ok: false, reason: 'bad_credentials' };
  } finally {
    const started = await ctx.limits.settle(reservation.ticket, outcome, ctx.now());
    for (const scope of started)
      await ctx.audit.record({
        type: 'login.lockout',
        outcome: 'info',
        subject: scope === 'address' ? undefined : username,
        clientId,
        ip,
        data: { scope },
      });
  }
}

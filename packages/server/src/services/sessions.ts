import type { ServerContext } from '../context.js';
import { revokeSession as revokeFamily } from '../revocation/revoke-session.js';
import type { RefreshFamily } from '../store/types.js';
import type { Actor } from './actor.js';
import { epochSeconds } from './epoch.js';
import { NotFoundError } from './errors.js';
import { findUser } from './users.js';

/** A session (refresh-token family) as the admin API shows it. */
export function sessionView(f: RefreshFamily) {
  return {
    id: f.id,
    user_id: f.userId,
    client_id: f.clientId,
    scope: f.scope,
    audience: [...f.audience],
    created_at: epochSeconds(f.createdAt),
    expires_at: epochSeconds(f.absoluteExpiresAt),
    last_used_at: epochSeconds(f.lastUsedAt),
    revoked_at: epochSeconds(f.revokedAt),
    revoked_reason: f.revokedReason,
  };
}

export async function listSessions(ctx: ServerContext, userId: string): Promise<RefreshFamily[]> {
  await findUser(ctx, { id: userId });
  return ctx.store.refreshFamilies.list({ userId });
}

/** Ends one session: its refresh tokens and the access tokens issued from it. */
export async function revokeSession(ctx: ServerContext, by: Actor, id: string): Promise<void> {
  const now = ctx.now();
  const family = await ctx.store.refreshFamilies.get(id);
  if (!family) throw new NotFoundError('session', id);
  const ttl = (await ctx.store.clients.get(family.clientId))?.accessTokenTtl ?? ctx.config.accessTokenTtl;
  // The family and its revocation record in one transaction; a retry completes a revoke left half done.
  if (!(await revokeFamily(ctx, family.id, { family: 'admin', record: 'admin' }, ttl, now))) return;
  await ctx.audit.record({
    type: 'admin.session.revoked',
    outcome: 'success',
    ...by,
    subject: family.userId,
    clientId: family.clientId,
    data: { family: family.id },
  });
}

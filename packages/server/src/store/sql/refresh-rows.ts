import type { Kysely } from 'kysely';

import type { RefreshFamily, RefreshToken } from '../refresh-families.js';
import type { Database } from '../schema.js';
import { RowReader } from './row.js';

/** Inserts a family and, when given, its first token; the caller's transaction makes the two one step. */
export async function insertFamily(tx: Kysely<Database>, f: RefreshFamily, first: RefreshToken | undefined): Promise<void> {
  await tx
    .insertInto('refresh_families')
    .values({
      id: f.id,
      user_id: f.userId,
      client_id: f.clientId,
      scope: f.scope,
      audience: JSON.stringify(f.audience),
      created_at: f.createdAt,
      absolute_expires_at: f.absoluteExpiresAt,
      last_used_at: f.lastUsedAt,
      revoked_at: f.revokedAt,
      revoked_reason: f.revokedReason,
      revocation_seq: null,
      browser_session_id: f.browserSessionId,
    })
    .execute();
  if (!first) return;
  await tx
    .insertInto('refresh_tokens')
    .values({ digest: first.digest, family_id: f.id, created_at: first.createdAt, expires_at: first.expiresAt, used_at: null })
    .execute();
}

export function toFamily(row: object): RefreshFamily {
  const r = new RowReader('refresh_families', row);
  return {
    id: r.text('id'),
    userId: r.text('user_id'),
    clientId: r.text('client_id'),
    scope: r.text('scope'),
    audience: r.strings('audience'),
    createdAt: r.int('created_at'),
    absoluteExpiresAt: r.int('absolute_expires_at'),
    lastUsedAt: r.int('last_used_at'),
    revokedAt: r.intOrNull('revoked_at'),
    revokedReason: r.textOrNull('revoked_reason'),
    browserSessionId: r.textOrNull('browser_session_id'),
  };
}

export function toToken(row: object): RefreshToken {
  const r = new RowReader('refresh_tokens', row);
  return {
    digest: r.text('digest'),
    familyId: r.text('family_id'),
    createdAt: r.int('created_at'),
    expiresAt: r.int('expires_at'),
    usedAt: r.intOrNull('used_at'),
  };
}

/** The state of the token presented to a rotation, read with its family's row (see refresh-families.ts). */
export function toPresentedToken(row: object): { expiresAt: number; usedAt: number | null } {
  const r = new RowReader('refresh_tokens', row);
  return { expiresAt: r.int('token_expires_at'), usedAt: r.intOrNull('token_used_at') };
}

import type { Kysely } from 'kysely';

import type { RefreshFamily, RefreshToken } from '../refresh-families.js';
import type { Database } from '../schema.js';
import { Prepared } from './prepared.js';
import { RowReader } from './row.js';

const INSERT_FAMILY = new Prepared<
  Exclude<keyof RefreshFamily, 'dpopJkt' | 'certificateThumbprint'> | 'audienceJson' | 'jkt' | 'x5t'
>((db, v) =>
  db.insertInto('refresh_families').values({
    id: v('id'),
    user_id: v('userId'),
    client_id: v('clientId'),
    scope: v('scope'),
    audience: v('audienceJson'),
    created_at: v('createdAt'),
    absolute_expires_at: v('absoluteExpiresAt'),
    last_used_at: v('lastUsedAt'),
    revoked_at: v('revokedAt'),
    revoked_reason: v('revokedReason'),
    revocation_seq: null,
    browser_session_id: v('browserSessionId'),
    dpop_jkt: v('jkt'),
    x5t_s256: v('x5t'),
  }),
);
export const INSERT_TOKEN = new Prepared<keyof RefreshToken>((db, v) =>
  db.insertInto('refresh_tokens').values({
    digest: v('digest'),
    family_id: v('familyId'),
    created_at: v('createdAt'),
    expires_at: v('expiresAt'),
    used_at: v('usedAt'),
  }),
);

/** Inserts a family and, when given, its first token; the caller's transaction makes the two one step. */
export async function insertFamily(tx: Kysely<Database>, f: RefreshFamily, first: RefreshToken | undefined): Promise<void> {
  await INSERT_FAMILY.run(tx, {
    ...f,
    audienceJson: JSON.stringify(f.audience),
    jkt: f.dpopJkt ?? null,
    x5t: f.certificateThumbprint ?? null,
  });
  if (first) await INSERT_TOKEN.run(tx, { ...first, familyId: f.id, usedAt: null });
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
    // Absent unless bound, so that a family stored without a key reads back as it was written.
    ...dpopJkt(r),
    ...certificateThumbprint(r),
  };
}

function certificateThumbprint(r: RowReader): { certificateThumbprint?: string } {
  const x5t = r.textOrNull('x5t_s256');
  return x5t === null ? {} : { certificateThumbprint: x5t };
}

function dpopJkt(r: RowReader): { dpopJkt?: string } {
  const jkt = r.textOrNull('dpop_jkt');
  return jkt === null ? {} : { dpopJkt: jkt };
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

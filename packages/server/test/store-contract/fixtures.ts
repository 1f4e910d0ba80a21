import assert from 'node:assert/strict';

import {
  StoreConflictError,
  type Client,
  type NewAuditEvent,
  type RefreshFamily,
  type RefreshToken,
  type Revocation,
  type SigningKeyRecord,
  type Store,
  type User,
} from '@tessera/server/internal';

/** Records and seeds shared by the store contract's files. */
export const T0 = 1_700_000_000_000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const sorted = (xs: string[]) => [...xs].sort();

export function isConflict(err: unknown): boolean {
  assert.ok(err instanceof StoreConflictError, `expected StoreConflictError, got ${String(err)}`);
  return true;
}

export function aUser(u: Partial<User> & Pick<User, 'id' | 'username'>): User {
  return { passwordHash: `$argon2id$v=19$${u.id}`, disabled: false, roles: [], createdAt: T0, updatedAt: T0, ...u };
}

export function aClient(c: Partial<Client> & Pick<Client, 'id'>): Client {
  return {
    name: `Client ${c.id}`,
    authMethod: 'client_secret_basic',
    secrets: [{ digest: `digest-${c.id}`, createdAt: T0, expiresAt: null }],
    jwks: null,
    grantTypes: ['client_credentials'],
    scopes: ['inventory:read'],
    audiences: ['inventory'],
    firstParty: false,
    redirectUris: [],
    postLogoutRedirectUris: [],
    requirePar: false,
    accessTokenTtl: null,
    refreshTokenTtl: null,
    disabled: false,
    createdAt: T0,
    updatedAt: T0,
    ...c,
  };
}

export function aFamily(f: Partial<RefreshFamily> & Pick<RefreshFamily, 'id'>): RefreshFamily {
  return {
    userId: 'alice',
    clientId: 'web',
    scope: 'docs:read docs:write',
    audience: ['docs', 'files'],
    createdAt: T0,
    absoluteExpiresAt: T0 + 30 * DAY,
    lastUsedAt: T0,
    revokedAt: null,
    revokedReason: null,
    browserSessionId: null,
    ...f,
  };
}

export function aToken(digest: string, familyId: string, t: Partial<RefreshToken> = {}): RefreshToken {
  return { digest, familyId, createdAt: T0, expiresAt: T0 + DAY, usedAt: null, ...t };
}

/** The record of a family's revocation, as the callers pass it. */
export const RECORD = { expiresAt: T0 + DAY, reason: 'test' };
/** The record of a reuse, as the refresh grant passes it. */
export const REUSE = { expiresAt: T0 + DAY, reason: 'refresh_token_reuse' };

/** The successor passed to refreshFamilies.rotate. */
export function next(digest: string, now: number): Omit<RefreshToken, 'familyId'> {
  return { digest, createdAt: now, expiresAt: now + DAY, usedAt: null };
}

/** Five families: alice on web (live, and an old one), alice on cli, bob on web (long, and one ending at T0 + HOUR). */
export async function seedFamilies(store: Store): Promise<void> {
  const seed: [string, Partial<RefreshFamily>][] = [
    ['f-alice-web', { userId: 'alice', clientId: 'web', createdAt: T0 + 3 }],
    ['f-alice-web-old', { userId: 'alice', clientId: 'web', createdAt: T0 + 1 }],
    ['f-alice-cli', { userId: 'alice', clientId: 'cli', createdAt: T0 }],
    ['f-bob-web', { userId: 'bob', clientId: 'web', createdAt: T0 + 2 }],
    ['f-bob-web-short', { userId: 'bob', clientId: 'web', createdAt: T0 + 4, absoluteExpiresAt: T0 + HOUR }],
  ];
  for (const [id, f] of seed) await store.refreshFamilies.create(aFamily({ id, ...f }), aToken(`d-${id.slice(2)}`, id));
}

export function aRevocation(value: string, expiresAt: number): Omit<Revocation, 'seq'> {
  return { kind: 'jti', value, cutoff: null, expiresAt, createdAt: T0, reason: 'test' };
}

export function aKey(k: Partial<SigningKeyRecord> & Pick<SigningKeyRecord, 'kid'>): SigningKeyRecord {
  return {
    alg: 'ES256',
    state: 'active',
    encryptedPrivateKey: `v1.iv.${k.kid}.tag`,
    publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${k.kid}`, y: `y-${k.kid}`, kid: k.kid, alg: 'ES256', use: 'sig' },
    createdAt: T0 - 3 * DAY,
    activatesAt: T0,
    retiredAt: null,
    removeAfter: null,
    ...k,
  };
}

export function anEvent(e: Partial<NewAuditEvent> & Pick<NewAuditEvent, 'type'>): NewAuditEvent {
  return { time: T0, outcome: 'success', actor: null, subject: null, clientId: null, ip: null, data: { n: 1 }, ...e };
}

/** Seven events, one second apart from T0; returns their ids in order. */
export async function seedAudit(store: Store): Promise<number[]> {
  const seed: Partial<NewAuditEvent>[] = [
    { type: 'login.success', subject: 'alice' },
    { type: 'login.failure', subject: 'bob', outcome: 'failure' },
    { type: 'admin.user.created', subject: 'alice', actor: 'root' },
    { type: 'admin.keys.rotated', actor: 'root' },
    { type: 'login.success', subject: 'alice' },
    { type: 'admin.user.roles_set', subject: 'bob', actor: 'root' },
    { type: 'administrator.note' },
  ];
  const ids: number[] = [];
  for (const [i, e] of seed.entries()) ids.push(await store.audit.append(anEvent({ type: 'x', ...e, time: T0 + i * 1000 })));
  return ids;
}

import { JwksInvalidError, KeyInvalidError, parseJwks } from '@tessera/core';

import { ASSERTION_ALGORITHMS } from '../oauth/client-auth.js';
import { newClientSecret } from '../security/random.js';
import type { MasterKey } from '../security/master-key.js';
import { StoreConflictError, type Client, type ClientAuthMethod, type GrantType, type Store } from '../store/types.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GRANT_TYPES: readonly GrantType[] = ['client_credentials', 'password', 'refresh_token', TOKEN_EXCHANGE];
export const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

export interface ClientInput {
  id?: string;
  name?: string;
  authMethod?: ClientAuthMethod;
  grantTypes: GrantType[];
  scopes: string[];
  audiences: string[];
  firstParty?: boolean;
  /** Token exchange without `act` (impersonation). */
  mayImpersonate?: boolean;
  jwks?: { keys: Record<string, unknown>[] } | null;
  accessTokenTtl?: number | null;
  refreshTokenTtl?: number | null;
}

export class ClientInputError extends Error {}

/** Refuses a private_key_jwt client without a usable JWKS, or a JWKS that cannot verify assertions. */
export function checkClientJwks(method: ClientAuthMethod, jwks: ClientInput['jwks']): void {
  if (method !== 'private_key_jwt') {
    if (jwks) throw new ClientInputError('jwks is only for private_key_jwt clients');
    return;
  }
  if (!jwks) throw new ClientInputError('a private_key_jwt client needs a jwks');
  try {
    const set = parseJwks(jwks, { algorithms: ASSERTION_ALGORITHMS });
    if (set.size === 0) throw new ClientInputError('the jwks holds no usable signing key');
    if (set.keys.some((k) => k.kind === 'secret')) throw new ClientInputError('the jwks must hold public keys only');
  } catch (err) {
    if (err instanceof JwksInvalidError || err instanceof KeyInvalidError)
      throw new ClientInputError(`jwks refused: ${err.message}`);
    throw err;
  }
}

/** Registers a client; returns it and, for secret-based methods, its secret (shown once, stored as a digest). */
export async function registerClient(
  store: Store,
  master: MasterKey,
  input: ClientInput,
  now: number,
): Promise<{ client: Client; secret?: string }> {
  const method = input.authMethod ?? 'client_secret_basic';
  checkClientJwks(method, input.jwks);
  if (input.grantTypes.includes('password') && !input.firstParty)
    throw new ClientInputError('only first-party clients may use the password grant');
  const id = input.id ?? `client-${Math.random().toString(36).slice(2, 10)}`;
  const secret = method === 'private_key_jwt' ? undefined : newClientSecret();
  const client: Client = {
    id,
    name: input.name ?? id,
    authMethod: method,
    secrets: secret ? [{ digest: master.secretDigest(secret), createdAt: now, expiresAt: null }] : [],
    jwks: input.jwks ?? null,
    grantTypes: [...new Set(input.grantTypes)],
    scopes: [...new Set(input.scopes)],
    audiences: [...new Set(input.audiences)],
    firstParty: input.firstParty ?? false,
    mayImpersonate: input.mayImpersonate ?? false,
    accessTokenTtl: input.accessTokenTtl ?? null,
    refreshTokenTtl: input.refreshTokenTtl ?? null,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await store.createClient(client);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ClientInputError('a client with this id exists');
    throw err;
  }
  return { client, secret };
}

/**
 * A new secret for the client. The previous secrets stay valid for `overlapSeconds` so that deployments can
 * switch without downtime; older ones are dropped.
 */
export async function rotateClientSecret(
  store: Store,
  master: MasterKey,
  client: Client,
  overlapSeconds: number,
  now: number,
): Promise<string> {
  if (client.authMethod === 'private_key_jwt') throw new ClientInputError('a private_key_jwt client has no secret');
  const secret = newClientSecret();
  const previous = client.secrets
    .filter((s) => s.expiresAt === null || s.expiresAt > now)
    .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? Infinity, now + overlapSeconds * 1000) }));
  await store.updateClient(
    client.id,
    { secrets: [{ digest: master.secretDigest(secret), createdAt: now, expiresAt: null }, ...previous] },
    now,
  );
  return secret;
}

/** A client as the admin API shows it: never a secret or its digest. */
export function publicClient(c: Client) {
  const { secrets, ...rest } = c;
  return { ...rest, secrets: secrets.map((s) => ({ createdAt: s.createdAt, expiresAt: s.expiresAt })) };
}

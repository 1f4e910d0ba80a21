import { importEncryptionJwk, KeyInvalidError, type EncryptionKey } from '@tessera/core';

import { fail, isObject, only } from '../services/wire-object.js';

/**
 * Resource servers: the audiences tokens are issued for, registered when Tessera must know something about one.
 * Today that is encryption: a resource registered with public encryption keys and `encrypt_access_tokens` gets
 * its access tokens as nested JWTs (signed, then encrypted to its newest key), so that only it reads them, and
 * may ask for the user's profile claims in them (`access_token_claims`), which then never travel readable. This
 * file is the one home of the record's shape: the wire form (snake_case, as the admin API and the CLI's --json
 * write it) is parsed and checked by `parseResource` and written by `resourceView`.
 */

/** Key-management algorithms a resource's encryption key may name (RFC 7518 section 4), by key type. */
export const RESOURCE_KEY_ALGORITHMS = ['ECDH-ES+A256KW', 'ECDH-ES', 'RSA-OAEP-256'] as const;
export type ResourceKeyAlgorithm = (typeof RESOURCE_KEY_ALGORITHMS)[number];

/** The user claims a resource may receive in its (encrypted) access tokens, and the scope that must be granted for each. */
export const RESOURCE_CLAIM_SCOPES = {
  name: 'profile',
  given_name: 'profile',
  family_name: 'profile',
  preferred_username: 'profile',
  email: 'email',
  email_verified: 'email',
} as const;
export type ResourceClaim = keyof typeof RESOURCE_CLAIM_SCOPES;

export const MAX_RESOURCE_KEYS = 10;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const KID = /^[\x21-\x7e]{1,128}$/;
/** Members of a private or symmetric JWK: a resource's key is public, and never more. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A resource's public encryption key, and its JWK (public members, `kid`, `alg`, `use: enc`). */
export interface ResourceKey {
  kid: string;
  alg: ResourceKeyAlgorithm;
  key: EncryptionKey;
  jwk: Readonly<Record<string, unknown>>;
}

export interface Resource {
  /** Its name in Tessera: lowercase letters, digits and `-`. */
  name: string;
  /** The audience identifier (`aud`, RFC 8707 `resource`) it is known by, as clients name it. */
  resource: string;
  /** Its access tokens are encrypted to its newest key. */
  encryptAccessTokens: boolean;
  /** Oldest first; the last is the one tokens are encrypted to. */
  encryptionKeys: ResourceKey[];
  /** User claims its access tokens carry when the token's scopes grant them. */
  accessTokenClaims: ResourceClaim[];
  createdAt: number;
  updatedAt: number;
}

export type ResourceInput = Omit<Resource, 'createdAt' | 'updatedAt'>;

/** The wire form, as the admin API and `tessera resources --json` write it. */
export interface ResourceView {
  name: string;
  resource: string;
  encrypt_access_tokens: boolean;
  encryption_keys: Record<string, unknown>[];
  access_token_claims: string[];
  created_at?: number;
  updated_at?: number;
}

/**
 * One encryption key of the wire form, checked by core's importEncryptionJwk (the one home of those checks: a
 * supported algorithm and curve, an RSA key of 2048 bits or more without weak fingerprints, a point on its curve):
 * public only, with `alg`, never `dir` (a shared secret stored by the issuer).
 */
export function parseResourceKey(input: unknown, where = 'encryption key'): ResourceKey {
  if (!isObject(input)) fail(`${where} must be a JWK object`);
  const privateMember = PRIVATE_MEMBERS.find((m) => m in input);
  if (privateMember !== undefined) fail(`${where} holds private key material (${privateMember}): give the public key only`);
  const alg = input.alg;
  if (typeof alg !== 'string' || !(RESOURCE_KEY_ALGORITHMS as readonly string[]).includes(alg))
    fail(`${where}: alg must be one of ${RESOURCE_KEY_ALGORITHMS.join(', ')}`);
  if (input.kid !== undefined && (typeof input.kid !== 'string' || !KID.test(input.kid)))
    fail(`${where}: kid must be 1 to 128 printable characters`);
  let key: EncryptionKey;
  try {
    key = importEncryptionJwk(input);
  } catch (err) {
    if (err instanceof KeyInvalidError) fail(`${where} is not a usable public key: ${err.message}`);
    throw err;
  }
  return { kid: key.kid, alg: alg as ResourceKeyAlgorithm, key, jwk: Object.freeze(key.toJwk()) };
}

/** Checks the wire form of a resource (admin API body, CLI) and returns it as a record. */
export function parseResource(input: unknown): ResourceInput {
  if (!isObject(input)) fail('a resource must be an object');
  only(
    input,
    ['name', 'resource', 'encrypt_access_tokens', 'encryption_keys', 'access_token_claims', 'created_at', 'updated_at'],
    'resource',
  );
  const { name, resource } = input;
  if (typeof name !== 'string' || !NAME.test(name)) fail('name must be 1 to 63 lowercase letters, digits or -');
  if (typeof resource !== 'string' || resource === '' || resource.length > 512 || /[\s\p{Cc}]/u.test(resource))
    fail('resource is required: the audience identifier of the resource server (up to 512 characters, no spaces)');
  if (input.encrypt_access_tokens !== undefined && typeof input.encrypt_access_tokens !== 'boolean')
    fail('encrypt_access_tokens must be true or false');
  const encryptAccessTokens = input.encrypt_access_tokens === true;
  const keysInput = input.encryption_keys ?? [];
  if (!Array.isArray(keysInput)) fail('encryption_keys must be a list of public JWKs');
  if (keysInput.length > MAX_RESOURCE_KEYS) fail(`encryption_keys holds at most ${MAX_RESOURCE_KEYS} keys`);
  const encryptionKeys = keysInput.map((k, i) => parseResourceKey(k, `encryption_keys[${i}]`));
  const kids = new Set(encryptionKeys.map((k) => k.kid));
  if (kids.size !== encryptionKeys.length) fail('encryption_keys: two keys have the same kid');
  if (encryptAccessTokens && encryptionKeys.length === 0) fail('encrypt_access_tokens needs at least one key in encryption_keys');
  const claimsInput = input.access_token_claims ?? [];
  if (!Array.isArray(claimsInput)) fail('access_token_claims must be a list of claim names');
  const accessTokenClaims: ResourceClaim[] = [];
  for (const c of claimsInput) {
    if (typeof c !== 'string' || !Object.hasOwn(RESOURCE_CLAIM_SCOPES, c))
      fail(`access_token_claims: ${String(c)} is not one of ${Object.keys(RESOURCE_CLAIM_SCOPES).join(', ')}`);
    if (!accessTokenClaims.includes(c as ResourceClaim)) accessTokenClaims.push(c as ResourceClaim);
  }
  // A user's personal data travels only where the client, its proxies and its logs cannot read it.
  if (accessTokenClaims.length > 0 && !encryptAccessTokens)
    fail('access_token_claims needs encrypt_access_tokens: user claims travel in encrypted tokens only');
  return { name, resource, encryptAccessTokens, encryptionKeys, accessTokenClaims };
}

/** The wire form of a resource (what parseResource reads back). */
export function resourceView(r: ResourceInput & Partial<Pick<Resource, 'createdAt' | 'updatedAt'>>): ResourceView {
  return {
    name: r.name,
    resource: r.resource,
    encrypt_access_tokens: r.encryptAccessTokens,
    encryption_keys: r.encryptionKeys.map((k) => ({ ...k.jwk })),
    access_token_claims: [...r.accessTokenClaims],
    ...(r.createdAt !== undefined ? { created_at: r.createdAt } : {}),
    ...(r.updatedAt !== undefined ? { updated_at: r.updatedAt } : {}),
  };
}

/** The key a resource's tokens are encrypted to: its newest. */
export function currentResourceKey(r: Resource): ResourceKey | undefined {
  return r.encryptionKeys.at(-1);
}

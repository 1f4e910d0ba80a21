import { encryptJwt, isCompactJwe, JweInvalidError } from '@tessera/core';

import type { ServerContext } from '../context.js';
import { OAuthError } from '../oauth/errors.js';
import { userClaims } from '../oauth/identity-scopes.js';
import { currentResourceKey, RESOURCE_CLAIM_SCOPES, type Resource } from './resource.js';

/**
 * The registered resource among a token's audiences whose tokens are encrypted, if any. A token encrypted to one
 * resource is unreadable to every other audience, so such a resource must be the token's only audience: a request
 * for a token for it and others is refused (invalid_target).
 */
export async function encryptingResource(ctx: ServerContext, audience: readonly string[]): Promise<Resource | undefined> {
  for (const aud of audience) {
    const resource = await ctx.resources.get(aud);
    if (resource === undefined || !resource.encryptAccessTokens) continue;
    if (audience.length > 1)
      throw new OAuthError('invalid_target', `the tokens of ${aud} are encrypted to it: request them for that audience alone`);
    return resource;
  }
  return undefined;
}

/** The user claims a resource receives (its `access_token_claims`), those the token's scopes grant, that the user has. */
export async function resourceUserClaims(
  ctx: ServerContext,
  resource: Resource,
  userId: string,
  scopes: readonly string[],
): Promise<Record<string, unknown>> {
  const wanted = resource.accessTokenClaims.filter((c) => scopes.includes(RESOURCE_CLAIM_SCOPES[c]));
  if (wanted.length === 0) return {};
  const user = await ctx.store.users.getById(userId);
  if (user === undefined) return {};
  const all = userClaims(user, scopes);
  const claims: Record<string, unknown> = {};
  for (const c of wanted) if (all[c] !== undefined) claims[c] = all[c];
  return claims;
}

/**
 * Encrypts a signed access token to the resource's newest key (a nested JWT: `cty: JWT`, `typ: at+jwt`), and keeps
 * the signed token until `expiresAt` (ms), sealed with a key of the master key, under the encrypted one's keyed
 * digest: the issuer cannot decrypt what it encrypted, and introspection, revocation and token exchange read it from
 * there; a copy of the database alone reveals neither the claims nor a token.
 */
export async function encryptForResource(
  ctx: ServerContext,
  resource: Resource,
  signed: string,
  expiresAt: number,
): Promise<string> {
  const key = currentResourceKey(resource);
  // parseResource refuses an encrypting resource without a key: a row that says otherwise is refused when read.
  if (key === undefined) throw new Error(`resource ${resource.name} encrypts its tokens but has no key`);
  const token = encryptJwt(signed, key.key);
  const digest = ctx.master.tokenDigest(token);
  await ctx.store.encryptedTokens.record(digest, ctx.master.sealToken(signed, digest), expiresAt);
  return token;
}

/** Whether a token is in the compact JWE form (five segments): an encrypted access token, or nothing of ours. */
export function isEncryptedToken(token: string): boolean {
  return isCompactJwe(token);
}

/**
 * The claims of an encrypted token as introspection may tell them: without the user claims its resource receives
 * (`access_token_claims`), which only that resource reads, by decrypting the token itself; the client that holds
 * the token, which may introspect it, never does.
 */
export function withoutResourceClaims(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claims)) if (!Object.hasOwn(RESOURCE_CLAIM_SCOPES, k)) out[k] = v;
  return out;
}

/**
 * The signed token inside an encrypted access token this server issued and still keeps, for its own checks
 * (introspection, revocation, token exchange); the token itself when it is not encrypted. An encrypted token the
 * server does not know (never issued, or expired and pruned) is refused as invalid.
 */
export async function ownSignedToken(ctx: ServerContext, token: string): Promise<string> {
  if (!isEncryptedToken(token)) return token;
  const digest = ctx.master.tokenDigest(token);
  const sealed = await ctx.store.encryptedTokens.inner(digest, ctx.now());
  const inner = sealed === undefined ? undefined : ctx.master.openToken(sealed, digest);
  if (inner === undefined) throw new JweInvalidError('unknown', 'not an encrypted token this server issued, or it has expired');
  return inner;
}

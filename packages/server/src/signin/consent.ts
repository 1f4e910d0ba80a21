import type { ServerContext } from '../context.js';
import type { AuthorizationRequest } from '../oauth/authorize-request.js';

/**
 * Whether the user must be asked before the client gets a code: never for a first-party client; for a
 * third-party one when the request says `prompt=consent`, or asks for a scope the user has not allowed that
 * client before.
 */
export async function needsConsent(ctx: ServerContext, request: AuthorizationRequest, userId: string): Promise<boolean> {
  if (request.client.firstParty) return false;
  if (request.prompt?.includes('consent')) return true;
  const given = await ctx.store.consents.get(userId, request.client.id);
  return !given || !request.scopes.every((s) => given.scopes.includes(s));
}

/** Remembers that the user allowed the request's scopes to its client, beside what they allowed it before. */
export async function rememberConsent(ctx: ServerContext, request: AuthorizationRequest, userId: string): Promise<void> {
  const given = await ctx.store.consents.get(userId, request.client.id);
  const scopes = [...new Set([...(given?.scopes ?? []), ...request.scopes])];
  await ctx.store.consents.put({ userId, clientId: request.client.id, scopes, grantedAt: ctx.now() });
}

import { boundJkt, TokenError } from '@tessera/core';
import type { Principal } from '@tessera/verifier';
import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import type { Client } from '../store/types.js';
import { isEncryptedToken, withoutResourceClaims } from '../resources/encrypt.js';
import { authenticateClient } from './client-auth.js';
import { OAuthError } from './errors.js';
import { param, requireForm } from './form.js';
import { isInactive, verifyOwnAccessToken } from './own-tokens.js';
import { sendOAuthError } from './token-route.js';

/**
 * POST /oauth/introspect (RFC 7662), for authenticated clients only. Active access tokens report their
 * claims; refresh tokens report their family's client, subject, scope and expiry; everything else, including
 * expired and revoked tokens, is `{ "active": false }`. A token bound to a DPoP key (RFC 9449 section 6.2) reports
 * `token_type` `DPoP` and its `cnf` (an access token's claim; a public client's bound refresh family's key); one
 * bound to a client certificate (RFC 8705 section 3.2) reports `Bearer` and its `cnf` `x5t#S256` likewise.
 *
 * Who may see what (node-oidc-provider's policy): a client may introspect an access token issued to it, or
 * one whose audience is a resource it is registered for (a resource server checking the tokens presented to
 * it); a refresh token only when it is its own. For any other token the answer is `{ "active": false }`,
 * as for a token that does not exist (RFC 7662 section 4: no claims to a caller that has no business seeing them).
 */
export function introspectRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/oauth/introspect', async (req, reply) => {
    try {
      const form = requireForm(req.body);
      const client = await authenticateClient(
        ctx,
        req.headers.authorization,
        form,
        req.ip,
        false,
        ctx.clientCertificates.of(req),
      );
      const token = param(form, 'token', true);
      const now = ctx.now();
      reply.header('cache-control', 'no-store');
      const access = await accessToken(ctx, token);
      if (access === 'inactive') return { active: false };
      if (access !== undefined) {
        if (!mayIntrospect(client, access.claims)) return { active: false };
        const jkt = boundJkt(access.claims);
        // An encrypted token's user claims are its resource's alone to read (it decrypts the token itself).
        const claims = isEncryptedToken(token) ? withoutResourceClaims(access.claims) : access.claims;
        return { active: true, token_type: jkt === undefined ? 'Bearer' : 'DPoP', ...claims };
      }
      const found = await ctx.store.refreshFamilies.findToken(ctx.master.refreshDigest(token));
      if (found && found.family.clientId === client.id) {
        const { token: t, family: f } = found;
        const active = t.usedAt === null && f.revokedAt === null && t.expiresAt > now && f.absoluteExpiresAt > now;
        if (!active) return { active: false };
        return {
          active: true,
          token_type: 'refresh_token',
          client_id: f.clientId,
          sub: f.userId,
          scope: f.scope,
          aud: f.audience,
          iss: ctx.config.issuer,
          exp: Math.floor(t.expiresAt / 1000),
          iat: Math.floor(t.createdAt / 1000),
          sid: f.id,
          ...(f.dpopJkt !== undefined ? { cnf: { jkt: f.dpopJkt } } : {}),
          ...(f.certificateThumbprint !== undefined ? { cnf: { 'x5t#S256': f.certificateThumbprint } } : {}),
        };
      }
      return { active: false };
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(reply, err);
      throw err;
    }
  });
}

/**
 * The token as one of this server's access tokens: its Principal, `inactive` when it is one but expired,
 * not valid yet or revoked, undefined when it is none (it may be a refresh token).
 */
async function accessToken(ctx: ServerContext, token: string): Promise<Principal | 'inactive' | undefined> {
  try {
    const principal = await verifyOwnAccessToken(ctx, token);
    // The Verifier allows its clock tolerance past `exp`; the issuer's own answer is exact (RFC 7662: an
    // expired token is not active).
    return principal.expiresAt * 1000 <= ctx.now() ? 'inactive' : principal;
  } catch (err) {
    if (isInactive(err)) return 'inactive';
    if (err instanceof TokenError) return undefined;
    throw err;
  }
}

/** The token was issued to this client, or is meant for one of the resources it is registered for. */
function mayIntrospect(client: Client, claims: { client_id?: unknown; aud?: unknown }): boolean {
  if (claims.client_id === client.id) return true;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return audiences.some((a) => typeof a === 'string' && client.audiences.includes(a));
}

import { randomUUID } from 'node:crypto';

import { signAccessToken } from '@tessera/core';

import type { ServerContext } from '../context.js';
import { encryptForResource, encryptingResource, resourceUserClaims } from '../resources/encrypt.js';
import { OAuthError } from './errors.js';
import { newId, newRefreshToken } from '../security/random.js';
import type { Client, RefreshFamily, RefreshToken } from '../store/types.js';

export interface TokenResponse {
  access_token: string;
  /** `DPoP` for a token bound to the key of the request's DPoP proof (RFC 9449 section 5), else `Bearer`. */
  token_type: TokenType;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  issued_token_type?: string;
  /** OpenID Connect: the ID token of an `openid` authorization code. */
  id_token?: string;
}

export type TokenType = 'Bearer' | 'DPoP';

/**
 * What an access token is bound to (its `cnf` claim): the key of a DPoP proof (RFC 9449 section 6.1) or the client
 * certificate of a mutual-TLS connection (RFC 8705 section 3.1). One binding per token.
 */
export type Confirmation = { jkt: string } | { 'x5t#S256': string };

/** What a token request came with beyond client authentication: what the tokens it issues are bound to. */
export interface Sender {
  /** The thumbprint of the key of the request's DPoP proof (RFC 9449). */
  jkt?: string;
  /** The SHA-256 thumbprint of the client certificate of the request's mutual-TLS connection (RFC 8705). */
  certificate?: string;
  /**
   * Access tokens are bound to `certificate`: the client is registered with
   * `tls_client_certificate_bound_access_tokens`, or authenticated by its certificate.
   */
  bindCertificate: boolean;
}

/** A request with neither a DPoP proof nor a client certificate. */
export const UNBOUND: Sender = { bindCertificate: false };

/** The binding of the access token a request gets: a DPoP proof's key wins over the certificate; none without either. */
export function confirmation(sender: Sender): Confirmation | undefined {
  if (sender.jkt !== undefined) return { jkt: sender.jkt };
  if (sender.certificate !== undefined && sender.bindCertificate) return { 'x5t#S256': sender.certificate };
  return undefined;
}

/** The token type of an access token bound to a DPoP key (DPoP), else Bearer (a certificate-bound token is one too, RFC 8705 section 3). */
export function tokenType(cnf: Confirmation | undefined): TokenType {
  return cnf !== undefined && 'jkt' in cnf ? 'DPoP' : 'Bearer';
}

export interface AccessTokenRequest {
  sub: string;
  client: Client;
  scopes: readonly string[];
  audience: readonly string[];
  /** Refresh-token family (session) the token belongs to; carried as `sid`. */
  sid?: string;
  /**
   * When the request began to be answered, before the grant read what it authorizes (the client, the user, the
   * code or the refresh token): a cut-off of the subject or the client recorded after this moment refuses the
   * token, since the grant may have read the state before it.
   */
  authorizedAt: number;
  claims?: Record<string, unknown>;
  /** Lifetime in seconds, when shorter than the client's (token exchange: not beyond the subject token). */
  ttl?: number;
  /** What the token is bound to (`cnf`): the request's DPoP proof key or its client certificate. */
  cnf?: Confirmation;
  /** `sub` is a user: a resource that receives user claims (`access_token_claims`) gets theirs. */
  subjectIsUser?: boolean;
}

export function accessTokenTtl(ctx: ServerContext, client: Client): number {
  return client.accessTokenTtl ?? ctx.config.accessTokenTtl;
}

/**
 * The longest a token request waits for the second after a cut-off. A cut-off after the request began is refused
 * before any wait, so the wait is under a second unless this instance's clock was stepped back meanwhile.
 */
const MAX_CUTOFF_WAIT_MS = 1000;

/**
 * When a new token is issued and dated. `iat` has whole seconds, and a cut-off revokes every token with
 * `iat * 1000 < cutoff`: a token issued in the same second as a cut-off for its subject or client would look
 * issued before it and be born revoked. Such a token is issued at the cut-off's next whole second: the request
 * waits until then (less than a second, and only right after a cut-off of its own subject or client). It is
 * never dated ahead of its issue: a token dated ahead instead would survive a second cut-off later in the same
 * second, though issued before it.
 */
async function issueTime(ctx: ServerContext, sub: string, clientId: string, authorizedAt: number): Promise<number> {
  const now = ctx.now();
  const cutoff = ctx.revocations.latestCutoff(sub, clientId, now);
  if (cutoff === undefined) return now;
  if (cutoff > authorizedAt) throw new OAuthError('invalid_grant', 'the grant was revoked while this request was answered');
  const next = Math.ceil(cutoff / 1000) * 1000;
  if (next <= now) return now;
  await new Promise((resolve) => setTimeout(resolve, Math.min(next - now, MAX_CUTOFF_WAIT_MS)));
  return Math.max(ctx.now(), next);
}

/**
 * Signs an RFC 9068 access token with the active key; for a registered resource whose tokens are encrypted, with
 * the user claims it receives, then encrypted to its newest key (resources/encrypt.ts).
 */
export async function issueAccessToken(
  ctx: ServerContext,
  req: AccessTokenRequest,
): Promise<{ token: string; jti: string; expiresIn: number; tokenType: TokenType }> {
  const ttl = req.ttl ?? accessTokenTtl(ctx, req.client);
  const jti = randomUUID();
  const resource = await encryptingResource(ctx, req.audience);
  const resourceClaims =
    resource !== undefined && req.subjectIsUser === true ? await resourceUserClaims(ctx, resource, req.sub, req.scopes) : {};
  const issuedAt = await issueTime(ctx, req.sub, req.client.id, req.authorizedAt);
  const signed = signAccessToken(
    {
      iss: ctx.config.issuer,
      sub: req.sub,
      aud: req.audience.length === 1 ? req.audience[0]! : req.audience,
      client_id: req.client.id,
      scope: req.scopes,
      ttl,
      jti,
      claims: {
        ...resourceClaims,
        ...(req.sid ? { sid: req.sid } : {}),
        ...req.claims,
        ...(req.cnf ? { cnf: req.cnf } : {}),
      },
    },
    ctx.keys.activeKey(),
    { now: () => issuedAt },
  );
  const token =
    resource === undefined ? signed : await encryptForResource(ctx, resource, signed, Math.floor(issuedAt / 1000 + ttl) * 1000);
  return { token, jti, expiresIn: ttl, tokenType: tokenType(req.cnf) };
}

/** Starts a refresh-token family (a login session) and returns its first token. */
export async function startRefreshFamily(
  ctx: ServerContext,
  userId: string,
  client: Client,
  scopes: readonly string[],
  audience: readonly string[],
  cnf?: Confirmation,
): Promise<{ token: string; family: RefreshFamily }> {
  const { token, family, first } = newRefreshFamily(ctx, userId, client, scopes, audience, undefined, cnf);
  await ctx.store.refreshFamilies.create(family, first);
  return { token, family };
}

/**
 * A new family (a login session) and its first refresh token, not stored yet. `boundTo`, a browser session, makes
 * the family end with it: revoked when the session ends, and never living past the session's absolute expiry.
 * `cnf`, the binding of the request's access token, binds the family's refresh tokens to the same DPoP key (RFC 9449
 * section 5) or client certificate (RFC 8705 section 4) when the client is public; a confidential client's refresh
 * tokens are bound to its credentials already.
 */
export function newRefreshFamily(
  ctx: ServerContext,
  userId: string,
  client: Client,
  scopes: readonly string[],
  audience: readonly string[],
  boundTo?: { browserSessionId: string; absoluteExpiresAt: number },
  cnf?: Confirmation,
): { token: string; family: RefreshFamily; first: RefreshToken } {
  const now = ctx.now();
  const token = newRefreshToken();
  const absoluteExpiresAt = now + ctx.config.refreshTokenAbsoluteTtl * 1000;
  const family: RefreshFamily = {
    id: newId(),
    userId,
    clientId: client.id,
    scope: scopes.join(' '),
    audience: [...audience],
    createdAt: now,
    absoluteExpiresAt: boundTo ? Math.min(absoluteExpiresAt, boundTo.absoluteExpiresAt) : absoluteExpiresAt,
    lastUsedAt: now,
    revokedAt: null,
    revokedReason: null,
    browserSessionId: boundTo?.browserSessionId ?? null,
    ...(cnf !== undefined && client.authMethod === 'none'
      ? 'jkt' in cnf
        ? { dpopJkt: cnf.jkt }
        : { certificateThumbprint: cnf['x5t#S256'] }
      : {}),
  };
  const first: RefreshToken = {
    digest: ctx.master.refreshDigest(token),
    familyId: family.id,
    createdAt: now,
    expiresAt: Math.min(now + refreshTtl(ctx, client) * 1000, family.absoluteExpiresAt),
    usedAt: null,
  };
  return { token, family, first };
}

/**
 * The token response of a grant that signs a user in (password, authorization_code): the access token of
 * the session `sid`, its `token.issued` audit event, the refresh token when one was started and the ID token
 * when one was signed.
 */
export async function userTokenResponse(
  ctx: ServerContext,
  grant: string,
  req: {
    userId: string;
    client: Client;
    scopes: string[];
    audience: string[];
    sid?: string;
    refreshToken?: string;
    idToken?: string;
    ip: string;
    authorizedAt: number;
    /** What the access token is bound to: the request's DPoP proof key or client certificate. */
    cnf?: Confirmation;
  },
): Promise<TokenResponse> {
  const { userId: sub, client, scopes, audience, sid, authorizedAt, cnf } = req;
  const issued = await issueAccessToken(ctx, { sub, client, scopes, audience, sid, authorizedAt, cnf, subjectIsUser: true });
  const { token, jti, expiresIn } = issued;
  await ctx.audit.record({
    type: 'token.issued',
    outcome: 'success',
    subject: sub,
    clientId: client.id,
    ip: req.ip,
    data: { grant, jti, aud: audience, scope: scopes.join(' '), sid, ...cnf },
  });
  return {
    access_token: token,
    token_type: issued.tokenType,
    expires_in: expiresIn,
    scope: scopes.join(' '),
    ...(req.refreshToken ? { refresh_token: req.refreshToken } : {}),
    ...(req.idToken ? { id_token: req.idToken } : {}),
  };
}

export function refreshTtl(ctx: ServerContext, client: Client): number {
  return client.refreshTokenTtl ?? ctx.config.refreshTokenTtl;
}

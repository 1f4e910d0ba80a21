import { timingSafeEqual } from 'node:crypto';

import { decodeUnverified, JwsVerifier, parseJwks, TesseraError, type Algorithm } from '@tessera/core';

import type { Client, ClientAuthMethod } from '../store/types.js';
import type { ServerContext } from '../context.js';
import { OAuthError } from './errors.js';
import { param, type Form } from './form.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS: readonly Algorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
];
/** Client assertions may live at most this long (exp - now), seconds. */
const MAX_ASSERTION_LIFETIME_S = 600;
const SKEW_S = 30;
const assertionVerifier = new JwsVerifier({ algorithms: ASSERTION_ALGORITHMS });

export interface ClientCredentials {
  method: ClientAuthMethod;
  clientId: string;
  secret?: string;
  assertion?: string;
}

/**
 * One form-urlencoded part of Basic credentials, decoded. Most ids and secrets hold neither `+` nor `%` and
 * are their own decoding: they skip the regular expression and decodeURIComponent (5,000 instructions of a
 * token request, bench/token-endpoint-instructions.mjs). Throws URIError for a malformed escape.
 */
function formDecode(part: string): string {
  const plus = part.includes('+');
  if (!plus && !part.includes('%')) return part;
  return decodeURIComponent(plus ? part.replace(/\+/g, ' ') : part);
}

/** Which authentication method the request uses; exactly one is allowed (RFC 6749 section 2.3). */
export function clientCredentials(authorization: string | undefined, form: Form): ClientCredentials {
  const found: ClientCredentials[] = [];
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new OAuthError('invalid_client', 'malformed Basic credentials');
    let id: string, secret: string;
    try {
      // RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
      id = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch {
      throw new OAuthError('invalid_client', 'malformed Basic credentials');
    }
    found.push({ method: 'client_secret_basic', clientId: id, secret });
  }
  const bodySecret = param(form, 'client_secret');
  if (bodySecret !== undefined)
    found.push({ method: 'client_secret_post', clientId: param(form, 'client_id') ?? '', secret: bodySecret });
  const assertion = param(form, 'client_assertion');
  const assertionType = param(form, 'client_assertion_type');
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION) throw new OAuthError('invalid_request', 'unsupported client_assertion_type');
    if (assertion === undefined) throw new OAuthError('invalid_request', 'missing parameter client_assertion');
    let clientId = param(form, 'client_id');
    if (clientId === undefined) {
      try {
        const sub = decodeUnverified(assertion).payload.sub;
        clientId = typeof sub === 'string' ? sub : undefined;
      } catch {
        throw new OAuthError('invalid_client', 'client assertion is not a valid JWT');
      }
    }
    if (clientId === undefined) throw new OAuthError('invalid_client', 'client assertion names no client');
    found.push({ method: 'private_key_jwt', clientId, assertion });
  }
  // A public client (token_endpoint_auth_method none) names itself and proves nothing (RFC 6749 section 2.1).
  if (found.length === 0 && param(form, 'client_id') !== undefined)
    found.push({ method: 'none', clientId: param(form, 'client_id')! });
  if (found.length === 0) throw new OAuthError('invalid_client', 'client authentication is required');
  if (found.length > 1) throw new OAuthError('invalid_request', 'use exactly one client authentication method');
  const c = found[0]!;
  const formId = param(form, 'client_id');
  if (c.method === 'client_secret_basic' && formId !== undefined && formId !== c.clientId) {
    throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
  }
  if (c.clientId === '') throw new OAuthError('invalid_client', 'client authentication is required');
  return c;
}

function secretMatches(ctx: ServerContext, client: Client | undefined, secret: string, now: number): boolean {
  const digest = Buffer.from(ctx.master.secretDigest(secret));
  let ok = false;
  for (const s of client?.secrets ?? []) {
    if (s.expiresAt !== null && s.expiresAt <= now) continue;
    const d = Buffer.from(s.digest);
    if (d.length === digest.length && timingSafeEqual(d, digest)) ok = true;
  }
  return ok;
}

/**
 * Authenticates the calling client. Every failure is `invalid_client` (401, WWW-Authenticate) with the same
 * description, whether the client is unknown, disabled, uses another method, or gave a wrong secret. A public
 * client, which only names itself, is let in where `publicClients` says so (the token and revocation
 * endpoints), never where the caller must prove who it is (introspection).
 */
export async function authenticateClient(
  ctx: ServerContext,
  authorization: string | undefined,
  form: Form,
  publicClients = false,
): Promise<Client> {
  const creds = clientCredentials(authorization, form);
  const now = ctx.now();
  const client = await ctx.store.clients.get(creds.clientId);
  const refuse = () => new OAuthError('invalid_client', 'client authentication failed');
  if (creds.method === 'none') {
    if (!publicClients || !client || client.disabled || client.authMethod !== 'none') throw refuse();
    return client;
  }
  if (creds.secret !== undefined) {
    const ok = secretMatches(ctx, client, creds.secret, now);
    if (!client || client.disabled || client.authMethod !== creds.method || !ok) throw refuse();
    return client;
  }
  if (!client || client.disabled || client.authMethod !== 'private_key_jwt' || !client.jwks) throw refuse();
  await checkAssertion(ctx, client, creds.assertion!, now);
  return client;
}

/** RFC 7523 section 3: signed by a key of the client's JWKS; iss = sub = client_id; aud the issuer or token endpoint; exp; jti once. */
async function checkAssertion(ctx: ServerContext, client: Client, assertion: string, now: number): Promise<void> {
  const refuse = () => new OAuthError('invalid_client', 'client authentication failed');
  let payload: Record<string, unknown>;
  try {
    const keys = parseJwks(client.jwks, { algorithms: ASSERTION_ALGORITHMS });
    const verified = assertionVerifier.verify(assertion, keys);
    payload = JSON.parse(verified.payload.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TesseraError || err instanceof SyntaxError) throw refuse();
    throw err;
  }
  const nowS = now / 1000;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const audiences = [ctx.config.issuer, `${ctx.config.issuer}/oauth/token`];
  if (payload.iss !== client.id || payload.sub !== client.id) throw refuse();
  if (!aud.some((a) => typeof a === 'string' && audiences.includes(a))) throw refuse();
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp) || payload.exp <= nowS - SKEW_S) throw refuse();
  if (payload.exp > nowS + MAX_ASSERTION_LIFETIME_S + SKEW_S) throw refuse();
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowS + SKEW_S)) throw refuse();
  if (payload.iat !== undefined && (typeof payload.iat !== 'number' || payload.iat > nowS + SKEW_S)) throw refuse();
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw refuse();
  if (!(await ctx.store.assertionJtis.use(client.id, payload.jti, payload.exp * 1000 + SKEW_S * 1000, now))) {
    await ctx.audit.record({ type: 'client.assertion_replay', outcome: 'failure', clientId: client.id });
    throw refuse();
  }
}

import { timingSafeEqual } from 'node:crypto';

import { decodeUnverified } from '@tessera/core';

import type { Client, ClientAuthMethod } from '../store/types.js';
import type { ServerContext } from '../context.js';
import { checkClientAssertion, JWT_BEARER_ASSERTION } from './client-assertion.js';
import { OAuthError } from './errors.js';
import { param, type Form } from './form.js';

// Their home is client-assertion.ts; the admin service imports them from here.
export { ASSERTION_ALGORITHMS, JWT_BEARER_ASSERTION } from './client-assertion.js';

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
  await checkClientAssertion(ctx, client, creds.assertion!, now);
  return client;
}

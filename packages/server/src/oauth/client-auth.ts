import { timingSafeEqual } from 'node:crypto';

import type { Client, ClientAuthMethod } from '../store/types.js';
import type { ServerContext } from '../context.js';
import { checkClientAssertion, JWT_BEARER_ASSERTION } from './client-assertion.js';
import {
  assertionNames,
  authenticateWorkload,
  JWT_SPIFFE_ASSERTION,
  type AssertionNames,
  type WorkloadIdentity,
} from '../workload/authenticate.js';
import { OAuthError } from './errors.js';
import { param, type Form } from './form.js';
import { certificateAuthenticates, isMtlsClient, type ClientCertificate } from './mtls.js';

// Their home is client-assertion.ts; the admin service imports them from here.
export { ASSERTION_ALGORITHMS, JWT_BEARER_ASSERTION } from './client-assertion.js';

export interface ClientCredentials {
  /** `jwt_assertion`: a JWT client assertion, a private_key_jwt one or a workload token (decided by the client). */
  method: Exclude<ClientAuthMethod, 'private_key_jwt' | 'workload_identity'> | 'jwt_assertion';
  /** Undefined only for an assertion that names no client itself: a workload token, mapped by its issuer's rules. */
  clientId: string | undefined;
  secret?: string;
  assertion?: string;
  /** The assertion came as `jwt-spiffe`: only a workload token can be one. */
  spiffe?: boolean;
  /** The assertion's iss and sub, when they were read to find its client. */
  named?: AssertionNames;
}

/** The authenticated client, and the workload identity it authenticated with, if it did by one. */
export type AuthenticatedClient = Client & {
  readonly workload?: WorkloadIdentity;
  /** The JWT bearer grant's assertion that authenticated the client (a request without client credentials). */
  readonly grantAssertion?: string;
};

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
    if (assertionType !== JWT_BEARER_ASSERTION && assertionType !== JWT_SPIFFE_ASSERTION)
      throw new OAuthError('invalid_request', 'unsupported client_assertion_type');
    if (assertion === undefined) throw new OAuthError('invalid_request', 'missing parameter client_assertion');
    let clientId = param(form, 'client_id');
    let named: AssertionNames | undefined;
    if (clientId === undefined && assertionType === JWT_BEARER_ASSERTION) {
      // RFC 7523 section 3: a private_key_jwt assertion's iss and sub are the client_id. An assertion whose iss is
      // not its sub is a workload token, whose client its issuer's rules name.
      named = assertionNames(assertion);
      if (named === undefined) throw new OAuthError('invalid_client', 'client assertion is not a valid JWT');
      if (typeof named.sub === 'string' && named.sub === named.iss) clientId = named.sub;
    }
    found.push({ method: 'jwt_assertion', clientId, assertion, named, spiffe: assertionType === JWT_SPIFFE_ASSERTION });
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
  if (c.clientId === '' || (c.clientId === undefined && c.method !== 'jwt_assertion'))
    throw new OAuthError('invalid_client', 'client authentication is required');
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
 * endpoints), never where the caller must prove who it is (introspection). A client of a mutual-TLS method (RFC 8705
 * section 2) names itself by client_id and proves who it is by `certificate`, its connection's client certificate.
 */
export async function authenticateClient(
  ctx: ServerContext,
  authorization: string | undefined,
  form: Form,
  ip: string,
  publicClients = false,
  certificate?: ClientCertificate,
): Promise<AuthenticatedClient> {
  const creds = clientCredentials(authorization, form);
  const now = ctx.now();
  if (creds.method === 'jwt_assertion') {
    const client = creds.clientId === undefined ? undefined : await ctx.store.clients.get(creds.clientId);
    if (creds.spiffe || creds.clientId === undefined || client?.authMethod === 'workload_identity') {
      const { client: authenticated, workload } = await authenticateWorkload(
        ctx,
        { assertion: creds.assertion!, named: creds.named, spiffe: creds.spiffe === true, clientId: creds.clientId },
        ip,
      );
      return { ...authenticated, workload };
    }
    if (!client || client.disabled || client.authMethod !== 'private_key_jwt' || !client.jwks)
      throw new OAuthError('invalid_client', 'client authentication failed');
    await checkClientAssertion(ctx, client, creds.assertion!, now);
    return client;
  }
  const client = await ctx.store.clients.get(creds.clientId!);
  const refuse = () => new OAuthError('invalid_client', 'client authentication failed');
  if (creds.method === 'none' && client !== undefined && isMtlsClient(client)) {
    if (client.disabled || certificate === undefined || !certificateAuthenticates(client, certificate)) throw refuse();
    return client;
  }
  if (creds.method === 'none') {
    if (!publicClients || !client || client.disabled || client.authMethod !== 'none') throw refuse();
    return client;
  }
  if (!client || client.disabled || client.authMethod !== creds.method || !secretMatches(ctx, client, creds.secret!, now))
    throw refuse();
  return client;
}

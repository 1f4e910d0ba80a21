import { DEFAULT_ASSERTION_CLOCK_TOLERANCE, DEFAULT_MAX_TOKEN_LENGTH, TesseraError, TokenClaimError } from '@tessera/core';
import { KeysUnavailableError } from '@tessera/verifier';

import type { ServerContext } from '../context.js';
import { OAuthError } from '../oauth/errors.js';
import type { Client, GrantType } from '../store/types.js';
import { matchRule, type WorkloadIssuer } from './issuer.js';

/** draft-ietf-oauth-spiffe-client-auth: a JWT-SVID as the client assertion. */
export const JWT_SPIFFE_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';

/** Who the workload is, as its platform said: recorded in the access token (`workload`) and the audit events. */
export interface WorkloadIdentity {
  /** The trusted issuer's name in Tessera. */
  issuer: string;
  /** The workload token's iss (a SPIFFE trust domain's `spiffe://` name when the JWT-SVID carries none). */
  iss: string;
  /** The workload token's sub: `system:serviceaccount:ns:sa`, a SPIFFE ID, `repo:org/name:ref:...`. */
  sub: string;
}

/** The trusted issuer whose tokens carry this iss (or, for a SPIFFE trust domain, whose `spiffe://` name this is). */
export async function findWorkloadIssuer(ctx: ServerContext, iss: string): Promise<WorkloadIssuer | undefined> {
  // The config file's first (exact iss), then the stored ones (read through the directory's cache).
  return ctx.config.workloadIssuers.find((i) => i.issuer === iss) ?? ctx.workloadIssuers.byIssuer(iss);
}

/** A SPIFFE ID's trust domain as its issuer name (`spiffe://example.org`), or undefined. */
function trustDomainOf(sub: unknown): string | undefined {
  if (typeof sub !== 'string') return undefined;
  const m = /^spiffe:\/\/([a-z0-9._-]+)(\/[^?#]*)?$/.exec(sub);
  return m ? `spiffe://${m[1]}` : undefined;
}

/** The iss and sub an assertion names. */
export interface AssertionNames {
  iss: unknown;
  sub: unknown;
}

/**
 * The iss and sub of an assertion, read without verifying it (undefined when it is no JWT of acceptable size):
 * only to pick what verifies it strictly, a client's keys or a trusted issuer's.
 */
export function assertionNames(assertion: string): AssertionNames | undefined {
  if (assertion.length > DEFAULT_MAX_TOKEN_LENGTH) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(assertion.split('.', 3)[1] ?? '', 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null) return undefined;
    const { iss, sub } = payload as Record<string, unknown>;
    return { iss, sub };
  } catch {
    return undefined;
  }
}

export interface WorkloadAssertion {
  assertion: string;
  /** Its iss and sub, when the caller has read them already (assertionNames). */
  named?: AssertionNames;
  /** The assertion came as `jwt-spiffe` (its sub must be a SPIFFE ID). */
  spiffe: boolean;
  /** The client the request names (`client_id`), if it names one: the matched rule must name the same. */
  clientId: string | undefined;
  /** A grant the client must be allowed, checked before a single-use jti is spent (`unauthorized_client`). */
  grant?: GrantType;
}

/**
 * Authenticates a client by a workload token of a trusted issuer: the issuer picked by the token's iss (or its
 * SPIFFE ID's trust domain), the token verified against that issuer's keys (WorkloadKeys), the first rule that
 * matches its claims names the client, which must be a `workload_identity` client and enabled; a single-use
 * issuer's jti is spent. Every refusal is `invalid_client` (client authentication) or `invalid_grant` (the JWT
 * bearer grant, RFC 7523 section 3.1), the same for each reason (the reason goes to the audit log); keys that cannot be had answer 503 `temporarily_unavailable` (fail closed).
 */
export async function authenticateWorkload(
  ctx: ServerContext,
  a: WorkloadAssertion,
  ip: string,
  refusal: 'invalid_client' | 'invalid_grant' = 'invalid_client',
): Promise<{ client: Client; workload: WorkloadIdentity }> {
  const refuse = async (reason: string, issuer?: string): Promise<never> => {
    await ctx.audit.refusal(ip, {
      type: 'client.workload_refused',
      outcome: 'failure',
      clientId: a.clientId ?? null,
      data: { reason, ...(issuer ? { issuer } : {}) },
    });
    throw refusal === 'invalid_client'
      ? new OAuthError('invalid_client', 'client authentication failed')
      : new OAuthError('invalid_grant', 'the assertion is not accepted');
  };
  const named = a.named ?? assertionNames(a.assertion);
  if (named === undefined) return refuse('malformed');
  const { iss, sub } = named;
  const domain = trustDomainOf(sub);
  if (a.spiffe && domain === undefined) return refuse('not_a_spiffe_id');
  const name = typeof iss === 'string' ? iss : domain;
  const issuer = name === undefined ? undefined : await findWorkloadIssuer(ctx, name);
  if (issuer === undefined) return refuse('unknown_issuer');
  // A trust domain's issuer accepts only SPIFFE IDs of that trust domain.
  if (issuer.issuer.startsWith('spiffe://') && domain !== issuer.issuer) return refuse('other_trust_domain', issuer.name);
  let claims: Record<string, unknown> & { sub: string; exp: number; jti?: string };
  try {
    ({ claims } = await ctx.workloadKeys.verify(issuer, a.assertion));
  } catch (err) {
    if (err instanceof KeysUnavailableError) {
      await ctx.audit.refusal(ip, {
        type: 'client.workload_refused',
        outcome: 'failure',
        data: { reason: 'keys_unavailable', issuer: issuer.name },
      });
      throw new OAuthError('temporarily_unavailable', "the workload issuer's keys cannot be read", 503);
    }
    if (err instanceof TokenClaimError) return refuse(`${err.claim}_${err.reason}`, issuer.name);
    if (err instanceof TesseraError) return refuse(err.code, issuer.name);
    throw err;
  }
  const rule = matchRule(issuer, claims);
  if (rule === undefined) return refuse('no_rule', issuer.name);
  if (a.clientId !== undefined && a.clientId !== rule.client) return refuse('other_client', issuer.name);
  const client = await ctx.store.clients.get(rule.client);
  if (!client || client.disabled || client.authMethod !== 'workload_identity') return refuse('client', issuer.name);
  if (a.grant !== undefined && !client.grantTypes.includes(a.grant))
    throw new OAuthError('unauthorized_client', `this client may not use ${a.grant}`);
  if (issuer.singleUse) {
    const fresh = await ctx.store.assertionJtis.use(
      `workload ${issuer.issuer}`,
      claims.jti!,
      (claims.exp + DEFAULT_ASSERTION_CLOCK_TOLERANCE) * 1000,
      ctx.now(),
    );
    if (!fresh) return refuse('replayed', issuer.name);
  }
  return { client, workload: { issuer: issuer.name, iss: typeof iss === 'string' ? iss : issuer.issuer, sub: claims.sub } };
}

import { JwksInvalidError, KeyInvalidError, parseJwks } from '@tessera/core';

import { SETTINGS } from '../config/schema.js';
import type { ServerContext } from '../context.js';
import { ASSERTION_ALGORITHMS } from '../oauth/client-auth.js';
import { MAX_REDIRECT_URIS, redirectUriProblem } from '../oauth/redirect-uri.js';
import { newClientSecret } from '../security/random.js';
import type { MasterKey } from '../security/master-key.js';
import {
  AUTH_METHODS,
  GRANT_TYPES,
  ID_TOKEN_ALGS,
  JWT_BEARER_GRANT,
  MTLS_AUTH_METHODS,
  TLS_SUBJECT_KINDS,
} from '../store/clients.js';
import { StoreConflictError } from '../store/errors.js';
import type {
  Client,
  ClientAuthMethod,
  GrantType,
  IdTokenAlg,
  Store,
  TlsClientAuthSubject,
  TlsSubjectKind,
} from '../store/types.js';
import { canonicalIp, parseDn, registeredCertificates } from '../oauth/mtls.js';
import { idTokenAlgorithms } from '../oauth/id-token.js';
import { OPENID_SCOPE } from '../oauth/identity-scopes.js';
import type { Actor } from './actor.js';
import { epochSeconds } from './epoch.js';
import { AdminInputError, ConflictError, NotFoundError } from './errors.js';
import { untilUnchanged } from './compare-and-set.js';
import { announceCutOff, cutOffRecord } from './revoke-all.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
// The lists live beside the store's client record, which is checked against them when read.
export { AUTH_METHODS, GRANT_TYPES };
/** Per-client lifetimes (seconds) lie in the range of the server-wide settings they override. */
export const ACCESS_TOKEN_TTL_RANGE = { min: SETTINGS.accessTokenTtl.min!, max: SETTINGS.accessTokenTtl.max! } as const;
export const REFRESH_TOKEN_TTL_RANGE = { min: SETTINGS.refreshTokenTtl.min!, max: SETTINGS.refreshTokenTtl.max! } as const;
/** The longest overlap of a rotated secret: 30 days. */
export const MAX_SECRET_OVERLAP = 2_592_000;
export const DEFAULT_SECRET_OVERLAP = 86_400;

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
  /** Authorization code flow: the URIs /authorize may redirect to. */
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** The client must use pushed authorization requests (RFC 9126). */
  requirePar?: boolean;
  /** Every token request must carry a DPoP proof (RFC 9449 section 5.2 `dpop_bound_access_tokens`). */
  dpopBoundAccessTokens?: boolean;
  /** Access tokens bound to the client's mutual-TLS certificate (RFC 8705 `tls_client_certificate_bound_access_tokens`). */
  tlsClientCertificateBoundAccessTokens?: boolean;
  /** tls_client_auth: the subject its certificate must name (RFC 8705 section 2.1.2); null clears it. */
  tlsClientAuthSubject?: TlsClientAuthSubject | null;
  /** OpenID Connect: the algorithm of its ID tokens (null: the server's signing algorithm). */
  idTokenSignedResponseAlg?: IdTokenAlg | null;
  jwks?: { keys: Record<string, unknown>[] } | null;
  accessTokenTtl?: number | null;
  refreshTokenTtl?: number | null;
}

/** The fields of a client an update may change. */
export type ClientPatch = Partial<Omit<ClientInput, 'id'>> & { disabled?: boolean };

/**
 * Refuses a private_key_jwt client without a usable JWKS, or a JWKS that cannot verify assertions; and a
 * self_signed_tls_client_auth client without a JWKS whose every key carries its certificate (`x5c`).
 */
export function checkClientJwks(method: ClientAuthMethod, jwks: ClientInput['jwks']): void {
  if (method === 'self_signed_tls_client_auth') {
    if (!jwks) throw new AdminInputError('a self_signed_tls_client_auth client needs a jwks with its certificates (x5c)');
    const certificates = registeredCertificates(jwks).length;
    if (certificates === 0 || certificates !== jwks.keys.length)
      throw new AdminInputError("every key of a self_signed_tls_client_auth client's jwks needs its certificate (x5c)");
    // RFC 7518 section 6: private members (EC and OKP `d`, RSA's `d`, `p`, `q`..., a secret's `k`).
    if (jwks.keys.some((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((m) => m in k)))
      throw new AdminInputError('the jwks must hold public keys only');
    return;
  }
  if (method !== 'private_key_jwt') {
    if (jwks) throw new AdminInputError('jwks is only for private_key_jwt and self_signed_tls_client_auth clients');
    return;
  }
  if (!jwks) throw new AdminInputError('a private_key_jwt client needs a jwks');
  try {
    const set = parseJwks(jwks, { algorithms: ASSERTION_ALGORITHMS });
    if (set.size === 0) throw new AdminInputError('the jwks holds no usable signing key');
    if (set.keys.some((k) => k.kind === 'secret')) throw new AdminInputError('the jwks must hold public keys only');
  } catch (err) {
    if (err instanceof JwksInvalidError || err instanceof KeyInvalidError)
      throw new AdminInputError(`jwks refused: ${err.message}`);
    throw err;
  }
}

function checkTtl(value: number | null | undefined, name: string, range: { min: number; max: number }): void {
  if (value === null || value === undefined) return;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new AdminInputError(`${name} must be an integer from ${range.min} to ${range.max} seconds`);
}

/**
 * What OpenID Connect asks of this server for a client: an ID token algorithm it keeps a key for, and published
 * keys at all (single-app mode has none, so `openid` cannot be allowed there).
 */
function checkOpenId(ctx: ServerContext, c: Pick<ClientInput, 'idTokenSignedResponseAlg' | 'scopes'>): void {
  const algs = idTokenAlgorithms(ctx);
  if (c.scopes?.includes(OPENID_SCOPE) && algs.length === 0)
    throw new AdminInputError('single-app mode publishes no keys, so it offers no OpenID Connect (scope openid)');
  if (c.idTokenSignedResponseAlg != null && !algs.includes(c.idTokenSignedResponseAlg))
    throw new AdminInputError(`id_token_signed_response_alg must be one of ${algs.join(', ') || '(none in single-app mode)'}`);
}

/**
 * Per-client lifetimes lie in the ranges of the settings they override. Checked by the admin actions
 * (createClient, updateClient); registerClient, which sets up a store for init and tests, takes any.
 */
function checkLifetimes(c: Pick<ClientInput, 'accessTokenTtl' | 'refreshTokenTtl'>): void {
  checkTtl(c.accessTokenTtl, 'access_token_ttl', ACCESS_TOKEN_TTL_RANGE);
  checkTtl(c.refreshTokenTtl, 'refresh_token_ttl', REFRESH_TOKEN_TTL_RANGE);
}

/** The grants a public client (token_endpoint_auth_method `none`) may use: those a user's browser or app drives. */
export const PUBLIC_CLIENT_GRANTS: readonly GrantType[] = ['authorization_code', 'refresh_token'];

function checkRedirectUris(uris: readonly string[], name: string): void {
  if (uris.length > MAX_REDIRECT_URIS) throw new AdminInputError(`${name}: at most ${MAX_REDIRECT_URIS} URIs`);
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem !== undefined) throw new AdminInputError(`${name}: ${JSON.stringify(uri)} ${problem}`);
  }
}

/** The authorization code flow's settings: redirect URIs exactly when the client uses the flow. */
function checkSignIn(c: Omit<Client, 'secrets' | 'createdAt' | 'updatedAt'>): void {
  checkRedirectUris(c.redirectUris, 'redirect_uris');
  checkRedirectUris(c.postLogoutRedirectUris, 'post_logout_redirect_uris');
  if (c.grantTypes.includes('authorization_code')) {
    if (c.redirectUris.length === 0) throw new AdminInputError('an authorization_code client needs at least one redirect URI');
    return;
  }
  if (c.redirectUris.length > 0 || c.postLogoutRedirectUris.length > 0 || c.requirePar)
    throw new AdminInputError('redirect URIs and require-PAR are for clients with the authorization_code grant');
}

/** Confidential clients that hold no secret of Tessera's: their own key pair or certificate, or their platform's identity. */
const KEYLESS_METHODS: readonly ClientAuthMethod[] = ['private_key_jwt', 'workload_identity', ...MTLS_AUTH_METHODS];

/**
 * A tls_client_auth client names exactly one subject (RFC 8705 section 2.1.2), and no other client names one: a DN in
 * RFC 4514's form, an IP address, or a non-empty DNS name, URI or e-mail address.
 */
function checkTlsSubject(c: Pick<Client, 'authMethod' | 'tlsClientAuthSubject'>): void {
  const subject = c.tlsClientAuthSubject;
  if (c.authMethod !== 'tls_client_auth') {
    if (subject) throw new AdminInputError('tls_client_auth_subject_* is only for tls_client_auth clients');
    return;
  }
  if (!subject)
    throw new AdminInputError(
      'a tls_client_auth client needs exactly one of tls_client_auth_subject_dn, _san_dns, _san_uri, _san_ip, _san_email',
    );
  if (!TLS_SUBJECT_KINDS.includes(subject.kind) || typeof subject.value !== 'string' || subject.value.trim() === '')
    throw new AdminInputError('the tls_client_auth subject must be a non-empty string');
  if (subject.kind === 'subject_dn' && parseDn(subject.value) === undefined)
    throw new AdminInputError('tls_client_auth_subject_dn is not a distinguished name (RFC 4514, e.g. CN=orders,O=Acme)');
  if (subject.kind === 'san_ip' && canonicalIp(subject.value) === undefined)
    throw new AdminInputError('tls_client_auth_san_ip is not an IP address');
}

/** The rules every client obeys, checked on registration and on every update. */
function checkClient(c: Omit<Client, 'secrets' | 'createdAt' | 'updatedAt'>, secrets: number): void {
  if (!AUTH_METHODS.includes(c.authMethod))
    throw new AdminInputError(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  const bad = c.grantTypes.find((g) => !GRANT_TYPES.includes(g));
  if (bad !== undefined) throw new AdminInputError(`grant types are ${GRANT_TYPES.join(', ')}`);
  checkClientJwks(c.authMethod, c.jwks);
  checkTlsSubject(c);
  if (c.idTokenSignedResponseAlg != null && !ID_TOKEN_ALGS.includes(c.idTokenSignedResponseAlg))
    throw new AdminInputError(`id_token_signed_response_alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
  if (c.grantTypes.includes('password') && !c.firstParty)
    throw new AdminInputError('only first-party clients may use the password grant');
  if (c.authMethod === 'none') {
    const confidential = c.grantTypes.find((g) => !PUBLIC_CLIENT_GRANTS.includes(g));
    if (confidential !== undefined)
      throw new AdminInputError(
        `a public client may use only the ${PUBLIC_CLIENT_GRANTS.join(' and ')} grants, not ${confidential}`,
      );
    if (c.mayImpersonate) throw new AdminInputError('a public client may not impersonate');
  } else if (!KEYLESS_METHODS.includes(c.authMethod) && secrets === 0) {
    throw new AdminInputError('rotate the secret to move this client to a secret-based method');
  }
  if (c.authMethod === 'workload_identity') {
    const other = c.grantTypes.find((g) => !WORKLOAD_GRANTS.includes(g));
    if (other !== undefined)
      throw new AdminInputError(`a workload_identity client may use only the ${WORKLOAD_GRANTS.join(', ')} grants, not ${other}`);
  }
  checkSignIn(c);
}

/** A service acting for itself, or on behalf of the caller that reached it: no user signs in through it. */
const WORKLOAD_GRANTS: readonly GrantType[] = [
  'client_credentials',
  JWT_BEARER_GRANT,
  'urn:ietf:params:oauth:grant-type:token-exchange',
];

/**
 * Registers a client; returns it and, for secret-based methods, its secret (shown once, stored as a digest).
 * No audit record: `createClient` is the admin action; this is for setting up a store (init, tests).
 */
export async function registerClient(
  store: Store,
  master: MasterKey,
  input: ClientInput,
  now: number,
): Promise<{ client: Client; secret?: string }> {
  const method = input.authMethod ?? 'client_secret_basic';
  const id = input.id ?? `client-${Math.random().toString(36).slice(2, 10)}`;
  const secret = KEYLESS_METHODS.includes(method) || method === 'none' ? undefined : newClientSecret();
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
    redirectUris: [...new Set(input.redirectUris ?? [])],
    postLogoutRedirectUris: [...new Set(input.postLogoutRedirectUris ?? [])],
    requirePar: input.requirePar ?? false,
    ...(input.dpopBoundAccessTokens ? { dpopBoundAccessTokens: true } : {}),
    ...(input.tlsClientCertificateBoundAccessTokens ? { tlsClientCertificateBoundAccessTokens: true } : {}),
    ...(input.tlsClientAuthSubject ? { tlsClientAuthSubject: { ...input.tlsClientAuthSubject } } : {}),
    ...(input.idTokenSignedResponseAlg ? { idTokenSignedResponseAlg: input.idTokenSignedResponseAlg } : {}),
    accessTokenTtl: input.accessTokenTtl ?? null,
    refreshTokenTtl: input.refreshTokenTtl ?? null,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  checkClient(client, client.secrets.length);
  try {
    await store.clients.create(client);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ConflictError('a client with this id exists');
    throw err;
  }
  return { client, secret };
}

/** Registers a client (the admin action: audited). */
export async function createClient(
  ctx: ServerContext,
  by: Actor,
  input: ClientInput,
): Promise<{ client: Client; secret?: string }> {
  checkLifetimes(input);
  checkOpenId(ctx, input);
  const r = await registerClient(ctx.store, ctx.master, input, ctx.now());
  await ctx.audit.record({
    type: 'admin.client.created',
    outcome: 'success',
    ...by,
    clientId: r.client.id,
    data: {
      grant_types: r.client.grantTypes,
      scope: r.client.scopes.join(' '),
      audiences: r.client.audiences,
      token_endpoint_auth_method: r.client.authMethod,
      redirect_uris: r.client.redirectUris,
    },
  });
  return r;
}

export async function listClients(ctx: ServerContext): Promise<Client[]> {
  return ctx.store.clients.list();
}

export async function findClient(ctx: ServerContext, id: string): Promise<Client> {
  const c = await ctx.store.clients.get(id);
  if (!c) throw new NotFoundError('client', id);
  return c;
}

/** Changes a client; disabling it revokes every session and access token it holds. */
export async function updateClient(ctx: ServerContext, by: Actor, id: string, patch: ClientPatch): Promise<Client> {
  const current = await findClient(ctx, id);
  const change: Partial<Client> = { ...patch };
  for (const k of ['grantTypes', 'scopes', 'audiences', 'redirectUris', 'postLogoutRedirectUris'] as const)
    if (patch[k]) change[k] = [...new Set(patch[k])] as never;
  // A public client has no secret to keep and a confidential one may hold tokens bound to its secret: the
  // client's type is chosen at registration.
  if (patch.authMethod !== undefined && (patch.authMethod === 'none') !== (current.authMethod === 'none'))
    throw new AdminInputError('a client stays public or confidential; register a new client to change its type');
  // A client that leaves tls_client_auth leaves its subject behind.
  if (patch.authMethod !== undefined && patch.authMethod !== 'tls_client_auth' && patch.tlsClientAuthSubject === undefined)
    change.tlsClientAuthSubject = null;
  const next: Client = { ...current, ...change };
  checkClient(next, next.secrets.length);
  checkLifetimes(patch);
  checkOpenId(ctx, next);
  const now = ctx.now();
  if (patch.disabled === true && !current.disabled) {
    // The client disabled and everything it holds revoked, in one transaction; then announced.
    const cut = await ctx.store.clients.updateAndCutOff(id, change, now, cutOffRecord(now, 'client_disabled'));
    if (!cut) throw new NotFoundError('client', id);
    await announceCutOff(ctx, { kind: 'client', id }, 'client_disabled', by, cut);
  } else if (!(await ctx.store.clients.update(id, change, now))) throw new NotFoundError('client', id);
  await ctx.audit.record({
    type: 'admin.client.updated',
    outcome: 'success',
    ...by,
    clientId: id,
    data: { fields: Object.keys(patch) },
  });
  return findClient(ctx, id);
}

/** Disables (and revokes everything the client holds) or enables a client. Revoked tokens stay revoked. */
export function setClientDisabled(ctx: ServerContext, by: Actor, id: string, disabled: boolean): Promise<Client> {
  return updateClient(ctx, by, id, { disabled });
}

/** Deletes a client after revoking every session and access token it holds. */
export async function deleteClient(ctx: ServerContext, by: Actor, id: string): Promise<{ revokedSessions: number }> {
  const now = ctx.now();
  // The client removed and everything it held revoked, in one transaction; then announced.
  const cut = await ctx.store.clients.deleteAndCutOff(id, now, cutOffRecord(now, 'client_deleted'));
  if (!cut) throw new NotFoundError('client', id);
  await announceCutOff(ctx, { kind: 'client', id }, 'client_deleted', by, cut);
  await ctx.audit.record({ type: 'admin.client.deleted', outcome: 'success', ...by, clientId: id });
  return { revokedSessions: cut.families.length };
}

/**
 * A new secret for the client. The previous secrets stay valid for `overlapSeconds` so that deployments can
 * switch without downtime; older ones are dropped. Returns the secret and when the previous ones stop working.
 */
export async function rotateClientSecret(
  ctx: ServerContext,
  by: Actor,
  id: string,
  overlapSeconds: number = DEFAULT_SECRET_OVERLAP,
): Promise<{ client: Client; secret: string; previousExpireAt: number }> {
  if (!Number.isSafeInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_SECRET_OVERLAP)
    throw new AdminInputError(`overlap must be an integer from 0 to ${MAX_SECRET_OVERLAP} seconds`);
  const secret = newClientSecret();
  // Compare and set: a rotation made meanwhile is kept among the previous secrets, not overwritten.
  const { client, previousExpireAt } = await untilUnchanged("the client's secrets", async () => {
    const client = await findClient(ctx, id);
    if (KEYLESS_METHODS.includes(client.authMethod)) throw new AdminInputError(`a ${client.authMethod} client has no secret`);
    if (client.authMethod === 'none') throw new AdminInputError('a public client has no secret');
    const now = ctx.now();
    const previousExpireAt = now + overlapSeconds * 1000;
    const previous = client.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? Infinity, previousExpireAt) }));
    const secrets = [{ digest: ctx.master.secretDigest(secret), createdAt: now, expiresAt: null }, ...previous];
    return (await ctx.store.clients.replaceSecrets(id, client.secrets, secrets, now)) ? { client, previousExpireAt } : undefined;
  });
  await ctx.audit.record({
    type: 'admin.client.secret_rotated',
    outcome: 'success',
    ...by,
    clientId: client.id,
    data: { overlap: overlapSeconds },
  });
  return { client: await findClient(ctx, id), secret, previousExpireAt };
}

/**
 * A client as the admin API and `tessera clients ... --json` show it: RFC 7591 client metadata names, then
 * Tessera's own fields in snake_case; never a secret or its digest.
 */
export function clientView(c: Client) {
  return {
    client_id: c.id,
    client_name: c.name,
    token_endpoint_auth_method: c.authMethod,
    grant_types: [...c.grantTypes],
    scope: c.scopes.join(' '),
    ...(c.jwks ? { jwks: c.jwks } : {}),
    client_id_issued_at: epochSeconds(c.createdAt),
    audiences: [...c.audiences],
    first_party: c.firstParty,
    may_impersonate: c.mayImpersonate ?? false,
    redirect_uris: [...c.redirectUris],
    post_logout_redirect_uris: [...c.postLogoutRedirectUris],
    require_pushed_authorization_requests: c.requirePar,
    dpop_bound_access_tokens: c.dpopBoundAccessTokens ?? false,
    tls_client_certificate_bound_access_tokens: c.tlsClientCertificateBoundAccessTokens ?? false,
    ...(c.tlsClientAuthSubject ? { [TLS_SUBJECT_FIELDS[c.tlsClientAuthSubject.kind]]: c.tlsClientAuthSubject.value } : {}),
    id_token_signed_response_alg: c.idTokenSignedResponseAlg ?? null,
    access_token_ttl: c.accessTokenTtl,
    refresh_token_ttl: c.refreshTokenTtl,
    disabled: c.disabled,
    updated_at: epochSeconds(c.updatedAt),
    secrets: c.secrets.map((s) => ({ created_at: epochSeconds(s.createdAt), expires_at: epochSeconds(s.expiresAt) })),
  };
}

/** A newly issued secret as RFC 7591 shows it: `client_secret_expires_at` 0 means it does not expire. */
export function issuedSecretView(secret: string) {
  return { client_secret: secret, client_secret_expires_at: 0 };
}

/** Client metadata as the admin API takes it (RFC 7591 names). */
export interface ClientMetadata {
  client_id?: string;
  client_name?: string;
  token_endpoint_auth_method?: ClientAuthMethod;
  grant_types?: GrantType[];
  scope?: string;
  audiences?: string[];
  jwks?: { keys: Record<string, unknown>[] } | null;
  first_party?: boolean;
  may_impersonate?: boolean;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  require_pushed_authorization_requests?: boolean;
  dpop_bound_access_tokens?: boolean;
  tls_client_certificate_bound_access_tokens?: boolean;
  tls_client_auth_subject_dn?: string | null;
  tls_client_auth_san_dns?: string | null;
  tls_client_auth_san_uri?: string | null;
  tls_client_auth_san_ip?: string | null;
  tls_client_auth_san_email?: string | null;
  id_token_signed_response_alg?: IdTokenAlg | null;
  access_token_ttl?: number | null;
  refresh_token_ttl?: number | null;
  disabled?: boolean;
}

/** RFC 7591 metadata to the service's input: only the fields given. */
export function clientPatchFromMetadata(m: ClientMetadata): ClientPatch {
  const p: ClientPatch = {};
  if (m.client_name !== undefined) p.name = m.client_name;
  if (m.token_endpoint_auth_method !== undefined) p.authMethod = m.token_endpoint_auth_method;
  if (m.grant_types !== undefined) p.grantTypes = m.grant_types;
  if (m.scope !== undefined) p.scopes = m.scope.split(' ').filter(Boolean);
  if (m.audiences !== undefined) p.audiences = m.audiences;
  if (m.jwks !== undefined) p.jwks = m.jwks;
  if (m.first_party !== undefined) p.firstParty = m.first_party;
  if (m.may_impersonate !== undefined) p.mayImpersonate = m.may_impersonate;
  if (m.redirect_uris !== undefined) p.redirectUris = m.redirect_uris;
  if (m.post_logout_redirect_uris !== undefined) p.postLogoutRedirectUris = m.post_logout_redirect_uris;
  if (m.require_pushed_authorization_requests !== undefined) p.requirePar = m.require_pushed_authorization_requests;
  if (m.dpop_bound_access_tokens !== undefined) p.dpopBoundAccessTokens = m.dpop_bound_access_tokens;
  if (m.tls_client_certificate_bound_access_tokens !== undefined)
    p.tlsClientCertificateBoundAccessTokens = m.tls_client_certificate_bound_access_tokens;
  const subject = tlsSubjectFromMetadata(m);
  if (subject !== undefined) p.tlsClientAuthSubject = subject;
  if (m.id_token_signed_response_alg !== undefined) p.idTokenSignedResponseAlg = m.id_token_signed_response_alg;
  if (m.access_token_ttl !== undefined) p.accessTokenTtl = m.access_token_ttl;
  if (m.refresh_token_ttl !== undefined) p.refreshTokenTtl = m.refresh_token_ttl;
  if (m.disabled !== undefined) p.disabled = m.disabled;
  return p;
}

/** The metadata name of each tls_client_auth subject kind (RFC 8705 section 2.1.2). */
export const TLS_SUBJECT_FIELDS = {
  subject_dn: 'tls_client_auth_subject_dn',
  san_dns: 'tls_client_auth_san_dns',
  san_uri: 'tls_client_auth_san_uri',
  san_ip: 'tls_client_auth_san_ip',
  san_email: 'tls_client_auth_san_email',
} as const satisfies Record<TlsSubjectKind, keyof ClientMetadata>;

/**
 * The tls_client_auth subject the metadata names: undefined when it names none, null when its fields are all null
 * (clears it). Two fields with a value are refused: a client has exactly one subject.
 */
function tlsSubjectFromMetadata(m: ClientMetadata): TlsClientAuthSubject | null | undefined {
  let found: TlsClientAuthSubject | null | undefined;
  for (const kind of TLS_SUBJECT_KINDS) {
    const value = m[TLS_SUBJECT_FIELDS[kind]];
    if (value === undefined) continue;
    if (value === null) {
      found ??= null;
      continue;
    }
    if (found) throw new AdminInputError('name exactly one of the tls_client_auth_subject_dn and tls_client_auth_san_* fields');
    found = { kind, value };
  }
  return found;
}

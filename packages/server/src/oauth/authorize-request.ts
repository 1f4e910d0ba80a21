import type { Client } from '../store/types.js';
import { OAuthError } from './errors.js';
import { param, type Form } from './form.js';
import { grantAudience, grantScopes, requestedScopes } from './policy.js';
import { matchRedirectUri } from './redirect-uri.js';

export type ResponseMode = 'query' | 'form_post';
export const RESPONSE_MODES: readonly ResponseMode[] = ['query', 'form_post'];
export const RESPONSE_TYPES = ['code'] as const;
export const CODE_CHALLENGE_METHODS = ['S256'] as const;
/**
 * OpenID Connect `prompt` values (Core section 3.1.2.1) the server acts on: `none` (no page may be shown),
 * `login` (the password again, even with a session), `consent` (first-party clients are never asked for
 * consent, so it changes nothing for them).
 */
export type Prompt = 'none' | 'login' | 'consent';
export const PROMPTS: readonly Prompt[] = ['none', 'login', 'consent'];

/** An S256 code challenge: BASE64URL(SHA-256(code_verifier)) without padding, 43 characters (RFC 7636 section 4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** A `dpop_jkt` (RFC 9449 section 10): the base64url SHA-256 JWK thumbprint (RFC 7638) of the client's DPoP key. */
const JWK_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
/** `state` is opaque to the server; bounded so that it fits the redirect. */
export const MAX_STATE_LENGTH = 1024;
/** OpenID Connect `nonce` (Core section 3.1.2.1): opaque, repeated in the ID token; bounded as `state`. */
export const MAX_NONCE_LENGTH = 512;

/** An authorization request that passed every check: what the code will be bound to. */
export interface AuthorizationRequest {
  client: Client;
  redirectUri: string;
  responseMode: ResponseMode;
  state: string | undefined;
  /**
   * The scopes asked for, each allowed to the client, or with no `scope` all of the client's, as at the token
   * endpoint (the user's permissions narrow them when the code is issued).
   */
  scopes: string[];
  audience: string[];
  codeChallenge: string;
  /** OpenID Connect: the request's `nonce`, which the ID token repeats (absent: none was sent). */
  nonce?: string;
  /** DPoP (RFC 9449 section 10): the key the code is bound to; its redemption needs a proof of that key. */
  dpopJkt?: string;
  /** OpenID Connect `prompt` values asked for (absent: none asked). */
  prompt?: Prompt[];
  /** OpenID Connect `max_age`: seconds since the user last entered their password beyond which they enter it again. */
  maxAge?: number;
  /** OpenID Connect `login_hint`: the username the login page starts with. */
  loginHint?: string;
}

/** Where a refused request is answered: back at the client's redirect URI, or (no trusted URI) on the error page. */
export interface RedirectTarget {
  redirectUri: string;
  responseMode: ResponseMode;
  state: string | undefined;
}

export type CheckedAuthorization =
  { ok: true; request: AuthorizationRequest } | { ok: false; error: OAuthError; redirect: RedirectTarget | undefined };

/**
 * Checks an authorization request (GET query or POST form), in the order of RFC 6749 section 4.1.2.1: until
 * the client and its redirect URI are established, a refusal is answered on the error page and never
 * redirected (an open redirector otherwise); after that, refusals go back to the client with `error`.
 * Rules: response_type `code` only; PKCE for every client, S256 only; the redirect URI given and one of the
 * client's (exact, loopback port free); requested scopes and audience allowed to the client; OpenID Connect's
 * `nonce` (at most MAX_NONCE_LENGTH characters), `prompt` (known values, `none` alone), `max_age` (a
 * non-negative integer) and `login_hint`; DPoP's `dpop_jkt` (RFC 9449 section 10), a JWK SHA-256 thumbprint. `pushed` says the parameters came through a pushed authorization
 * request (RFC 9126: at the PAR endpoint, or resolved from its `request_uri`, oauth/pushed-request.ts); a client
 * that requires PAR is refused without it. A checked request never carries `request_uri`: it is refused inside a
 * pushed request (RFC 9126 section 2.1), and elsewhere is only resolved, never checked as a parameter.
 */
export async function checkAuthorization(
  form: Form,
  getClient: (id: string) => Promise<Client | undefined>,
  { pushed }: { pushed: boolean } = { pushed: false },
): Promise<CheckedAuthorization> {
  const page = (description: string): CheckedAuthorization => ({
    ok: false,
    error: new OAuthError('invalid_request', description),
    redirect: undefined,
  });
  for (const name of ['client_id', 'redirect_uri'])
    if (form.duplicates.includes(name)) return page(`parameter ${name} is repeated`);
  if (form.params.has('request_uri'))
    return page(pushed ? 'request_uri must not be pushed' : 'request_uri is resolved before the request is checked');
  const clientId = form.params.get('client_id');
  if (!clientId) return page('missing parameter client_id');
  const client = clientId.length <= 4096 ? await getClient(clientId) : undefined;
  if (!client || client.disabled || !client.grantTypes.includes('authorization_code'))
    return { ok: false, error: new OAuthError('invalid_client', 'unknown client'), redirect: undefined };
  const redirectUri = form.params.get('redirect_uri');
  if (!redirectUri) return page('missing parameter redirect_uri');
  if (!matchRedirectUri(client.redirectUris, redirectUri)) return page('redirect_uri is not registered for this client');

  const rawMode = form.params.get('response_mode');
  const responseMode: ResponseMode = RESPONSE_MODES.includes(rawMode as ResponseMode) ? (rawMode as ResponseMode) : 'query';
  const rawState = form.params.get('state');
  const state = rawState === '' ? undefined : rawState;
  const target: RedirectTarget = {
    redirectUri,
    responseMode,
    state: state !== undefined && state.length <= MAX_STATE_LENGTH ? state : undefined,
  };
  try {
    if (form.duplicates.length > 0) throw new OAuthError('invalid_request', `parameter ${form.duplicates[0]} is repeated`);
    if (state !== undefined && state.length > MAX_STATE_LENGTH)
      throw new OAuthError('invalid_request', `state is longer than ${MAX_STATE_LENGTH} characters`);
    if (rawMode !== undefined && rawMode !== responseMode)
      throw new OAuthError('invalid_request', `response_mode must be one of ${RESPONSE_MODES.join(', ')}`);
    const responseType = param(form, 'response_type', true);
    if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code');
    // A request object (RFC 9101, OpenID Connect Core 6.1) would carry parameters this check never saw.
    if (form.params.has('request'))
      throw new OAuthError('request_not_supported', 'request objects are not supported; push the parameters (PAR) instead');
    if (client.requirePar && !pushed)
      throw new OAuthError('invalid_request', 'this client must use pushed authorization requests');
    const codeChallenge = param(form, 'code_challenge');
    if (codeChallenge === undefined) throw new OAuthError('invalid_request', 'PKCE is required: missing code_challenge');
    if (param(form, 'code_challenge_method') !== 'S256')
      throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
    if (!S256_CHALLENGE.test(codeChallenge))
      throw new OAuthError('invalid_request', 'code_challenge is not a base64url SHA-256 digest');
    const scopes = grantScopes(requestedScopes(form), client.scopes);
    const audience = grantAudience(form, client);
    const nonce = param(form, 'nonce');
    if (nonce !== undefined && nonce.length > MAX_NONCE_LENGTH)
      throw new OAuthError('invalid_request', `nonce is longer than ${MAX_NONCE_LENGTH} characters`);
    const prompt = promptOf(form);
    const maxAge = maxAgeOf(form);
    const loginHint = param(form, 'login_hint');
    const dpopJkt = param(form, 'dpop_jkt');
    if (dpopJkt !== undefined && !JWK_THUMBPRINT.test(dpopJkt))
      throw new OAuthError('invalid_request', 'dpop_jkt is not a base64url JWK SHA-256 thumbprint');
    return {
      ok: true,
      request: {
        client,
        redirectUri,
        responseMode,
        state,
        scopes,
        audience,
        codeChallenge,
        ...(nonce !== undefined && nonce !== '' ? { nonce } : {}),
        ...(prompt.length > 0 ? { prompt } : {}),
        ...(maxAge !== undefined ? { maxAge } : {}),
        ...(loginHint !== undefined ? { loginHint } : {}),
        ...(dpopJkt !== undefined ? { dpopJkt } : {}),
      },
    };
  } catch (err) {
    if (err instanceof OAuthError) return { ok: false, error: err, redirect: target };
    throw err;
  }
}

/** The space-separated `prompt` values: each known, none repeated, and `none` only alone (OpenID Connect Core 3.1.2.1). */
function promptOf(form: Form): Prompt[] {
  const raw = param(form, 'prompt');
  if (raw === undefined) return [];
  const values = raw.split(' ');
  for (const v of values)
    if (!PROMPTS.includes(v as Prompt))
      throw new OAuthError('invalid_request', `prompt must be one or more of ${PROMPTS.join(', ')}`);
  if (new Set(values).size !== values.length) throw new OAuthError('invalid_request', 'prompt names a value twice');
  if (values.includes('none') && values.length > 1) throw new OAuthError('invalid_request', 'prompt none must be alone');
  return values as Prompt[];
}

/** `max_age` in seconds: digits only, at most ten years (a larger value would mean nothing). */
function maxAgeOf(form: Form): number | undefined {
  const raw = param(form, 'max_age');
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) > 315_360_000)
    throw new OAuthError('invalid_request', 'max_age must be a number of seconds');
  return Number(raw);
}

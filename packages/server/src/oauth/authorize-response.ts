import type { OAuthError } from './errors.js';
import type { RedirectTarget } from './authorize-request.js';

/** What an authorization response carries: a code, or an error (RFC 6749 sections 4.1.2 and 4.1.2.1). */
export type AuthorizationOutcome = { code: string } | { error: OAuthError };

/**
 * The response's parameters, in order: the code or the error, `state` exactly as the request sent it (when it
 * did), and `iss`, the issuer (RFC 9207), so that a client talking to several servers can tell which answered
 * (mix-up). Both response modes carry these.
 */
export function authorizationResponseParams(
  target: RedirectTarget,
  issuer: string,
  outcome: AuthorizationOutcome,
): [string, string][] {
  const params: [string, string][] =
    'code' in outcome
      ? [['code', outcome.code]]
      : [
          ['error', outcome.error.error],
          ['error_description', outcome.error.description],
        ];
  if (target.state !== undefined) params.push(['state', target.state]);
  params.push(['iss', issuer]);
  return params;
}

/**
 * response_mode=query: the redirect URI with the parameters added to its query. The registered URI's own query
 * is kept byte for byte (RFC 6749 section 3.1.2); registered URIs have no fragment.
 */
export function queryRedirect(redirectUri: string, params: [string, string][]): string {
  const added = new URLSearchParams(params).toString();
  if (!redirectUri.includes('?')) return `${redirectUri}?${added}`;
  return redirectUri.endsWith('?') || redirectUri.endsWith('&') ? `${redirectUri}${added}` : `${redirectUri}&${added}`;
}

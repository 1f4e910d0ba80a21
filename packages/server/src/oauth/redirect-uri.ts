/**
 * Redirect URIs of the authorization code flow: which a client may register, and whether a request's
 * `redirect_uri` is one of them. Matching is exact (string equality), with the one exception RFC 8252 section
 * 7.3 makes for native apps: a loopback IP literal URI matches whatever port the app listens on.
 */

/** At most this many redirect URIs (and as many post-logout ones) per client, each at most this long. */
export const MAX_REDIRECT_URIS = 20;
export const MAX_REDIRECT_URI_LENGTH = 2000;

/** The loopback hosts a native app may use over plain http (IP literals: RFC 8252 section 8.3 advises against `localhost`). */
const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]'];

/**
 * Why `uri` cannot be registered, or undefined when it can. Allowed: https with a host; http on a loopback IP
 * literal (RFC 8252 section 7.3); a private-use scheme named after a reversed domain, such as
 * `com.example.app:/callback` (RFC 8252 section 7.1). Refused: relative URIs, fragments, wildcards, userinfo,
 * and any URI not written in its normal form (so that exact matching compares what the browser sends).
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > MAX_REDIRECT_URI_LENGTH) return `must be 1 to ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (uri.includes('*')) return 'must not contain a wildcard';
  if (uri.includes('#')) return 'must not contain a fragment';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain userinfo';
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') {
    if (url.hostname === '') return 'must name a host';
  } else if (scheme === 'http') {
    if (!LOOPBACK_HOSTS.includes(url.hostname))
      return 'may use http only on a loopback address (http://127.0.0.1 or http://[::1]); use https';
  } else if (!/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) {
    return 'must use https, loopback http, or a private-use scheme named after a reversed domain (com.example.app:/callback)';
  } else if (url.host !== '') {
    return 'with a private-use scheme must have no host (com.example.app:/callback)';
  }
  if (url.href !== uri) return `must be written in normal form: ${url.href}`;
  return undefined;
}
/**
 * Whether `given` (a request's redirect_uri) is one of `registered`: exact string equality, except that a
 * registered loopback http URI matches `given` with any port (or none) and otherwise the same text.
 */
export function matchRedirectUri(registered: readonly string[], given: string): boolean {
  if (registered.includes(given)) return true;
  const withoutPort = loopbackWithoutPort(given);
  return withoutPort !== undefined && registered.some((r) => loopbackWithoutPort(r) === withoutPort);
}

/** A loopback http URI with its port removed; undefined for any other URI (or one not in normal form). */
function loopbackWithoutPort(uri: string): string | undefined {
  if (!uri.startsWith('http://')) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.href !== uri || url.username !== '' || url.password !== '' || !LOOPBACK_HOSTS.includes(url.hostname)) return undefined;
  url.port = '';
  return url.href;
}

/**
 * Whether a browser page at `origin` may call the token and revocation endpoints as this client (CORS): the
 * origin of one of its registered http(s) redirect URIs, the page the code flow returns to. A loopback origin
 * matches with any port, as its redirect URI does.
 */
export function isClientOrigin(registered: readonly string[], origin: string): boolean {
  let given: URL;
  try {
    given = new URL(origin);
  } catch {
    return false;
  }
  if (given.origin !== origin || given.origin === 'null') return false;
  return registered.some((uri) => {
    if (!uri.startsWith('https://') && !uri.startsWith('http://')) return false;
    const r = new URL(uri);
    if (r.origin === origin) return true;
    return (
      r.protocol === 'http:' && given.protocol === 'http:' && LOOPBACK_HOSTS.includes(r.hostname) && r.hostname === given.hostname
    );
  });
}

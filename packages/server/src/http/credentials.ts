/**
 * Names of parameters that carry credentials (OAuth, RFC 7523, RFC 8693 and the usual suspects): their
 * values are never logged, and never accepted in the query string of the OAuth endpoints. Matched on the
 * decoded, lower-cased name, by the words in it, so that `api_key` or `x_client_secret` count too.
 */
const CREDENTIAL_NAME = /secret|password|passwd|token|assertion|credential|api_?key|^code$|code_verifier|^key$/;

/** Names about a credential rather than holding one (`token_type_hint`, `subject_token_type`). */
const DESCRIBES_CREDENTIAL = /_(type|hint)$/;
/** Hints that hold a token all the same: OpenID Connect's `id_token_hint` (logout) is a whole ID token. */
const HOLDS_TOKEN = new Set(['id_token_hint']);

export function isCredentialName(name: string): boolean {
  const n = decodeName(name).toLowerCase();
  return (CREDENTIAL_NAME.test(n) && !DESCRIBES_CREDENTIAL.test(n)) || HOLDS_TOKEN.has(n);
}

function decodeName(name: string): string {
  const spaced = name.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Not valid percent-encoding: judged on its bytes as written, with any valid escapes decoded.
    return spaced.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

/** The parameter names of a URL's query string (`path?a=1&b` -> a, b), as written. */
function queryPairs(url: string): string[] | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const end = url.indexOf('#', q);
  return url.slice(q + 1, end === -1 ? undefined : end).split('&');
}

/** Whether the query string of `url` names a credential parameter. */
export function hasCredentialInQuery(url: string): boolean {
  return (queryPairs(url) ?? []).some((pair) => {
    const eq = pair.indexOf('=');
    return isCredentialName(eq === -1 ? pair : pair.slice(0, eq));
  });
}

/** `url` with the value of every credential parameter of its query string replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const pairs = queryPairs(url);
  if (!pairs) return url;
  const q = url.indexOf('?');
  let changed = false;
  const out = pairs.map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (eq === -1 || !isCredentialName(name)) return pair;
    changed = true;
    return `${name}=[redacted]`;
  });
  if (!changed) return url;
  const hash = url.indexOf('#', q);
  return `${url.slice(0, q + 1)}${out.join('&')}${hash === -1 ? '' : url.slice(hash)}`;
}

import { TokenRequestError } from '@tessera/verifier';

import { noPositionals, parseFlags, required } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { formatJson, out, readInputFile } from '../io.js';

export const tokenGet: Command = {
  name: 'token get',
  summary: 'get an access token with client credentials from a running server',
  usage: `Usage: tessera token get --issuer URL --client-id ID [--client-secret-file FILE] [--audience AUD] [--scope "a b"] [--json]

Requests a token with the client_credentials grant (client_secret_basic). The secret is read from
--client-secret-file or the TESSERA_CLIENT_SECRET environment variable, never from the command line.
Prints the access token (or, with --json, the whole token response).
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      audience: { type: 'string' },
      scope: { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals(positionals);
    const issuer = issuerUrl(required(values.issuer, '--issuer'));
    const clientId = required(values['client-id'], '--client-id');
    const secret = values['client-secret-file']
      ? (await readInputFile(values['client-secret-file'], 'client secret file')).toString('utf8').trim()
      : process.env.TESSERA_CLIENT_SECRET;
    if (!secret) throw new UsageError('give --client-secret-file or set TESSERA_CLIENT_SECRET');
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (values.audience) body.set('resource', values.audience);
    if (values.scope) body.set('scope', values.scope);
    const endpoint = `${issuer.origin}${issuer.pathname.replace(/\/+$/, '')}/oauth/token`;
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization:
            'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64'),
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new TokenRequestError(`cannot reach ${endpoint}: ${networkReason(err)}`, { cause: err });
    }
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (res.status !== 200) throw refusal(res.status, json);
    if (typeof json?.access_token !== 'string')
      throw new TokenRequestError(`${endpoint} answered HTTP 200 without an access_token`, { status: res.status });
    out(values.json ? formatJson(json) : String(json.access_token));
  },
};

/** An http(s) URL without credentials in it (they would be echoed in errors). */
function issuerUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError('--issuer must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--issuer must be an http:// or https:// URL');
  if (url.username || url.password || url.search || url.hash)
    throw new UsageError('--issuer must not hold credentials, a query or a fragment');
  return url;
}

/**
 * The server's refusal as it gave it: HTTP status, OAuth `error` and `error_description` (RFC 6749 section
 * 5.2). Both are printed only when they keep to the characters RFC 6749 allows them (printable ASCII, no
 * quote or backslash), so a server cannot write control sequences to the terminal.
 */
function refusal(status: number, json: Record<string, unknown> | undefined): TokenRequestError {
  const error = oauthText(json?.error, 64);
  const description = oauthText(json?.error_description, 300);
  const what = error ? `${error}${description ? `: ${description}` : ''}` : 'no OAuth error in the answer';
  return new TokenRequestError(`the server refused the token request (HTTP ${status}): ${what}`, {
    status,
    ...(error ? { error } : {}),
    ...(description ? { description } : {}),
  });
}

function oauthText(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max && /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(value)
    ? value
    : undefined;
}

/** Why fetch failed, as a code (ECONNREFUSED, ENOTFOUND, timeout): never the text of the error. */
function networkReason(err: unknown): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return 'no answer within 10 s';
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : 'network error';
}

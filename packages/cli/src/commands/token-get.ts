import { ServiceTokenSource, TokenRequestError, type TokenResponse } from '@tessera/verifier';

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
    const endpoint = `${issuer.origin}${issuer.pathname.replace(/\/+$/, '')}/oauth/token`;
    const source = new ServiceTokenSource({ tokenEndpoint: endpoint, clientId, clientSecret: secret, timeoutMs: TIMEOUT_MS });
    let json: TokenResponse;
    try {
      json = await source.requestToken({ audience: values.audience || undefined, scope: values.scope });
    } catch (err) {
      throw err instanceof TokenRequestError ? explained(err, endpoint) : err;
    }
    out(values.json ? formatJson(json) : json.access_token);
  },
};

const TIMEOUT_MS = 10_000;

/**
 * The token source's failure told in the command's words: the endpoint it could not reach and why, or the
 * server's refusal as it gave it.
 */
function explained(err: TokenRequestError, endpoint: string): TokenRequestError {
  if (err.status === undefined)
    return new TokenRequestError(`cannot reach ${endpoint}: ${networkReason(err.cause)}`, { cause: err.cause });
  if (err.status === 200)
    return new TokenRequestError(`${endpoint} answered HTTP 200 without an access_token`, { status: err.status });
  return refusal(err.status, err.error, err.description);
}

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
function refusal(status: number, rawError: string | undefined, rawDescription: string | undefined): TokenRequestError {
  const error = oauthText(rawError, 64);
  const description = oauthText(rawDescription, 300);
  const what = error ? `${error}${description ? `: ${description}` : ''}` : 'no OAuth error in the answer';
  return new TokenRequestError(`the server refused the token request (HTTP ${status}): ${what}`, {
    status,
    ...(error ? { error } : {}),
    ...(description ? { description } : {}),
  });
}

function oauthText(value: string | undefined, max: number): string | undefined {
  return value !== undefined && value.length > 0 && value.length <= max && /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(value)
    ? value
    : undefined;
}

/** Why fetch failed, as a code (ECONNREFUSED, ENOTFOUND, timeout): never the text of the error. */
function networkReason(err: unknown): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : 'network error';
}

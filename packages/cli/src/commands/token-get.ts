import { ServiceTokenSource, TokenRequestError, type TokenResponse } from '@tessera/verifier';

import { noPositionals, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { formatJson, out } from '../io.js';
import { CLIENT_OPTIONS, clientCredentials, endpointOf, networkReason, oauthText, TIMEOUT_MS } from '../oauth-client.js';

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
      ...CLIENT_OPTIONS,
      audience: { type: 'string' },
      scope: { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals(positionals);
    const { issuer, clientId, secret } = await clientCredentials(values);
    const endpoint = endpointOf(issuer, '/oauth/token');
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

/**
 * The server's refusal as it gave it: HTTP status, OAuth `error` and `error_description` (RFC 6749 section
 * 5.2), each printed only when it passes oauthText.
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

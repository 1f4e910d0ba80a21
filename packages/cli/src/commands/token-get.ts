import { ConfigError, type Algorithm } from '@tessera/core';
import { DpopKey, ServiceTokenSource, TokenRequestError, type TokenResponse } from '@tessera/verifier';

import { noPositionals, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { formatJson, out } from '../io.js';
import { InputError, UsageError } from '../errors.js';
import { importKeyFile, readKeyFile } from '../key-file.js';
import {
  CLIENT_OPTIONS,
  clientCredentials,
  endpointOf,
  networkReason,
  oauthText,
  TIMEOUT_MS,
  WORKLOAD_OPTIONS,
  workloadCredentials,
} from '../oauth-client.js';

export const tokenGet: Command = {
  name: 'token get',
  summary: 'get an access token with client credentials from a running server',
  usage: `Usage: tessera token get --issuer URL --client-id ID [--client-secret-file FILE] [--audience AUD] [--scope "a b"] [--dpop-key FILE [--dpop-alg ALG]] [--json]
       tessera token get --issuer URL --client-id ID --workload-token-file FILE [--spiffe] [--audience AUD] [--scope "a b"] [--dpop-key FILE [--dpop-alg ALG]] [--json]

Requests a token with the client_credentials grant. The client authenticates with its secret
(client_secret_basic), read from --client-secret-file or the TESSERA_CLIENT_SECRET environment variable,
never from the command line; or, a workload_identity client, with the token its platform gives it:
--workload-token-file names the file (a Kubernetes projected service-account token, a SPIFFE JWT-SVID
file; a relative path is read from the current directory), sent as a jwt-bearer client assertion, or as a
jwt-spiffe one with --spiffe. With --workload-token-file, TESSERA_CLIENT_SECRET is not used.
With --dpop-key (a private key as a JWK or PEM file; --dpop-alg for an RSA key, e.g. PS256), the request
carries a DPoP proof signed by it and the token is bound to that key (token_type DPoP, RFC 9449): it is
then used only with proofs of the same key. A server nonce it asks for is sent in one retry.
Prints the access token (or, with --json, the whole token response).
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...CLIENT_OPTIONS,
      ...WORKLOAD_OPTIONS,
      audience: { type: 'string' },
      scope: { type: 'string' },
      json: { type: 'boolean' },
      'dpop-key': { type: 'string' },
      'dpop-alg': { type: 'string' },
    });
    noPositionals(positionals);
    const dpopKey = await dpopKeyFile(values['dpop-key'], values['dpop-alg']);
    const workload = workloadCredentials(values);
    const { issuer, clientId, ...auth } = workload ?? (await clientCredentials(values));
    const endpoint = endpointOf(issuer, '/oauth/token');
    const source = new ServiceTokenSource({
      tokenEndpoint: endpoint,
      clientId,
      ...('secret' in auth
        ? { clientSecret: auth.secret }
        : { workloadTokenFile: auth.workloadTokenFile, assertionType: auth.assertionType }),
      timeoutMs: TIMEOUT_MS,
      ...(dpopKey === undefined ? {} : { dpopKey }),
    });
    let json: TokenResponse;
    try {
      json = await source.requestToken({ audience: values.audience || undefined, scope: values.scope });
    } catch (err) {
      throw err instanceof TokenRequestError ? explained(err, endpoint) : err;
    }
    out(values.json ? formatJson(json) : json.access_token);
  },
};

/** The DPoP key of `--dpop-key`: a private key of an asymmetric algorithm; a refusal names the file and why. */
async function dpopKeyFile(path: string | undefined, alg: string | undefined): Promise<DpopKey | undefined> {
  if (path === undefined) {
    if (alg !== undefined) throw new UsageError('--dpop-alg goes with --dpop-key');
    return undefined;
  }
  const file = await readKeyFile(path, 'DPoP key file');
  if (file.format === 'secret' || file.format === 'openssh')
    throw new InputError(`the DPoP key file ${path} does not hold a private JWK or PEM key`);
  const key = importKeyFile(file, alg === undefined ? {} : { alg: alg as Algorithm }, '--dpop-alg');
  try {
    return new DpopKey(key);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new InputError(`the DPoP key file ${path} holds no usable key: ${err.message.slice(err.option.length + 2)}`);
    throw err;
  }
}

/**
 * The token source's failure told in the command's words: the workload token file it could not use, the
 * endpoint it could not reach and why, or the server's refusal as it gave it.
 */
function explained(err: TokenRequestError, endpoint: string): TokenRequestError | InputError {
  // The workload token file could not be used: nothing was sent. The message names the file and why.
  if (err.file !== undefined) return new InputError(err.message, { cause: err.cause });
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

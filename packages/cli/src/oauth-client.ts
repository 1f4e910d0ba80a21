import { resolve } from 'node:path';

import type { WorkloadAssertionType } from '@tessera/verifier';
import { clientSecretBasic } from '@tessera/verifier/internal';

import { required } from './args.js';
import { InputError, ServerRefusedError, UsageError } from './errors.js';
import { readInputFile } from './io.js';

/** The flags of a command that authenticates to a running server as a client (client_secret_basic). */
export const CLIENT_OPTIONS = {
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
} as const;

/**
 * The flags of a command that may authenticate, instead of by a secret, by the workload token its platform
 * gives it (a Kubernetes projected service-account token, a SPIFFE JWT-SVID file): `token get`.
 */
export const WORKLOAD_OPTIONS = {
  'workload-token-file': { type: 'string' },
  spiffe: { type: 'boolean' },
} as const;

/** How long a command waits for the server's answer. */
export const TIMEOUT_MS = 10_000;

export interface ClientCredentials {
  issuer: URL;
  clientId: string;
  secret: string;
}

/** --issuer, --client-id and the secret from --client-secret-file or TESSERA_CLIENT_SECRET (never a flag value). */
export async function clientCredentials(values: {
  issuer?: string;
  'client-id'?: string;
  'client-secret-file'?: string;
}): Promise<ClientCredentials> {
  const issuer = issuerUrl(required(values.issuer, '--issuer'));
  const clientId = required(values['client-id'], '--client-id');
  const secret = values['client-secret-file']
    ? (await readInputFile(values['client-secret-file'], 'client secret file')).toString('utf8').trim()
    : process.env.TESSERA_CLIENT_SECRET;
  if (!secret) throw new UsageError('give --client-secret-file or set TESSERA_CLIENT_SECRET');
  return { issuer, clientId, secret };
}

export interface WorkloadCredentials {
  issuer: URL;
  clientId: string;
  /** Absolute: a relative --workload-token-file resolved against the working directory. */
  workloadTokenFile: string;
  assertionType: WorkloadAssertionType;
}

/**
 * --issuer, --client-id and the workload token file (--workload-token-file, --spiffe to send it as a SPIFFE
 * JWT-SVID), or undefined when no --workload-token-file is given (then the client authenticates by its secret:
 * clientCredentials). The file is read by the request, not here; with --client-secret-file too, a UsageError.
 */
export function workloadCredentials(values: {
  issuer?: string;
  'client-id'?: string;
  'client-secret-file'?: string;
  'workload-token-file'?: string;
  spiffe?: boolean;
}): WorkloadCredentials | undefined {
  const file = values['workload-token-file'];
  if (file === undefined) {
    if (values.spiffe === true) throw new UsageError('--spiffe goes with --workload-token-file');
    return undefined;
  }
  if (file === '') throw new UsageError('--workload-token-file must not be empty');
  if (values['client-secret-file'] !== undefined)
    throw new UsageError('give --client-secret-file or --workload-token-file, not both');
  return {
    issuer: issuerUrl(required(values.issuer, '--issuer')),
    clientId: required(values['client-id'], '--client-id'),
    workloadTokenFile: resolve(file),
    assertionType: values.spiffe === true ? 'jwt-spiffe' : 'jwt-bearer',
  };
}

/** An http(s) URL without credentials, a query or a fragment in it (errors name the URL). */
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

/** The URL of one of the issuer's endpoints, `path` such as `/oauth/token`. */
export function endpointOf(issuer: URL, path: string): string {
  return `${issuer.origin}${issuer.pathname.replace(/\/+$/, '')}${path}`;
}

/**
 * An OAuth `error` or `error_description` from the server, kept only when it holds the characters RFC 6749
 * section 5.2 allows (printable ASCII, no quote or backslash), so a server cannot write control sequences
 * to the terminal.
 */
export function oauthText(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max && /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(value)
    ? value
    : undefined;
}

/** Why fetch failed, as a code (ECONNREFUSED, ENOTFOUND, timeout): never the text of the error. */
export function networkReason(err: unknown): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : 'network error';
}

/**
 * POSTs a form to one of the server's OAuth endpoints with client_secret_basic and returns the JSON answer
 * (undefined for an empty body). A refusal becomes ServerRefusedError with the server's `error` and
 * `error_description` where they pass oauthText.
 */
export async function postForm(
  creds: ClientCredentials,
  path: string,
  params: Record<string, string>,
): Promise<Record<string, unknown> | undefined> {
  const url = endpointOf(creds.issuer, path);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: clientSecretBasic(creds.clientId, creds.secret),
      },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new InputError(`cannot reach ${url}: ${networkReason(err)}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const json = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  if (res.status !== 200)
    throw new ServerRefusedError(url, res.status, oauthText(json?.error, 64), oauthText(json?.error_description, 300));
  return json;
}

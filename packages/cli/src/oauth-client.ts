import { required } from './args.js';
import { InputError, ServerRefusedError, UsageError } from './errors.js';
import { readInputFile } from './io.js';

/** The flags of a command that authenticates to a running server as a client (client_secret_basic). */
export const CLIENT_OPTIONS = {
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
} as const;

export interface ClientCredentials {
  issuer: string;
  clientId: string;
  secret: string;
}

/** --issuer, --client-id and the secret from --client-secret-file or TESSERA_CLIENT_SECRET (never a flag value). */
export async function clientCredentials(values: {
  issuer?: string;
  'client-id'?: string;
  'client-secret-file'?: string;
}): Promise<ClientCredentials> {
  const issuer = required(values.issuer, '--issuer').replace(/\/+$/, '');
  const clientId = required(values['client-id'], '--client-id');
  const secret = values['client-secret-file']
    ? (await readInputFile(values['client-secret-file'], 'client secret file')).toString('utf8').trim()
    : process.env.TESSERA_CLIENT_SECRET;
  if (!secret) throw new UsageError('give --client-secret-file or set TESSERA_CLIENT_SECRET');
  return { issuer, clientId, secret };
}

/**
 * POSTs a form to one of the server's OAuth endpoints with HTTP Basic client authentication and returns the
 * JSON answer (undefined for an empty body). A refusal becomes ServerRefusedError with the server's
 * `error` and `error_description`.
 */
export async function postForm(
  creds: ClientCredentials,
  path: string,
  params: Record<string, string>,
): Promise<Record<string, unknown> | undefined> {
  const url = `${creds.issuer}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'Basic ' + Buffer.from(`${encodeURIComponent(creds.clientId)}:${encodeURIComponent(creds.secret)}`).toString('base64'),
      },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new InputError(`cannot reach ${url}`, { cause: err });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const json = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  if (res.status !== 200) {
    const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : undefined);
    throw new ServerRefusedError(url, res.status, str(json?.error), str(json?.error_description));
  }
  return json;
}

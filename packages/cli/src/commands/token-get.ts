import { noPositionals, parseFlags, required } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
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
    const issuer = required(values.issuer, '--issuer').replace(/\/+$/, '');
    const clientId = required(values['client-id'], '--client-id');
    const secret = values['client-secret-file']
      ? (await readInputFile(values['client-secret-file'], 'client secret file')).toString('utf8').trim()
      : process.env.TESSERA_CLIENT_SECRET;
    if (!secret) throw new UsageError('give --client-secret-file or set TESSERA_CLIENT_SECRET');
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (values.audience) body.set('resource', values.audience);
    if (values.scope) body.set('scope', values.scope);
    let res: Response;
    try {
      res = await fetch(`${issuer}/oauth/token`, {
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
      throw new InputError(`cannot reach ${issuer}/oauth/token`, { cause: err });
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status !== 200) throw new InputError(`token request refused: HTTP ${res.status} ${String(json.error ?? '')}`);
    out(values.json ? formatJson(json) : String(json.access_token));
  },
};

import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { TokenNotRevokedError, UsageError } from '../errors.js';
import { LOCAL_OPTIONS, withLocal } from '../local.js';
import { CLIENT_OPTIONS, clientCredentials, postForm } from '../oauth-client.js';
import { JSON_FLAG, print } from '../output.js';
import { readToken } from '../token-input.js';

const HINTS = ['access_token', 'refresh_token'] as const;

const usage = `Usage: tessera token revoke [TOKEN] --issuer URL --client-id ID [--client-secret-file FILE] [--hint TYPE] [--json]
       tessera token revoke [TOKEN] [--config FILE | --dir DIR] [--hint TYPE] [--json]

Revokes an access or refresh token. A refresh token ends its whole session (and the access tokens issued
from it); an access token is revoked until it expires. Verifiers learn of it within milliseconds.
The token is read from the argument, else from standard input (preferred: it stays out of the process list).

Against a running server (RFC 7009): the client authenticates with client_secret_basic; its secret is read
from --client-secret-file or TESSERA_CLIENT_SECRET. Only the client's own tokens are revoked, and the
server answers the same for unknown tokens (RFC 7009 section 2.2).

In the data folder (--dir / --config, no --issuer): any live token of this server, by its operator;
refused (exit 1) if no live token of this server matches.

  --hint TYPE   access_token or refresh_token: where to look first

Example: tessera token revoke --dir .tessera < token.txt
`;

export const tokenRevoke: Command = {
  name: 'token revoke',
  summary: 'revoke an access or refresh token (RFC 7009, or in the data folder)',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...CLIENT_OPTIONS,
      ...JSON_FLAG,
      hint: { type: 'string' },
    });
    const hint = values.hint;
    if (hint !== undefined && !(HINTS as readonly string[]).includes(hint))
      throw new UsageError(`--hint must be one of ${HINTS.join(', ')}`);
    const remote = values.issuer !== undefined || values['client-id'] !== undefined;
    if (remote && (values.dir !== undefined || values.config !== undefined))
      throw new UsageError('give --issuer (a running server) or --dir / --config (the data folder), not both');
    const creds = remote ? await clientCredentials(values) : undefined;
    const token = await readToken(positionals);
    if (creds) {
      await postForm(creds, '/oauth/revoke', { token, ...(hint ? { token_type_hint: hint } : {}) });
      print(values.json, { accepted: true }, () => 'the server accepted the revocation');
      return;
    }
    const r = await withLocal(values, async (s, admin) => s.admin.tokens.revoke(admin.CLI_ACTOR, token, { hint }));
    if (!r.revoked) throw new TokenNotRevokedError();
    print(values.json, { revoked: true, token_type: r.kind }, () => `revoked the ${r.kind.replace('_', ' ')}`);
  },
};

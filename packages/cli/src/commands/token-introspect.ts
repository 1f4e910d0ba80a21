import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { CLIENT_OPTIONS, clientCredentials, postForm } from '../oauth-client.js';
import { isoTime, JSON_FLAG, print } from '../output.js';
import { readToken } from '../token-input.js';

const usage = `Usage: tessera token introspect [TOKEN] --issuer URL --client-id ID [--client-secret-file FILE] [--hint TYPE] [--json]

Asks a running server whether a token is active (RFC 7662) and prints its answer: for an active token its
claims, else "active": false (expired, revoked, unknown or foreign tokens alike). The client authenticates
with client_secret_basic; its secret is read from --client-secret-file or TESSERA_CLIENT_SECRET. The token
is read from the argument, else from standard input.

  --hint TYPE   access_token or refresh_token
  --json        print the server's answer as it is (RFC 7662 member names)

Example: tessera token introspect --issuer http://127.0.0.1:4000 --client-id orders --client-secret-file orders.secret < token.txt
`;

export const tokenIntrospect: Command = {
  name: 'token introspect',
  summary: 'ask a running server whether a token is active (RFC 7662)',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...CLIENT_OPTIONS, ...JSON_FLAG, hint: { type: 'string' } });
    const creds = await clientCredentials(values);
    const token = await readToken(positionals);
    const answer = (await postForm(creds, '/oauth/introspect', {
      token,
      ...(values.hint ? { token_type_hint: values.hint } : {}),
    })) ?? {
      active: false,
    };
    print(values.json, answer, () => {
      if (answer.active !== true) return 'active: false';
      const lines = ['active: true'];
      for (const [name, value] of Object.entries(answer)) {
        if (name === 'active') continue;
        const shown =
          (name === 'exp' || name === 'iat' || name === 'nbf') && typeof value === 'number'
            ? `${value} (${isoTime(value)})`
            : JSON.stringify(value);
        lines.push(`${name}: ${typeof value === 'string' ? value : shown}`);
      }
      return lines.join('\n');
    });
  },
};

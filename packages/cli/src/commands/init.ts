import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { noPositionals, nonNegativeInteger, optional, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { FileExistsError } from '../errors.js';
import { formatJson, note, out } from '../io.js';
import { serverModule } from '../local.js';

const usage = `Usage: tessera init [--dir DIR] [--issuer URL] [--port N] [--admin-username NAME] [--json]

Sets up a Tessera installation in DIR (default .tessera): a config file (tessera.json), a master key
(master.key, mode 0600), the SQLite database, signing keys, a first admin user and an admin client.
Their credentials are printed ONCE; only hashes are stored.

  --dir DIR               data folder (default .tessera); refused if already initialised
  --issuer URL            the issuer URL (default http://127.0.0.1:<port>)
  --port N                port for "tessera serve" (default 4000)
  --admin-username NAME   the first admin user (default admin)
  --json                  print the credentials as JSON: { config_file, issuer, admin_user: { username,
                          password }, admin_client: { client_id, client_secret, scope, audience } }
`;

export const init: Command = {
  name: 'init',
  summary: 'set up a data folder with keys, an admin user and an admin client',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      dir: { type: 'string' },
      issuer: { type: 'string' },
      port: { type: 'string' },
      'admin-username': { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals(positionals);
    const port = optional(values.port, '--port');
    const dir = values.dir ?? '.tessera';
    const { initialize, CONFIG_FILE } = await serverModule();
    if (existsSync(join(dir, CONFIG_FILE))) throw new FileExistsError(join(dir, CONFIG_FILE), '--dir');
    const result = await initialize({
      dir,
      issuer: optional(values.issuer, '--issuer'),
      port: port === undefined ? 4000 : nonNegativeInteger(port, '--port'),
      adminUsername: optional(values['admin-username'], '--admin-username'),
    });
    if (values.json) {
      out(formatJson(result));
      return;
    }
    out(`Initialised ${result.config_file}
issuer:         ${result.issuer}

Admin user (password grant with client ${result.admin_client.client_id}):
  username:     ${result.admin_user.username}
  password:     ${result.admin_user.password}

Admin client (client_credentials; scope ${result.admin_client.scope}, audience ${result.admin_client.audience}):
  client_id:     ${result.admin_client.client_id}
  client_secret: ${result.admin_client.client_secret}

Start the server with: tessera serve --dir ${values.dir ?? '.tessera'}`);
    note('These credentials are shown once. Store them now.');
  },
};

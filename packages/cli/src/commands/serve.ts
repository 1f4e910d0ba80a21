import type { AddressInfo } from 'node:net';

import { noPositionals, nonNegativeInteger, parseFlags } from '../args.js';
import { boundUrl, isAddressInUse, untilStopped } from '../listen.js';
import { PortInUseError } from '../errors.js';
import type { Command } from '../command.js';
import { configFile, LOCAL_OPTIONS, serverModule } from '../local.js';
import { note, out } from '../io.js';

const usage = `Usage: tessera serve [--config FILE | --dir DIR] [--port N] [--host ADDR] [--json]

Runs the auth server. Settings come from the config file, then TESSERA_* environment variables,
then these flags (see docs/configuration.md).

  --config FILE   config file (default DIR/tessera.json)
  --dir DIR       data folder made by "tessera init" (default .tessera)
  --port N        port to listen on
  --host ADDR     address to listen on
  --json          once listening, print {"listening_at", "issuer"} as one JSON line on standard output
`;

export const serve: Command = {
  name: 'serve',
  summary: 'run the auth server',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      port: { type: 'string' },
      host: { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals(positionals);
    const overrides: Record<string, unknown> = {};
    if (values.port !== undefined) overrides.port = nonNegativeInteger(values.port, '--port');
    if (values.host !== undefined) overrides.host = values.host;
    const mod = await serverModule();
    const file = configFile(values, mod);
    const { createServer } = mod;
    const server = await createServer({ file, overrides });
    try {
      await server.listen();
    } catch (err) {
      await server.close();
      if (isAddressInUse(err))
        throw new PortInUseError(server.config.host, server.config.port, `--port, TESSERA_PORT or "port" in ${file}`);
      throw err;
    }
    const bound = boundUrl(server.app.server.address() as AddressInfo, 'http');
    if (values.json) out(JSON.stringify({ listening_at: bound, issuer: server.config.issuer }));
    else note(`tessera listening at ${bound}${server.config.issuer === bound ? '' : ` (issuer ${server.config.issuer})`}`);
    await untilStopped(() => server.close());
  },
};

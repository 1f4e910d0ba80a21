import { noPositionals, nonNegativeInteger, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { PortInUseError, UsageError } from '../errors.js';
import { isAddressInUse, untilStopped } from '../listen.js';
import { note, out } from '../io.js';

const usage = `Usage: tessera gateway --config FILE [--port N] [--host ADDR] [--json]

Runs the real-time gateway (Centrifuge client protocol over WebSocket) described by a JSON config file:
the auth server it trusts, the channel namespaces, Redis for several nodes, the revocation feed client
(every setting: docs/configuration.md). TESSERA_REDIS_URL sets the Redis URL (over the file);
TESSERA_GATEWAY_REVOCATION_SECRET the feed client's secret when the file names no clientSecretFile.

  --config FILE   gateway config file (required)
  --port N        port to listen on (overrides the file)
  --host ADDR     address to listen on (overrides the file)
  --json          once listening, print {"listening_at"} as one JSON line on standard output
`;

export const gateway: Command = {
  name: 'gateway',
  summary: 'run the real-time WebSocket gateway',
  usage,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      json: { type: 'boolean' },
    });
    noPositionals(positionals);
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    const realtime = await import('@tessera/realtime');
    const overrides: Record<string, unknown> = {};
    if (values.port !== undefined) overrides.port = nonNegativeInteger(values.port, '--port');
    if (values.host !== undefined) overrides.host = values.host;
    // A setting it cannot use is a ConfigError naming it: exit 2, like bad usage.
    const config = realtime.loadGatewayConfig(values.config, { overrides });
    let running;
    try {
      running = await realtime.runGateway(config, {
        logger: (level, event, fields) => {
          if (level !== 'info') note(JSON.stringify({ level, event, ...fields }));
        },
      });
    } catch (err) {
      if (isAddressInUse(err)) throw new PortInUseError(config.host, config.port, `--port or "port" in ${values.config}`);
      throw err;
    }
    if (values.json) out(JSON.stringify({ listening_at: running.wsUrl }));
    else note(`tessera gateway listening at ${running.wsUrl}`);
    await untilStopped(() => running.close());
  },
};

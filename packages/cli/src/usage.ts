import type { Command } from './command.js';

export function mainUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`);
  return `Usage: tessera <command> [flags]

Commands:
${lines.join('\n')}

Run "tessera <command> --help" for a command's flags.
Exit codes: 0 success, 1 refused or failed ("error: CODE: message" on stderr), 2 bad usage.
`;
}

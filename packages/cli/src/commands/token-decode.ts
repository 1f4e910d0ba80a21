import { decodeUnverified } from '@tessera/core';

import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { formatJson, note, out } from '../io.js';
import { JSON_FLAG } from '../output.js';
import { readToken } from '../token-input.js';

export const UNVERIFIED_LABEL = 'UNVERIFIED: decoded without checking the signature or claims';

const usage = `Usage: tessera token decode [TOKEN] [--json]

Prints the header and payload of a compact JWT as { "header": ..., "payload": ... } WITHOUT verifying
anything: for inspection only. The token is read from the argument, else from standard input.
The output is JSON with or without --json.
`;

async function run(args: string[]): Promise<void> {
  const { positionals } = parseFlags(args, JSON_FLAG);
  const token = await readToken(positionals);
  const { header, payload } = decodeUnverified(token);
  note(UNVERIFIED_LABEL);
  out(formatJson({ header, payload }));
}

export const tokenDecode: Command = {
  name: 'token decode',
  summary: "show a token's header and payload, unverified",
  usage,
  run,
};

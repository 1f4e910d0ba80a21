#!/usr/bin/env node
import { readFileSync } from 'node:fs';

import type { Command } from './command.js';
import {
  clientsAdd,
  clientsDelete,
  clientsDisable,
  clientsEnable,
  clientsList,
  clientsRotateSecret,
} from './commands/clients.js';
import { gateway } from './commands/gateway.js';
import { init } from './commands/init.js';
import { issuersAdd, issuersList, issuersRemove, issuersShow } from './commands/issuers.js';
import {
  resourcesAdd,
  resourcesAddKey,
  resourcesList,
  resourcesRemove,
  resourcesRemoveKey,
  resourcesShow,
} from './commands/resources.js';
import { keysGenerate } from './commands/keys-generate.js';
import { keysImport, keysList, keysRetire, keysRotate } from './commands/keys-manage.js';
import { rolesAdd, rolesGrant, rolesList, rolesRevoke } from './commands/roles.js';
import { rpcCheck } from './commands/rpc-check.js';
import { serve } from './commands/serve.js';
import { tokenGet } from './commands/token-get.js';
import {
  usersAdd,
  usersDelete,
  usersDisable,
  usersEnable,
  usersList,
  usersSetPassword,
  usersSetProfile,
} from './commands/users.js';
import { tokenDecode } from './commands/token-decode.js';
import { tokenDecrypt } from './commands/token-decrypt.js';
import { tokenIntrospect } from './commands/token-introspect.js';
import { tokenRevoke } from './commands/token-revoke.js';
import { tokenSign } from './commands/token-sign.js';
import { tokenVerify } from './commands/token-verify.js';
import { HelpRequest } from './args.js';
import { nearest } from './did-you-mean.js';
import { UsageError } from './errors.js';
import { note, out } from './io.js';
import { redact } from './redact.js';
import { EXIT_OK, reportError } from './report-error.js';
import { mainUsage } from './usage.js';

const COMMANDS: readonly Command[] = [
  init,
  serve,
  gateway,
  usersAdd,
  usersList,
  usersDisable,
  usersEnable,
  usersDelete,
  usersSetPassword,
  usersSetProfile,
  rolesAdd,
  rolesList,
  rolesGrant,
  rolesRevoke,
  clientsAdd,
  clientsList,
  clientsDisable,
  clientsEnable,
  clientsDelete,
  clientsRotateSecret,
  issuersAdd,
  issuersList,
  issuersShow,
  issuersRemove,
  resourcesAdd,
  resourcesList,
  resourcesShow,
  resourcesAddKey,
  resourcesRemoveKey,
  resourcesRemove,
  keysGenerate,
  keysList,
  keysRotate,
  keysRetire,
  keysImport,
  tokenSign,
  tokenDecode,
  tokenDecrypt,
  tokenVerify,
  tokenGet,
  tokenRevoke,
  tokenIntrospect,
  rpcCheck,
];
const USAGE = mainUsage(COMMANDS);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The usage lines of a command (its text up to the first blank line) and where to find the rest. */
function synopsis(command: Command): string {
  return `${command.usage.split('\n\n')[0]}\nRun "tessera ${command.name} --help" for every flag.\n`;
}

const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h' || arg === 'help';
const MAX_ECHO = 40;

/** Runs one command line and returns the exit code; all output goes through stdout and stderr. */
async function main(argv: string[]): Promise<number> {
  const [group, action, ...rest] = argv;
  if (isHelp(group)) {
    out(USAGE);
    return EXIT_OK;
  }
  if (group === '--version' || group === '-v') {
    out(version());
    return EXIT_OK;
  }
  // One-word commands (init, serve) take every following argument; the others are `group action`.
  const single = COMMANDS.find((c) => c.name === group);
  const command = single ?? COMMANDS.find((c) => c.name === `${group} ${action}`);
  if (command === undefined) {
    const typed = [group, action].filter(Boolean).join(' ');
    const names = COMMANDS.map((c) => c.name);
    // "tokn get" -> "token get"; "serv" -> "serve" (a one-word command takes the rest as its arguments).
    const suggestion = group === undefined ? undefined : (nearest(typed, names) ?? nearest(group, names));
    const message =
      group === undefined
        ? 'no command given'
        : `unknown command "${redact(typed).slice(0, MAX_ECHO)}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
    const report = reportError(new UsageError(message), USAGE);
    note(report.text);
    return report.exitCode;
  }
  try {
    await command.run(single ? argv.slice(1) : rest);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof HelpRequest) {
      out(command.usage);
      return EXIT_OK;
    }
    const report = reportError(err, synopsis(command));
    note(report.text);
    return report.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));

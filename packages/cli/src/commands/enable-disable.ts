import type { TesseraServer } from '@tessera/server';

import { onePositional, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { LOCAL_OPTIONS, LOCAL_USAGE, withLocal, type ServerModule } from '../local.js';
import { JSON_FLAG, print } from '../output.js';

type Action = 'enable' | 'disable';

/** What differs between the `enable` / `disable` pairs of the kinds of account (users, clients). */
export interface EnableDisableSpec<R> {
  /** The command group: `users`, `clients`. */
  readonly group: string;
  /** The operand as the usage line shows it (`USERNAME`, `ID`) and as a usage error names it (`client ID`). */
  readonly operand: { readonly usage: string; readonly name: string };
  readonly summary: Readonly<Record<Action, string>>;
  /** The paragraph of the usage text. */
  readonly description: Readonly<Record<Action, string>>;
  /** Sets the account's `disabled` through the admin service (which revokes on disable); what --json prints. */
  set(server: TesseraServer, admin: ServerModule, operand: string, disabled: boolean): Promise<R>;
  /** The line printed without --json. */
  line(result: R, disabled: boolean): string;
}

/** The `tessera <group> enable` and `tessera <group> disable` commands of one kind of account. */
export function enableDisableCommands<R>(spec: EnableDisableSpec<R>): Readonly<Record<Action, Command>> {
  const command = (action: Action): Command => {
    const disabled = action === 'disable';
    return {
      name: `${spec.group} ${action}`,
      summary: spec.summary[action],
      usage: `Usage: tessera ${spec.group} ${action} ${spec.operand.usage} ${LOCAL_USAGE}\n\n${spec.description[action]}\n`,
      async run(args) {
        const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
        const operand = onePositional(positionals, spec.operand.name);
        const result = await withLocal(values, (server, admin) => spec.set(server, admin, operand, disabled));
        print(values.json, result, () => spec.line(result, disabled));
      },
    };
  };
  return { enable: command('enable'), disable: command('disable') };
}

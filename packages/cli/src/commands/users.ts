import { randomBytes } from 'node:crypto';

import { noPositionals, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
import { formatJson, note, out, readStdin } from '../io.js';
import { LOCAL_OPTIONS, serverModule, withLocal } from '../local.js';

const JSON_FLAG = { json: { type: 'boolean' } } as const;

async function oneUsername(positionals: string[]): Promise<string> {
  if (positionals.length !== 1) throw new UsageError('give exactly one USERNAME');
  const { normalizeUsername } = await serverModule();
  const u = normalizeUsername(positionals[0]);
  if (u === undefined) throw new UsageError('invalid username');
  return u;
}

export const usersAdd: Command = {
  name: 'users add',
  summary: 'create a user',
  usage: `Usage: tessera users add USERNAME [--role ROLE]... [--password-stdin] [--json] [--config FILE | --dir DIR]

Creates a user. The password is read from standard input with --password-stdin (never from the command
line); otherwise a random one is generated and printed once.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      role: { type: 'string', multiple: true },
      'password-stdin': { type: 'boolean' },
    });
    const username = await oneUsername(positionals);
    let password: string;
    let generated = false;
    if (values['password-stdin']) {
      const input = await readStdin('password');
      if (input === undefined) throw new UsageError('--password-stdin needs the password piped on standard input');
      password = input.replace(/\r?\n$/, '');
    } else {
      password = randomBytes(18).toString('base64url');
      generated = true;
    }
    const { createUserAccount, UserInputError } = await serverModule();
    const user = await withLocal(values, async (server) => {
      try {
        const u = await createUserAccount(server.context.store, { username, password, roles: values.role ?? [] }, Date.now());
        await server.context.audit.record({
          type: 'admin.user.created',
          outcome: 'success',
          actor: 'cli',
          subject: u.id,
          data: { username, roles: u.roles },
        });
        return u;
      } catch (err) {
        if (err instanceof UserInputError) throw new InputError(err.message);
        throw err;
      }
    });
    const shown = { id: user.id, username: user.username, roles: user.roles, ...(generated ? { password } : {}) };
    if (values.json) out(formatJson(shown));
    else out(`created user ${user.username} (${user.id})${generated ? `\npassword: ${password}` : ''}`);
    if (generated) note('The generated password is shown once.');
  },
};

export const usersList: Command = {
  name: 'users list',
  summary: 'list users',
  usage: `Usage: tessera users list [--json] [--config FILE | --dir DIR]\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const users = await withLocal(values, (s) => s.context.store.listUsers(10_000));
    const rows = users.map((u) => ({ id: u.id, username: u.username, roles: u.roles, disabled: u.disabled }));
    if (values.json) out(formatJson(rows));
    else
      out(
        rows
          .map((u) => `${u.username}\t${u.id}\t${u.roles.join(',') || '-'}\t${u.disabled ? 'disabled' : 'active'}`)
          .join('\n') || '(no users)',
      );
  },
};

export const usersDisable: Command = {
  name: 'users disable',
  summary: 'disable a user and revoke their tokens',
  usage: `Usage: tessera users disable USERNAME [--json] [--config FILE | --dir DIR]

Disables the user and revokes every refresh-token family and access token they hold.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const username = await oneUsername(positionals);
    const { revokeEverything } = await serverModule();
    const result = await withLocal(values, async (server) => {
      const ctx = server.context;
      const user = await ctx.store.getUserByUsername(username);
      if (!user) throw new InputError(`no user named ${username}`);
      await ctx.store.updateUser(user.id, { disabled: true }, Date.now());
      await ctx.audit.record({ type: 'admin.user.disabled', outcome: 'success', actor: 'cli', subject: user.id });
      const { families } = await revokeEverything(ctx, { kind: 'subject', id: user.id }, 'user_disabled', {
        actor: 'cli',
        ip: 'local',
      });
      return { id: user.id, username, disabled: true, revokedSessions: families };
    });
    if (values.json) out(formatJson(result));
    else out(`disabled ${username}; revoked ${result.revokedSessions} session(s) and every access token issued before now`);
  },
};

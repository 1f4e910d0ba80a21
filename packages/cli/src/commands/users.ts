import { randomBytes } from 'node:crypto';

import { hashPassword, normalizeUsername, StoreConflictError } from '@tessera/server';

import { noPositionals, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
import { formatJson, note, out, readStdin } from '../io.js';
import { LOCAL_OPTIONS, withLocal } from '../local.js';

const JSON_FLAG = { json: { type: 'boolean' } } as const;

function oneUsername(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError('give exactly one USERNAME');
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
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG, role: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' } });
    const username = oneUsername(positionals);
    let password: string;
    let generated = false;
    if (values['password-stdin']) {
      const input = await readStdin('password');
      if (input === undefined) throw new UsageError('--password-stdin needs the password piped on standard input');
      password = input.replace(/\r?\n$/, '');
      if (password.length < 8) throw new InputError('the password must have at least 8 characters');
    } else {
      password = randomBytes(18).toString('base64url');
      generated = true;
    }
    const user = await withLocal(values, async (server) => {
      const now = Date.now();
      const u = { id: crypto.randomUUID(), username, passwordHash: await hashPassword(password), disabled: false, roles: values.role ?? [], createdAt: now, updatedAt: now };
      try {
        await server.context.store.createUser(u);
      } catch (err) {
        if (err instanceof StoreConflictError) throw new InputError(`a user named ${username} exists`);
        throw err;
      }
      await server.context.audit.record({ type: 'admin.user.created', outcome: 'success', actor: 'cli', subject: u.id, data: { username, roles: u.roles } });
      return u;
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
    else out(rows.map((u) => `${u.username}\t${u.id}\t${u.roles.join(',') || '-'}\t${u.disabled ? 'disabled' : 'active'}`).join('\n') || '(no users)');
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
    const username = oneUsername(positionals);
    const result = await withLocal(values, async (server) => {
      const ctx = server.context;
      const user = await ctx.store.getUserByUsername(username);
      if (!user) throw new InputError(`no user named ${username}`);
      const now = Date.now();
      await ctx.store.updateUser(user.id, { disabled: true }, now);
      const families = await ctx.store.revokeRefreshFamiliesOf({ userId: user.id }, 'user_disabled', now);
      await ctx.revocations.revoke('subject', user.id, { cutoff: now, expiresAt: now + 86_460_000, reason: 'user_disabled', now });
      await ctx.audit.record({ type: 'admin.user.disabled', outcome: 'success', actor: 'cli', subject: user.id });
      return { id: user.id, username, disabled: true, revokedSessions: families.length };
    });
    if (values.json) out(formatJson(result));
    else out(`disabled ${username}; revoked ${result.revokedSessions} session(s) and every access token issued before now`);
  },
};

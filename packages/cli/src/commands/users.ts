import { randomBytes } from 'node:crypto';

import { noPositionals, onePositional, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { note, readStdin } from '../io.js';
import { LOCAL_OPTIONS, LOCAL_USAGE, withLocal } from '../local.js';
import { JSON_FLAG, print } from '../output.js';

import { enableDisableCommands } from './enable-disable.js';

const WHERE = LOCAL_USAGE;

const oneUsername = (positionals: string[]): string => onePositional(positionals, 'USERNAME');

/** A password piped on standard input (its one trailing newline dropped); never a command-line argument. */
async function passwordFromStdin(flag: string): Promise<string> {
  const input = await readStdin('password');
  const password = input?.replace(/\r?\n$/, '');
  if (password === undefined || password.length === 0) throw new UsageError(`${flag} needs the password piped on standard input`);
  return password;
}

export const usersAdd: Command = {
  name: 'users add',
  summary: 'create a user',
  usage: `Usage: tessera users add USERNAME [--role ROLE]... [--password-stdin] ${WHERE}

Creates a user. The password is read from standard input with --password-stdin (never from the command
line); otherwise a random one is generated and printed once. Each --role must exist ("tessera roles list").

Example: printf '%s\\n' "$PASSWORD" | tessera users add carol --role admin --password-stdin
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      role: { type: 'string', multiple: true },
      'password-stdin': { type: 'boolean' },
    });
    const username = oneUsername(positionals);
    const generated = values['password-stdin'] !== true;
    const password = generated ? randomBytes(18).toString('base64url') : await passwordFromStdin('--password-stdin');
    const user = await withLocal(values, async (s, admin) =>
      admin.userView(await s.admin.users.create(admin.CLI_ACTOR, { username, password, roles: values.role ?? [] })),
    );
    print(
      values.json,
      { ...user, ...(generated ? { password } : {}) },
      () => `created user ${user.username} (${user.id})${generated ? `\npassword: ${password}` : ''}`,
    );
    if (generated) note('The generated password is shown once.');
  },
};

export const usersList: Command = {
  name: 'users list',
  summary: 'list users',
  usage: `Usage: tessera users list ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const rows = await withLocal(values, async (s, admin) => {
      const all = [];
      for (let after: string | undefined; ;) {
        const page = await s.admin.users.list(500, after);
        all.push(...page.map(admin.userView));
        if (page.length < 500) return all;
        after = page[page.length - 1]!.username;
      }
    });
    print(
      values.json,
      rows,
      () =>
        rows
          .map((u) => `${u.username}\t${u.id}\t${u.roles.join(',') || '-'}\t${u.disabled ? 'disabled' : 'active'}`)
          .join('\n') || '(no users)',
    );
  },
};

const enableDisable = enableDisableCommands({
  group: 'users',
  operand: { usage: 'USERNAME', name: 'USERNAME' },
  summary: { disable: 'disable a user and revoke their tokens', enable: 'enable a disabled user' },
  description: {
    disable: 'Disables the user and revokes every refresh-token family and access token they hold.',
    enable: 'Lets the user log in again. Tokens revoked when they were disabled stay revoked.',
  },
  async set(s, admin, username, disabled) {
    const user = await s.admin.users.find({ username });
    const done = await s.admin.users.setDisabled(admin.CLI_ACTOR, user.id, disabled);
    return { ...admin.userView(done.user), revoked_sessions: done.revokedSessions };
  },
  line: (r, disabled) =>
    disabled
      ? `disabled ${r.username}; revoked ${r.revoked_sessions} session(s) and every access token issued before now`
      : `enabled ${r.username}`,
});
export const usersDisable = enableDisable.disable;
export const usersEnable = enableDisable.enable;

export const usersDelete: Command = {
  name: 'users delete',
  summary: 'delete a user and revoke their tokens',
  usage: `Usage: tessera users delete USERNAME ${WHERE}

Revokes every refresh-token family and access token of the user, then deletes the user.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const username = oneUsername(positionals);
    const r = await withLocal(values, async (s, admin) => {
      const user = await s.admin.users.find({ username });
      const { revokedSessions } = await s.admin.users.delete(admin.CLI_ACTOR, user.id);
      return { id: user.id, username: user.username, deleted: true, revoked_sessions: revokedSessions };
    });
    print(values.json, r, () => `deleted ${r.username}; revoked ${r.revoked_sessions} session(s)`);
  },
};

export const usersSetPassword: Command = {
  name: 'users set-password',
  summary: "set a user's password (read from standard input)",
  usage: `Usage: tessera users set-password USERNAME ${WHERE}

Reads the new password from standard input (never from the command line) and ends every session the
user started with the old one.

Example: printf '%s\\n' "$NEW_PASSWORD" | tessera users set-password carol
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const username = oneUsername(positionals);
    const password = await passwordFromStdin('users set-password');
    const r = await withLocal(values, async (s, admin) => {
      const user = await s.admin.users.find({ username });
      const { revokedSessions } = await s.admin.users.setPassword(admin.CLI_ACTOR, user.id, password);
      return { id: user.id, username: user.username, revoked_sessions: revokedSessions };
    });
    print(values.json, r, () => `password of ${r.username} set; revoked ${r.revoked_sessions} session(s)`);
  },
};

/** The profile flags of `users set-profile`, by the claim each sets. */
const PROFILE_FLAGS = {
  name: 'name',
  'given-name': 'given_name',
  'family-name': 'family_name',
  email: 'email',
} as const;

export const usersSetProfile: Command = {
  name: 'users set-profile',
  summary: "set a user's OpenID Connect profile (name, email)",
  usage: `Usage: tessera users set-profile USERNAME [--name NAME] [--given-name NAME] [--family-name NAME]
       [--email ADDRESS] [--email-verified | --email-unverified] [--clear CLAIM]... ${WHERE}

Sets the standard claims that /userinfo returns for the profile and email scopes; the others stay as they
are. --clear removes one (name, given_name, family_name or email). A new --email is unverified unless
--email-verified is given too.

Example: tessera users set-profile carol --name "Carol Example" --email carol@example.com --email-verified
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      name: { type: 'string' },
      'given-name': { type: 'string' },
      'family-name': { type: 'string' },
      email: { type: 'string' },
      'email-verified': { type: 'boolean' },
      'email-unverified': { type: 'boolean' },
      clear: { type: 'string', multiple: true },
    });
    const username = oneUsername(positionals);
    const profile: Record<string, string | boolean | null> = {};
    for (const [flag, claim] of Object.entries(PROFILE_FLAGS)) {
      const value = values[flag as keyof typeof PROFILE_FLAGS];
      if (value !== undefined) profile[claim] = value;
    }
    for (const claim of values.clear ?? []) {
      if (!Object.values(PROFILE_FLAGS).includes(claim as never))
        throw new UsageError(`--clear takes one of ${Object.values(PROFILE_FLAGS).join(', ')}`);
      if (claim in profile) throw new UsageError(`${claim} is both set and cleared`);
      profile[claim] = null;
    }
    if (values['email-verified'] === true && values['email-unverified'] === true)
      throw new UsageError('give --email-verified or --email-unverified, not both');
    if (values['email-verified'] === true) profile.email_verified = true;
    if (values['email-unverified'] === true) profile.email_verified = false;
    if (Object.keys(profile).length === 0) throw new UsageError('give at least one claim to set or clear');
    const user = await withLocal(values, async (s, admin) => {
      const found = await s.admin.users.find({ username });
      return admin.userView(await s.admin.users.setProfile(admin.CLI_ACTOR, found.id, profile));
    });
    print(values.json, user, () => `profile of ${user.username} set`);
  },
};

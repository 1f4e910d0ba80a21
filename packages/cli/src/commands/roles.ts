import { noPositionals, onePositional, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { LOCAL_OPTIONS, LOCAL_USAGE, withLocal } from '../local.js';
import { JSON_FLAG, print } from '../output.js';

const WHERE = LOCAL_USAGE;

export const rolesAdd: Command = {
  name: 'roles add',
  summary: 'create a role and the scopes it grants',
  usage: `Usage: tessera roles add NAME --permission SCOPE... ${WHERE}

Creates a role. Users holding it get its permissions (scopes) in their tokens, within what the client may
request. An existing role is refused: roles are not rewritten by accident.

Example: tessera roles add buyer --permission orders:read --permission orders:write
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      permission: { type: 'string', multiple: true },
    });
    const name = onePositional(positionals, 'role NAME');
    const role = await withLocal(values, async (s, admin) =>
      admin.roleView(await s.admin.roles.put(admin.CLI_ACTOR, name, values.permission ?? [], { replace: false })),
    );
    print(values.json, role, () => `created role ${role.name} (${role.permissions.join(' ') || 'no permissions'})`);
  },
};

export const rolesList: Command = {
  name: 'roles list',
  summary: 'list roles and their permissions',
  usage: `Usage: tessera roles list ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const roles = await withLocal(values, async (s, admin) => (await s.admin.roles.list()).map(admin.roleView));
    print(values.json, roles, () => roles.map((r) => `${r.name}\t${r.permissions.join(' ') || '-'}`).join('\n') || '(no roles)');
  },
};

function grantOrRevoke(grant: boolean): Command {
  const action = grant ? 'grant' : 'revoke';
  return {
    name: `roles ${action}`,
    summary: grant ? 'give a user a role' : 'take a role from a user',
    usage: `Usage: tessera roles ${action} ROLE USERNAME ${WHERE}

${
  grant
    ? 'Gives the user the role; an unknown role is refused with the known ones named.'
    : 'Takes the role from the user. Tokens already issued keep their scopes until they expire; run\n"tessera users disable" to cut them off at once.'
}
`,
    async run(args) {
      const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
      if (positionals.length !== 2) throw new UsageError('give a ROLE and a USERNAME');
      const [role, username] = positionals as [string, string];
      const user = await withLocal(values, async (s, admin) => {
        const found = await s.admin.users.find({ username });
        const change = grant ? s.admin.users.grantRole : s.admin.users.revokeRole;
        return admin.userView(await change(admin.CLI_ACTOR, found.id, role));
      });
      print(values.json, user, () => `${user.username} holds ${user.roles.join(', ') || 'no roles'}`);
    },
  };
}

export const rolesGrant = grantOrRevoke(true);
export const rolesRevoke = grantOrRevoke(false);

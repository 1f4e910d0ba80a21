import type { ClientInput } from '@tessera/server/internal';

import { noPositionals, nonNegativeInteger, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
import { formatJson, note, out, readInputFile } from '../io.js';
import { LOCAL_OPTIONS, serverModule, withLocal } from '../local.js';

const JSON_FLAG = { json: { type: 'boolean' } } as const;

export const clientsAdd: Command = {
  name: 'clients add',
  summary: 'register a client',
  usage: `Usage: tessera clients add ID --grant GRANT... [--scope "a:b c:d"] [--audience AUD]...
                          [--auth-method METHOD] [--jwks FILE] [--first-party] [--may-impersonate]
                          [--access-token-ttl S]
                          [--json] [--config FILE | --dir DIR]

Registers a client. For secret-based methods the secret is printed once.

  --grant G            client_credentials, password (first-party only), refresh_token,
                       urn:ietf:params:oauth:grant-type:token-exchange; repeatable
  --scope S            the scopes the client may request, space-separated
  --audience A         an audience (resource) the client may request tokens for; repeatable
  --auth-method M      client_secret_basic (default), client_secret_post or private_key_jwt
  --jwks FILE          the client's public JWKS (private_key_jwt)
  --first-party        a first-party client (may use the password grant)
  --may-impersonate    token exchange without an act claim naming this client (impersonation)
  --access-token-ttl S access-token lifetime for this client, seconds

Example: tessera clients add orders --grant client_credentials --scope "inventory:read" --audience inventory --json
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      grant: { type: 'string', multiple: true },
      scope: { type: 'string' },
      audience: { type: 'string', multiple: true },
      'auth-method': { type: 'string' },
      jwks: { type: 'string' },
      'first-party': { type: 'boolean' },
      'may-impersonate': { type: 'boolean' },
      'access-token-ttl': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one client ID');
    const { AUTH_METHODS, ClientInputError, GRANT_TYPES, publicClient, registerClient } = await serverModule();
    const grants = values.grant ?? [];
    if (grants.length === 0) throw new UsageError('--grant is required');
    for (const g of grants)
      if (!(GRANT_TYPES as readonly string[]).includes(g))
        throw new UsageError(`--grant must be one of ${GRANT_TYPES.join(', ')}`);
    const method = values['auth-method'];
    if (method !== undefined && !(AUTH_METHODS as readonly string[]).includes(method))
      throw new UsageError(`--auth-method must be one of ${AUTH_METHODS.join(', ')}`);
    let jwks: ClientInput['jwks'];
    if (values.jwks !== undefined) {
      try {
        jwks = JSON.parse((await readInputFile(values.jwks, 'JWKS file')).toString('utf8')) as ClientInput['jwks'];
      } catch (err) {
        if (err instanceof SyntaxError) throw new InputError(`${values.jwks} is not valid JSON`);
        throw err;
      }
    }
    const input: ClientInput = {
      id: positionals[0],
      grantTypes: grants as ClientInput['grantTypes'],
      scopes: values.scope ? values.scope.split(' ').filter(Boolean) : [],
      audiences: values.audience ?? [],
      authMethod: method as ClientInput['authMethod'],
      jwks,
      firstParty: values['first-party'] ?? false,
      mayImpersonate: values['may-impersonate'] ?? false,
      accessTokenTtl:
        values['access-token-ttl'] !== undefined ? nonNegativeInteger(values['access-token-ttl'], '--access-token-ttl') : null,
    };
    const result = await withLocal(values, async (server) => {
      try {
        const r = await registerClient(server.context.store, server.context.master, input, Date.now());
        await server.context.audit.record({
          type: 'admin.client.created',
          outcome: 'success',
          actor: 'cli',
          clientId: r.client.id,
          data: { grantTypes: r.client.grantTypes },
        });
        return r;
      } catch (err) {
        if (err instanceof ClientInputError) throw new InputError(err.message);
        throw err;
      }
    });
    const shown = { ...publicClient(result.client), ...(result.secret ? { client_secret: result.secret } : {}) };
    if (values.json) out(formatJson(shown));
    else out(`registered client ${result.client.id}${result.secret ? `\nclient_secret: ${result.secret}` : ''}`);
    if (result.secret) note('The client secret is shown once.');
  },
};

export const clientsList: Command = {
  name: 'clients list',
  summary: 'list clients',
  usage: `Usage: tessera clients list [--json] [--config FILE | --dir DIR]\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const { publicClient } = await serverModule();
    const clients = (await withLocal(values, (s) => s.context.store.listClients())).map(publicClient);
    if (values.json) out(formatJson(clients));
    else
      out(
        clients
          .map(
            (c) =>
              `${c.id}\t${c.authMethod}\t${c.grantTypes.join(',')}\t${c.scopes.join(' ') || '-'}\t${c.audiences.join(',') || '-'}${c.disabled ? '\tdisabled' : ''}`,
          )
          .join('\n') || '(no clients)',
      );
  },
};

export const clientsRotateSecret: Command = {
  name: 'clients rotate-secret',
  summary: "replace a client's secret (the old one stays valid for an overlap)",
  usage: `Usage: tessera clients rotate-secret ID [--overlap SECONDS] [--json] [--config FILE | --dir DIR]

Issues a new secret, printed once. The previous secret keeps working for --overlap seconds (default 86400).
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG, overlap: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('give exactly one client ID');
    const overlap = values.overlap !== undefined ? nonNegativeInteger(values.overlap, '--overlap') : 86_400;
    const { ClientInputError, rotateClientSecret } = await serverModule();
    const secret = await withLocal(values, async (server) => {
      const client = await server.context.store.getClient(positionals[0]!);
      if (!client) throw new InputError(`no client ${positionals[0]}`);
      try {
        const s = await rotateClientSecret(server.context.store, server.context.master, client, overlap, Date.now());
        await server.context.audit.record({
          type: 'admin.client.secret_rotated',
          outcome: 'success',
          actor: 'cli',
          clientId: client.id,
          data: { overlapSeconds: overlap },
        });
        return s;
      } catch (err) {
        if (err instanceof ClientInputError) throw new InputError(err.message);
        throw err;
      }
    });
    if (values.json)
      out(formatJson({ client_id: positionals[0], client_secret: secret, previousSecretsValidForSeconds: overlap }));
    else out(`client_secret: ${secret}\nthe previous secret stays valid for ${overlap} s`);
    note('The client secret is shown once.');
  },
};

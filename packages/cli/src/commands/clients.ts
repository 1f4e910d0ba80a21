import type { ClientInput } from '@tessera/server/internal';

import { noPositionals, nonNegativeInteger, onePositional, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
import { note, readInputFile } from '../io.js';
import { LOCAL_OPTIONS, LOCAL_USAGE, serverModule, withLocal } from '../local.js';
import { isoTime, JSON_FLAG, print } from '../output.js';

import { enableDisableCommands } from './enable-disable.js';

const WHERE = LOCAL_USAGE;

/** The flags naming a tls_client_auth client's subject (RFC 8705 section 2.1.2), and the kind each names. */
const TLS_SUBJECT_FLAGS = [
  ['tls-subject-dn', 'subject_dn'],
  ['tls-san-dns', 'san_dns'],
  ['tls-san-uri', 'san_uri'],
  ['tls-san-ip', 'san_ip'],
  ['tls-san-email', 'san_email'],
] as const;

const oneClientId = (positionals: string[]): string => onePositional(positionals, 'client ID');

export const clientsAdd: Command = {
  name: 'clients add',
  summary: 'register a client',
  usage: `Usage: tessera clients add ID --grant GRANT... [--scope "a:b c:d"] [--audience AUD]...
                          [--auth-method METHOD | --public] [--jwks FILE] [--first-party] [--may-impersonate]
                          [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--require-par] [--dpop-bound]
                          [--tls-subject-dn DN | --tls-san-dns NAME | --tls-san-uri URI | --tls-san-ip IP
                          | --tls-san-email ADDR] [--mtls-bound]
                          [--id-token-alg ALG] [--access-token-ttl S] [--refresh-token-ttl S]
                          ${WHERE}

Registers a client. For secret-based methods the secret is printed once.

  --grant G             authorization_code, client_credentials, password (first-party only),
                        refresh_token, urn:ietf:params:oauth:grant-type:token-exchange,
                        urn:ietf:params:oauth:grant-type:jwt-bearer; repeatable
  --scope S             the scopes the client may request, space-separated
  --audience A          an audience (resource) the client may request tokens for; repeatable
  --auth-method M       client_secret_basic (default), client_secret_post, private_key_jwt,
                        workload_identity (no secret: a trusted workload issuer's token, see
                        tessera issuers), tls_client_auth or self_signed_tls_client_auth (no secret:
                        the client's certificate over mutual TLS, RFC 8705) or none
  --public              a public client (a browser or native app): no secret, the same as
                        --auth-method none; grants authorization_code and refresh_token only
  --jwks FILE           the client's public JWKS (private_key_jwt), or its certificates, each key
                        with its x5c (self_signed_tls_client_auth)
  --first-party         a first-party client (may use the password grant; with the hosted login,
                        its users will sign in without a consent screen)
  --may-impersonate     token exchange without an act claim naming this client (impersonation)
  --redirect-uri URI    where sign-in may return (authorization_code): https, http on 127.0.0.1
                        or [::1] (any port), or a private-use scheme such as com.example.app:/cb;
                        compared exactly; repeatable
  --post-logout-redirect-uri URI
                        where logout may return, same rules; repeatable
  --require-par         the client must push its authorization requests (RFC 9126)
  --dpop-bound          every token request of the client must carry a DPoP proof, so its access
                        tokens are always bound to its key (RFC 9449 dpop_bound_access_tokens)
  --tls-subject-dn DN   tls_client_auth: the subject DN its certificate must have (RFC 4514, the
                        most specific first: 'CN=orders,O=Acme'); or instead, exactly one of
  --tls-san-dns NAME, --tls-san-uri URI, --tls-san-ip IP, --tls-san-email ADDR
                        a subjectAltName its certificate must hold (issued by the server's tlsClientCa)
  --mtls-bound          every token request of the client must come over mutual TLS with a client
                        certificate, to which its access tokens are bound (RFC 8705
                        tls_client_certificate_bound_access_tokens)
  --id-token-alg ALG    OpenID Connect: sign this client's ID tokens with ES256, EdDSA or RS256 (the
                        ones the server keeps keys for; default: the server's signingAlg)
  --access-token-ttl S  access-token lifetime for this client, 30 to 86400 seconds (default: the
                        server's accessTokenTtl)
  --refresh-token-ttl S refresh-token idle lifetime for this client, 60 to 31536000 seconds
                        (default: the server's refreshTokenTtl)

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
      public: { type: 'boolean' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'require-par': { type: 'boolean' },
      'dpop-bound': { type: 'boolean' },
      'tls-subject-dn': { type: 'string' },
      'tls-san-dns': { type: 'string' },
      'tls-san-uri': { type: 'string' },
      'tls-san-ip': { type: 'string' },
      'tls-san-email': { type: 'string' },
      'mtls-bound': { type: 'boolean' },
      'id-token-alg': { type: 'string' },
      'access-token-ttl': { type: 'string' },
      'refresh-token-ttl': { type: 'string' },
    });
    const id = oneClientId(positionals);
    const { AUTH_METHODS, GRANT_TYPES } = await serverModule();
    const grants = values.grant ?? [];
    if (grants.length === 0) throw new UsageError('--grant is required');
    for (const g of grants)
      if (!(GRANT_TYPES as readonly string[]).includes(g))
        throw new UsageError(`--grant must be one of ${GRANT_TYPES.join(', ')}`);
    if (values.public && values['auth-method'] !== undefined && values['auth-method'] !== 'none')
      throw new UsageError('--public is --auth-method none; give one of them');
    const method = values.public ? 'none' : values['auth-method'];
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
    const subjects = TLS_SUBJECT_FLAGS.filter(([flag]) => values[flag] !== undefined);
    if (subjects.length > 1) throw new UsageError(`give at most one of ${TLS_SUBJECT_FLAGS.map(([f]) => `--${f}`).join(', ')}`);
    const tlsSubject = subjects[0] && { kind: subjects[0][1], value: values[subjects[0][0]]! };
    const seconds = (flag: 'access-token-ttl' | 'refresh-token-ttl') => {
      const v = values[flag];
      return v === undefined ? null : nonNegativeInteger(v, `--${flag}`);
    };
    const input: ClientInput = {
      id,
      grantTypes: grants as ClientInput['grantTypes'],
      scopes: values.scope ? values.scope.split(' ').filter(Boolean) : [],
      audiences: values.audience ?? [],
      authMethod: method as ClientInput['authMethod'],
      jwks,
      firstParty: values['first-party'] ?? false,
      mayImpersonate: values['may-impersonate'] ?? false,
      redirectUris: values['redirect-uri'] ?? [],
      postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
      requirePar: values['require-par'] ?? false,
      dpopBoundAccessTokens: values['dpop-bound'] ?? false,
      tlsClientCertificateBoundAccessTokens: values['mtls-bound'] ?? false,
      ...(tlsSubject ? { tlsClientAuthSubject: tlsSubject } : {}),
      idTokenSignedResponseAlg: (values['id-token-alg'] as ClientInput['idTokenSignedResponseAlg']) ?? null,
      accessTokenTtl: seconds('access-token-ttl'),
      refreshTokenTtl: seconds('refresh-token-ttl'),
    };
    const shown = await withLocal(values, async (s, admin) => {
      const { client, secret } = await s.admin.clients.create(admin.CLI_ACTOR, input);
      return { ...admin.clientView(client), ...(secret ? admin.issuedSecretView(secret) : {}) };
    });
    const secret = 'client_secret' in shown ? shown.client_secret : undefined;
    print(values.json, shown, () => `registered client ${shown.client_id}${secret ? `\nclient_secret: ${secret}` : ''}`);
    if (secret) note('The client secret is shown once.');
  },
};

export const clientsList: Command = {
  name: 'clients list',
  summary: 'list clients',
  usage: `Usage: tessera clients list ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const clients = await withLocal(values, async (s, admin) => (await s.admin.clients.list()).map(admin.clientView));
    print(
      values.json,
      clients,
      () =>
        clients
          .map(
            (c) =>
              `${c.client_id}\t${c.token_endpoint_auth_method}\t${c.grant_types.join(',')}\t${c.scope || '-'}\t${c.audiences.join(',') || '-'}${c.disabled ? '\tdisabled' : ''}`,
          )
          .join('\n') || '(no clients)',
    );
  },
};

const enableDisable = enableDisableCommands({
  group: 'clients',
  operand: { usage: 'ID', name: 'client ID' },
  summary: { disable: 'disable a client and revoke its tokens', enable: 'enable a disabled client' },
  description: {
    disable: 'Refuses the client at the token endpoint and revokes every session and access token it holds.',
    enable: 'Lets the client get tokens again. Tokens revoked when it was disabled stay revoked.',
  },
  set: async (s, admin, id, disabled) => admin.clientView(await s.admin.clients.setDisabled(admin.CLI_ACTOR, id, disabled)),
  line: (c, disabled) => `${disabled ? 'disabled' : 'enabled'} client ${c.client_id}`,
});
export const clientsDisable = enableDisable.disable;
export const clientsEnable = enableDisable.enable;

export const clientsDelete: Command = {
  name: 'clients delete',
  summary: 'delete a client and revoke its tokens',
  usage: `Usage: tessera clients delete ID ${WHERE}

Revokes every session and access token of the client, then deletes it.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const id = oneClientId(positionals);
    const r = await withLocal(values, async (s, admin) => {
      const { revokedSessions } = await s.admin.clients.delete(admin.CLI_ACTOR, id);
      return { client_id: id, deleted: true, revoked_sessions: revokedSessions };
    });
    print(values.json, r, () => `deleted client ${id}; revoked ${r.revoked_sessions} session(s)`);
  },
};

export const clientsRotateSecret: Command = {
  name: 'clients rotate-secret',
  summary: "replace a client's secret (the old one stays valid for an overlap)",
  usage: `Usage: tessera clients rotate-secret ID [--overlap SECONDS] ${WHERE}

Issues a new secret, printed once. The previous secret keeps working for --overlap seconds (default
86400, at most 2592000); the output states the instant it stops (previous_secrets_expire_at).
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG, overlap: { type: 'string' } });
    const id = oneClientId(positionals);
    const overlap = values.overlap !== undefined ? nonNegativeInteger(values.overlap, '--overlap') : undefined;
    const r = await withLocal(values, async (s, admin) => {
      const done = await s.admin.clients.rotateSecret(admin.CLI_ACTOR, id, overlap);
      return {
        client_id: done.client.id,
        ...admin.issuedSecretView(done.secret),
        previous_secrets_expire_at: admin.epochSeconds(done.previousExpireAt),
      };
    });
    print(
      values.json,
      r,
      () => `client_secret: ${r.client_secret}\nthe previous secret stops working at ${isoTime(r.previous_secrets_expire_at)}`,
    );
    note('The client secret is shown once.');
  },
};

import { ALGORITHMS, type Algorithm } from '@tessera/core';
import type { SettingSpec } from '@tessera/core/internal';

/** The algorithms of key pairs: a gateway never holds the server's HMAC secret. */
const ASYMMETRIC = (Object.keys(ALGORITHMS) as Algorithm[]).filter((a) => ALGORITHMS[a].kty !== 'oct');

/**
 * Every setting of `tessera gateway`'s config file, in one place, checked by the settings engine of
 * @tessera/core that also checks the auth server's. A dotted name is a member of an object in the file
 * (`"tls": { "certFile": "..." }`). docs/configuration.md's gateway section is generated from this table
 * (`node scripts/config-doc.mjs`) and a test keeps the two equal.
 */
export const GATEWAY_SETTINGS = {
  issuer: {
    type: 'url',
    required: true,
    invalid: 'must be the auth server URL',
    doc: "The auth server's URL (its `iss`). The gateway's keys come from it: the verifier fetches the JWKS at `<issuer>/.well-known/jwks.json`, caches it, and refetches once (with a cooldown) on an unknown `kid`; there is no key file.",
  },
  audience: {
    type: 'string',
    default: 'realtime',
    doc: 'The `aud` every token must carry: the tokens of connecting users and the service tokens of the server API (one verifier checks both). Register the clients that get tokens for the gateway with this audience.',
  },
  algorithms: {
    type: 'list',
    values: ASYMMETRIC,
    min: 1,
    default: ['ES256', 'EdDSA', 'RS256'],
    invalid: 'must list asymmetric algorithms (ES256, EdDSA, RS256)',
    doc: "The accepted signing algorithms; must include the server's `signingAlg`. HMAC algorithms are refused: a gateway never shares the server's secret.",
  },
  externalOrigin: {
    type: 'url',
    invalid: 'must be an http(s) origin such as https://rt.example.com, without a path',
    doc: "The origin clients connect to (`https://rt.example.com` for `wss://rt.example.com/connection/websocket`), behind a proxy or a load balancer: a DPoP proof sent with connect or refresh names this origin and the WebSocket path. Unset: the upgrade request's `Host` header, which the client chooses.",
  },
  decryptionKeyFile: {
    type: 'path',
    invalid: 'must be a file name',
    doc: "The gateway's private key(s) for encrypted access tokens (docs/encrypted-tokens.md: a resource registered with `tessera resources add --encrypt`, its identifier the gateway's `audience`): a private JWK (what `tessera keys generate --use enc` writes), a JSON list of them, or a JWKS, read at start-up. Then only encrypted tokens are accepted. During a key rotation list both keys. Unset: tokens are signed only.",
  },
  host: {
    type: 'string',
    default: '127.0.0.1',
    doc: 'Address to listen on (`0.0.0.0` for every interface). `--host` overrides it.',
  },
  port: {
    type: 'integer',
    min: 0,
    max: 65535,
    default: 8000,
    invalid: 'must be a port number',
    doc: 'Port to listen on (0: any free port; the `listening at` line names the one it got). `--port` overrides it. A port in use exits 1 with `ERR_PORT_IN_USE`.',
  },
  'tls.certFile': {
    type: 'path',
    invalid: 'must be a file name',
    doc: 'PEM certificate (chain); with `tls.keyFile`, the gateway serves `wss://` and `https://` (server API, `/healthz`).',
  },
  'tls.keyFile': { type: 'path', invalid: 'must be a file name', doc: 'PEM private key of `tls.certFile`.' },
  'channels.namespaces': {
    type: 'object',
    required: true,
    invalid: 'must be an object of namespaces by name ({} for none)',
    doc: 'The namespaces, by name, each with its namespace options (`history`, `presence`, `joinLeave`, `subscriptionTokenRequired`; see packages/realtime/README.md, "Channels and rights"); `{}` for none. A channel in any other namespace is refused (error 102).',
  },
  'channels.personal': {
    type: 'object',
    orFalse: true,
    doc: 'Options of the personal channels `user#<sub>` (the same namespace options), or `false` to turn them off. Default `{}`.',
  },
  redisUrl: {
    env: 'TESSERA_REDIS_URL',
    type: 'url',
    protocols: ['redis:', 'rediss:'],
    invalid: 'must be a redis:// URL',
    doc: 'Redis (`redis://` or `rediss://`): the broker shared by every node (`ioredis` must be installed). Unset: publications stay in this process.',
  },
  revocations: {
    type: 'boolean',
    default: true,
    invalid: 'must be {clientId, clientSecretFile} (or false to run without following revocations)',
    doc: '`false`: run without following revocations (a revoked token then stays connected until it expires).',
  },
  'revocations.clientId': {
    type: 'string',
    doc: 'Required unless `revocations` is `false`: a client with the grant `client_credentials`, scope `tessera:revocations` and audience `<issuer>/revocations` (`tessera clients add gateway-feed --grant client_credentials --scope tessera:revocations --audience https://auth.example.com/revocations`). The gateway loads the revocation snapshot (waiting up to 30 s) before it listens, then follows the stream.',
  },
  'revocations.clientSecretFile': {
    type: 'path',
    invalid: 'must be a file name',
    doc: "A file holding that client's secret (surrounding white space trimmed). Read before `revocations.clientSecret`.",
  },
  'revocations.clientSecret': {
    env: 'TESSERA_GATEWAY_REVOCATION_SECRET',
    type: 'string',
    envOnly: true,
    doc: "That client's secret, when there is no `revocations.clientSecretFile`. Only from the environment: the secret is never written in the config file.",
  },
  limits: {
    type: 'object',
    doc: 'Any of the limits of packages/realtime/README.md, e.g. `{ "maxConnectionsPerUser": 10 }`; an unknown name or a bad value is refused, naming `limits.<name>`.',
  },
  path: {
    type: 'string',
    pattern: /^\//,
    invalid: 'must be a path starting with /',
    doc: 'The WebSocket path clients connect to. Default `/connection/websocket`.',
  },
  apiPath: {
    type: 'string',
    pattern: /^\//,
    invalid: 'must be a path starting with /',
    doc: "The prefix of the server API (`POST <apiPath>/publish`, `<apiPath>/broadcast`, ...). Default `/api`. Its callers send service tokens for the gateway's `audience` with `realtime:*` scopes (`tessera clients add chat-backend --grant client_credentials --scope realtime:publish --audience realtime`).",
  },
} as const satisfies Record<string, SettingSpec>;

export type GatewaySettingName = keyof typeof GATEWAY_SETTINGS;

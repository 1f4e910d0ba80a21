import type { SettingSpec } from '@tessera/core/internal';

import type { WorkloadIssuer } from '../workload/issuer.js';

export type { SettingSpec };

/**
 * Every setting of the auth server, in one place: its environment variable, type, default and meaning.
 * `loadConfig` checks them once at start-up with the settings engine of @tessera/core (the gateway's table
 * uses the same one); docs/configuration.md is generated from this table (`node scripts/config-doc.mjs`) and a
 * test keeps the two equal.
 */
export const SETTINGS = {
  issuer: {
    env: 'TESSERA_ISSUER',
    type: 'url',
    doc: 'The issuer URL (`iss` of every token, base of every endpoint). Default `http://<host>:<port>`.',
  },
  host: { env: 'TESSERA_HOST', type: 'string', default: '127.0.0.1', doc: 'Address to listen on.' },
  port: { env: 'TESSERA_PORT', type: 'integer', min: 0, max: 65535, default: 4000, doc: 'Port to listen on (0: any free port).' },
  dataDir: {
    env: 'TESSERA_DATA_DIR',
    type: 'path',
    default: '.tessera',
    doc: 'Folder for the SQLite database and the master key file.',
  },
  database: {
    env: 'TESSERA_DATABASE',
    type: 'string',
    doc: 'SQLite database file, or a `postgres://` (`postgresql://`) URL, which selects PostgreSQL; several instances may share one PostgreSQL database. Default `<dataDir>/tessera.db`.',
  },
  databasePoolSize: {
    env: 'TESSERA_DATABASE_POOL_SIZE',
    type: 'integer',
    min: 1,
    max: 1_000,
    default: 10,
    doc: 'Connections to PostgreSQL per instance (not used with SQLite).',
  },
  masterKey: {
    env: 'TESSERA_MASTER_KEY',
    type: 'string',
    doc: 'Master key (32 bytes, base64url) that encrypts private signing keys at rest. Takes precedence over `masterKeyFile`.',
  },
  masterKeyFile: {
    env: 'TESSERA_MASTER_KEY_FILE',
    type: 'path',
    doc: 'File holding the master key; must have mode 0600. Default `<dataDir>/master.key`, created on first start.',
  },
  signingAlg: {
    env: 'TESSERA_SIGNING_ALG',
    type: 'enum',
    values: ['ES256', 'EdDSA', 'RS256', 'HS256'],
    default: 'ES256',
    doc: 'Algorithm of new signing keys. HS256 only with `singleApp`.',
  },
  singleApp: {
    env: 'TESSERA_SINGLE_APP',
    type: 'boolean',
    default: false,
    doc: 'Single-app mode: the issuer and its only verifier share an HMAC secret (HS256); no JWKS is published.',
  },
  accessTokenTtl: {
    env: 'TESSERA_ACCESS_TOKEN_TTL',
    type: 'integer',
    min: 30,
    max: 86_400,
    default: 600,
    doc: 'Access-token lifetime in seconds. A client may override it (`access_token_ttl`) within the same range.',
  },
  idTokenTtl: {
    env: 'TESSERA_ID_TOKEN_TTL',
    type: 'integer',
    min: 30,
    max: 3_600,
    default: 300,
    doc: 'OpenID Connect ID-token lifetime in seconds: the client reads it once, at the token response.',
  },
  refreshTokenTtl: {
    env: 'TESSERA_REFRESH_TOKEN_TTL',
    type: 'integer',
    min: 60,
    max: 31_536_000,
    default: 2_592_000,
    doc: 'Refresh-token idle lifetime in seconds, renewed at each rotation (sliding). A client may override it (`refresh_token_ttl`) within the same range.',
  },
  refreshTokenAbsoluteTtl: {
    env: 'TESSERA_REFRESH_TOKEN_ABSOLUTE_TTL',
    type: 'integer',
    min: 60,
    max: 63_072_000,
    default: 7_776_000,
    doc: 'Hard cap on a refresh-token family, in seconds from the login.',
  },
  sessionIdleTtl: {
    env: 'TESSERA_SESSION_IDLE_TTL',
    type: 'integer',
    min: 60,
    max: 2_592_000,
    default: 1_800,
    doc: 'Browser session (hosted login) idle lifetime in seconds: a session unused this long ends. Each use renews it, up to `sessionAbsoluteTtl`.',
  },
  sessionAbsoluteTtl: {
    env: 'TESSERA_SESSION_ABSOLUTE_TTL',
    type: 'integer',
    min: 300,
    max: 31_536_000,
    default: 36_000,
    doc: 'Browser session (hosted login) absolute lifetime in seconds from the login, however often it is used.',
  },
  pushedRequestTtl: {
    env: 'TESSERA_PUSHED_REQUEST_TTL',
    type: 'integer',
    min: 5,
    max: 600,
    default: 60,
    doc: 'Seconds a pushed authorization request (RFC 9126) waits for its `request_uri` to be used at `/authorize`, once.',
  },
  pageTemplatesDir: {
    env: 'TESSERA_PAGE_TEMPLATES_DIR',
    type: 'path',
    doc: "Folder of the operator's own hosted pages: each file in it named like a built-in one (`layout.html`, `login.html`, `consent.html`, `error.html`, `logged-out.html`, `logout-confirm.html`, `form-post.html`, `tessera.css`) replaces that one; the others stay built in. Mustache templates, read and checked once at start-up; see the architecture guide for the values each page receives.",
  },
  pageLogoFile: {
    env: 'TESSERA_PAGE_LOGO_FILE',
    type: 'path',
    doc: 'Logo shown on the hosted pages (`.svg`, `.png`, `.jpg`, `.jpeg`, `.webp` or `.gif`, at most 1 MiB), served from the server itself at `/assets/logo`. Default: the Tessera logo.',
  },
  keyRotationInterval: {
    env: 'TESSERA_KEY_ROTATION_INTERVAL',
    type: 'integer',
    min: 3_600,
    default: 2_592_000,
    doc: 'Seconds a key signs before the next one takes over.',
  },
  jwksMaxAge: {
    env: 'TESSERA_JWKS_MAX_AGE',
    type: 'integer',
    min: 0,
    max: 86_400,
    default: 300,
    doc: 'Cache-Control max-age of the JWKS, seconds. A next key is published at least this long before it signs.',
  },
  loginMaxFailures: {
    env: 'TESSERA_LOGIN_MAX_FAILURES',
    type: 'integer',
    min: 1,
    default: 5,
    doc: 'Failed logins for one username from one source address before that address waits a lock period to try that username again (other addresses are not affected). At most this many passwords are verified per lock period, whatever the concurrency.',
  },
  loginLockoutSeconds: {
    env: 'TESSERA_LOGIN_LOCKOUT',
    type: 'integer',
    min: 1,
    default: 60,
    doc: 'The first lock period, seconds; each further lock period of the same username and address, address or username doubles it, up to `loginMaxLockoutSeconds`. A refused login is answered at once with 429 and `Retry-After`.',
  },
  loginMaxLockoutSeconds: {
    env: 'TESSERA_LOGIN_MAX_LOCKOUT',
    type: 'integer',
    min: 1,
    max: 86_400,
    default: 3_600,
    doc: 'The longest lock period, seconds.',
  },
  loginFailureWindowSeconds: {
    env: 'TESSERA_LOGIN_FAILURE_WINDOW',
    type: 'integer',
    min: 1,
    default: 3_600,
    doc: 'A username, address or pair of the two with no failure and no lock period for this long, seconds, starts again from nothing (failures and lock periods forgotten).',
  },
  loginMaxFailuresPerAddress: {
    env: 'TESSERA_LOGIN_MAX_FAILURES_PER_ADDRESS',
    type: 'integer',
    min: 1,
    default: 50,
    doc: 'Failed logins from one source address, any usernames, before that address waits a lock period (password spraying).',
  },
  loginAccountLockAddresses: {
    env: 'TESSERA_LOGIN_ACCOUNT_LOCK_ADDRESSES',
    type: 'integer',
    min: 2,
    default: 10,
    doc: 'Source addresses with a failed login for one username, within the window, that lock that username for everyone for a lock period: the evidence of a distributed attack. Failures from fewer addresses never lock the real user out.',
  },
  tokenRateLimit: {
    env: 'TESSERA_TOKEN_RATE_LIMIT',
    type: 'integer',
    min: 0,
    default: 0,
    doc: 'Token requests per second per client and per source address (0: unlimited); pushed authorization requests count against the same limit.',
  },
  dpopNonce: {
    env: 'TESSERA_DPOP_NONCE',
    type: 'boolean',
    default: false,
    doc: 'DPoP (RFC 9449 section 8): the token endpoint requires a server nonce in every DPoP proof. A proof without the current one is answered with 400 `use_dpop_nonce` and a `DPoP-Nonce` header to retry with, and every answer carries the next nonce. Nonces are derived from the master key and the time (a new one each minute, the previous one still accepted), so every instance agrees without shared state.',
  },
  dpopProofMaxAge: {
    env: 'TESSERA_DPOP_PROOF_MAX_AGE',
    type: 'integer',
    min: 5,
    max: 300,
    default: 60,
    doc: "Seconds a DPoP proof's `iat` may lie in the past at the token endpoint (5 more in the future are allowed for clock skew); each proof's `jti` is remembered this long to refuse a replay, across instances in Redis when `redisUrl` is set.",
  },
  bodyLimit: {
    env: 'TESSERA_BODY_LIMIT',
    type: 'integer',
    min: 1_024,
    max: 1_048_576,
    default: 16_384,
    doc: 'Largest request body, bytes.',
  },
  trustProxy: {
    env: 'TESSERA_TRUST_PROXY',
    type: 'addresses',
    doc: 'Addresses or CIDR ranges of the proxies in front of the server (comma-separated, e.g. `10.0.0.0/8,192.168.1.5`; also `loopback`, `linklocal`, `uniquelocal`). X-Forwarded-For is read only from these peers, and the client address is the last one in it not in these ranges. Unset or `false`: X-Forwarded-For is ignored. `true` is refused: it would trust the header from anyone.',
  },
  tlsCert: {
    env: 'TESSERA_TLS_CERT',
    type: 'path',
    doc: "PEM file of the server's TLS certificate (its chain after it). With `tlsKey`, the server listens over HTTPS and asks each client for a certificate without requiring one: mutual-TLS client authentication (`tls_client_auth`, `self_signed_tls_client_auth`) and certificate-bound access tokens (RFC 8705) need it. The derived issuer is then `https://<host>:<port>`. Read at start-up; a missing or unreadable file stops the start naming the setting.",
  },
  tlsKey: {
    env: 'TESSERA_TLS_KEY',
    type: 'path',
    doc: 'PEM file of the private key of `tlsCert`. Both or neither.',
  },
  tlsClientCa: {
    env: 'TESSERA_TLS_CLIENT_CA',
    type: 'path',
    doc: 'PEM file of the CA certificates trusted to issue the client certificates of `tls_client_auth` clients (RFC 8705 section 2.1): a client certificate is verified against them during the handshake (or, with `clientCertHeader`, when read from the header). Unset: no certificate passes `tls_client_auth` (self-signed clients need no CA). Needs `tlsCert` or `clientCertHeader`.',
  },
  clientCertHeader: {
    env: 'TESSERA_CLIENT_CERT_HEADER',
    type: 'boolean',
    default: false,
    doc: 'Mutual TLS behind a TLS-terminating proxy: the client certificate is read from the RFC 9440 `Client-Cert` header, believed only from `trustProxy` peers (required) and verified against `tlsClientCa` for `tls_client_auth`: it must be issued directly by one of its CAs (list intermediate CAs there; `Client-Cert-Chain` is not followed, and a CA with name constraints is refused at start-up, since no X.509 path validation runs on this path). From those peers the header is the only source of a client certificate; from any other peer it is ignored. The proxy must remove the headers from what clients send.',
  },
  redisUrl: {
    env: 'TESSERA_REDIS_URL',
    type: 'url',
    protocols: ['redis:', 'rediss:'],
    doc: 'Redis (`redis://` or `rediss://`) shared by several instances: the revocation bus between them, login throttling and rate limits counted across them, and the `jti` of DPoP proofs used once across them. Unset: one instance keeps these in memory.',
  },
  revocationHeartbeatSeconds: {
    env: 'TESSERA_REVOCATION_HEARTBEAT',
    type: 'integer',
    min: 1,
    max: 60,
    default: 5,
    doc: 'Interval of the heartbeat on revocation streams and the Redis bus, seconds. Verifiers treat silence as a lost stream.',
  },
  revocationPollSeconds: {
    env: 'TESSERA_REVOCATION_POLL',
    type: 'integer',
    min: 1,
    max: 300,
    default: 2,
    doc: 'How often an instance reads revocations other instances recorded from the database, seconds: the propagation bound when the Redis bus is down or not configured.',
  },
  auditRetentionDays: {
    env: 'TESSERA_AUDIT_RETENTION_DAYS',
    type: 'integer',
    min: 1,
    max: 3_650,
    default: 30,
    doc: 'Days an audit event is kept. Older events are deleted in batches by one instance at a time (the one holding the `audit-retention` lease in the database); see the deployment guide.',
  },
  auditFailuresPerSecond: {
    env: 'TESSERA_AUDIT_FAILURES_PER_SECOND',
    type: 'integer',
    min: 0,
    default: 2,
    doc: 'Audit events of refused token requests and failed logins (what anyone can cause without credentials) written per second per source address; beyond this they are only counted in `tessera_audit_suppressed_total`, and nothing is written. Counted in Redis across instances when `redisUrl` is set. 0: every one is written.',
  },
  clientCredentialsAudit: {
    env: 'TESSERA_CLIENT_CREDENTIALS_AUDIT',
    type: 'enum',
    values: ['aggregate', 'every', 'off'],
    default: 'aggregate',
    doc: 'Audit of client_credentials tokens, the routine traffic of services: `aggregate` writes one `token.issued.aggregate` event per client and minute with the count, `every` one `token.issued` event per token, `off` none. Every token is counted in `tessera_client_credentials_tokens_total` whatever the setting.',
  },
  metricsPort: {
    env: 'TESSERA_METRICS_PORT',
    type: 'integer',
    min: 0,
    max: 65535,
    doc: 'Serve `/metrics` on a listener of its own on this port (0: any free port), without a token, and not on the main port. Unset: `/metrics` is on the main port and needs an access token with scope `tessera:metrics` for the audience `<issuer>/metrics`.',
  },
  metricsHost: {
    env: 'TESSERA_METRICS_HOST',
    type: 'string',
    default: '127.0.0.1',
    doc: 'Address of the metrics listener (with `metricsPort`). Keep it on a private network.',
  },
  logLevel: {
    env: 'TESSERA_LOG_LEVEL',
    type: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'],
    default: 'info',
    doc: 'Log level. Requests are logged at `debug` (one line each, credentials in URLs redacted); warnings and errors at theirs.',
  },
  logRequests: {
    env: 'TESSERA_LOG_REQUESTS',
    type: 'boolean',
    default: false,
    doc: 'Log one line per request (method, URL with credentials redacted, status, time) at `info` rather than `debug`. Off by default: it was the largest cost of a token request.',
  },
  headersTimeoutSeconds: {
    env: 'TESSERA_HEADERS_TIMEOUT',
    type: 'integer',
    min: 1,
    max: 300,
    default: 10,
    doc: 'Seconds a client has to send the request line and headers (from the connection or the previous request); then 408 and the connection is closed. At most `requestTimeoutSeconds`.',
  },
  requestTimeoutSeconds: {
    env: 'TESSERA_REQUEST_TIMEOUT',
    type: 'integer',
    min: 1,
    max: 3_600,
    default: 30,
    doc: 'Seconds a client has to send a whole request, body included; then 408 and the connection is closed. Responses are not limited (the revocation stream stays open).',
  },
  maxConnections: {
    env: 'TESSERA_MAX_CONNECTIONS',
    type: 'integer',
    min: 1,
    max: 1_000_000,
    default: 10_000,
    doc: 'Open connections per instance (revocation streams included); connections beyond are closed at once.',
  },
  workloadIssuers: {
    env: 'TESSERA_WORKLOAD_ISSUERS',
    type: 'objects',
    max: 100,
    doc: 'Trusted workload issuers (workload identity federation): a list of issuers in the wire form of the admin API\'s `/admin/workload-issuers` (`name`, `issuer`, `keys`, `audience`, `algorithms`, `max_token_age`, `single_use`, `rules`); in the environment variable, the same list as JSON text. Here `keys` may also be `{"jwks_file": "FILE"}`, a JWKS file read at start-up (a relative name resolves like every path). Each is checked at start-up (an error names `workloadIssuers[i]`); no two may share a name or an issuer. They are read-only through the admin API and the CLI, which refuse to add an issuer of the same name or issuer, and are looked up (by exact `iss`) before the stored ones.',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

export interface Config {
  issuer: string;
  /** False when the issuer was derived from host and port (then listen() fixes it to the bound port). */
  issuerConfigured: boolean;
  host: string;
  port: number;
  dataDir: string;
  database: string;
  databasePoolSize: number;
  masterKey: string | undefined;
  masterKeyFile: string;
  signingAlg: 'ES256' | 'EdDSA' | 'RS256' | 'HS256';
  singleApp: boolean;
  accessTokenTtl: number;
  idTokenTtl: number;
  refreshTokenTtl: number;
  refreshTokenAbsoluteTtl: number;
  sessionIdleTtl: number;
  sessionAbsoluteTtl: number;
  pushedRequestTtl: number;
  pageTemplatesDir: string | undefined;
  pageLogoFile: string | undefined;
  keyRotationInterval: number;
  jwksMaxAge: number;
  loginMaxFailures: number;
  loginLockoutSeconds: number;
  loginMaxLockoutSeconds: number;
  loginFailureWindowSeconds: number;
  loginMaxFailuresPerAddress: number;
  loginAccountLockAddresses: number;
  tokenRateLimit: number;
  dpopNonce: boolean;
  dpopProofMaxAge: number;
  bodyLimit: number;
  /** Proxy addresses and CIDR ranges trusted for X-Forwarded-For; empty: none. */
  trustProxy: string[];
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsClientCa: string | undefined;
  clientCertHeader: boolean;
  redisUrl: string | undefined;
  revocationHeartbeatSeconds: number;
  revocationPollSeconds: number;
  auditRetentionDays: number;
  auditFailuresPerSecond: number;
  clientCredentialsAudit: 'aggregate' | 'every' | 'off';
  metricsPort: number | undefined;
  metricsHost: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  logRequests: boolean;
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  maxConnections: number;
  /** Trusted workload issuers of the config file or `TESSERA_WORKLOAD_ISSUERS` (not stored); times: when read. */
  workloadIssuers: WorkloadIssuer[];
}

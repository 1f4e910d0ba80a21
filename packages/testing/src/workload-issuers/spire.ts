/**
 * A stand-in for a SPIRE server of one trust domain: its federation bundle endpoint and the JWT-SVIDs it mints.
 *
 * - `GET /` (the bundle endpoint, pkg/server/endpoints/bundle/server.go): the SPIFFE bundle (SPIFFE Trust Domain
 *   and Bundle spec, section 4) as SPIRE marshals it (pkg/common/bundleutil/marshal.go: json.MarshalIndent with four
 *   spaces, `content-type: application/json`): `{"keys": [...], "spiffe_sequence": N, "spiffe_refresh_hint": S}`.
 *   The keys are the X.509 authority, `{"use":"x509-svid","kty":"EC","crv":"P-256","x","y","x5c":[<CA DER>]}` (a
 *   self-signed CA certificate with subject C=US, O=SPIFFE, URI SAN `spiffe://<td>`, CA:TRUE, keyCertSign and
 *   cRLSign, as SPIRE's credential template), then each JWT authority, `{"use":"jwt-svid","kty":"EC","kid",
 *   "crv":"P-256","x","y"}`: no alg, no x5t (go-jose's member order). The refresh hint is SPIRE's default for the
 *   bundle endpoint, 300 s; the sequence starts at 1 and grows with every rotation.
 * - JWT-SVIDs as pkg/server/ca/ca.go and pkg/server/credtemplate/builder.go mint them: ES256 (jwt_key_type
 *   defaults to ec-p256), header `{"alg":"ES256","kid":…,"typ":"JWT"}`, claims written from a map (sorted): aud
 *   (always an array), exp, iat, iss (only when the server has a jwt_issuer), jti (only when asked for, SPIRE's
 *   IncludeJTI: base64url of a random UUID), sub (the SPIFFE ID, which must be in the trust domain). Default TTL
 *   300 s (DefaultJWTSVIDTTL). The kid is 32 characters drawn from [a-zA-Z0-9] (manager.go newKeyID).
 * - `writeSvid`: spiffe-helper writes a jwt_svid file with os.WriteFile (pkg/disk): the file truncated and
 *   rewritten in place, mode 0600 unless configured.
 */
import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

import { exportJWK } from 'jose';

import {
  certifiedKey,
  KeyRing,
  nowSeconds,
  signCompact,
  sortedDeep,
  standIn,
  startHost,
  withOverrides,
  type MintOptions,
  type PublishedKeySet,
  type SigningKey,
  type StandIn,
} from './stand-in.js';

const KID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface SpireServerOptions {
  trustDomain: string;
  /** The server's jwt_issuer: when set, JWT-SVIDs carry it as iss and `issuer` is it. */
  jwtIssuer?: string;
  /** spiffe_refresh_hint in seconds (federation.bundle_endpoint.refresh_hint); default 300. */
  refreshHintSeconds?: number;
}

/** `claims` are laid over and then written in sorted order; `header` over `{alg, kid, typ}`. */
export interface SpireSvidRequest extends MintOptions {
  /** A path (`/ns/shop/sa/orders`) in the trust domain or a whole `spiffe://` ID. */
  spiffeId: string;
  audience: string | string[];
  /** Default 300 (SPIRE's default JWT-SVID TTL). */
  ttlSeconds?: number;
  /** Adds a jti, as SPIRE does when the caller asks for one. */
  includeJti?: boolean;
}

export interface SpireServer extends StandIn {
  readonly trustDomain: string;
  /** The bundle endpoint: `url + '/'`. */
  readonly bundleUrl: string;
  svid(req: SpireSvidRequest): Promise<string>;
}

function newKeyId(): string {
  return Array.from(randomBytes(32), (b) => KID_ALPHABET[b % KID_ALPHABET.length]).join('');
}

async function newJwtAuthority(): Promise<SigningKey> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey, jwk: await exportJWK(publicKey), kid: newKeyId() };
}

export async function startSpireServer(opts: SpireServerOptions): Promise<SpireServer> {
  const td = opts.trustDomain;
  if (!/^[a-z0-9._-]+$/.test(td)) throw new Error('trustDomain: lowercase letters, digits, dots, dashes and underscores only');
  const ca = await certifiedKey(
    ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    '/C=US/O=SPIFFE',
    [`subjectAltName=URI:spiffe://${td}`, 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    1,
  );
  const caJwk = await exportJWK(ca.publicKey);
  const ring = new KeyRing(await newJwtAuthority(), newJwtAuthority);
  let sequence = 1;
  const refreshHint = opts.refreshHintSeconds ?? 300;
  const jwks = (): PublishedKeySet => ({
    keys: [
      { use: 'x509-svid', kty: caJwk.kty, crv: caJwk.crv, x: caJwk.x, y: caJwk.y, x5c: [ca.certificate.toString('base64')] },
      ...ring.keys.map((a) => ({ use: 'jwt-svid', kty: a.jwk.kty, kid: a.kid, crv: a.jwk.crv, x: a.jwk.x, y: a.jwk.y })),
    ],
    spiffe_sequence: sequence,
    spiffe_refresh_hint: refreshHint,
  });
  const host = await startHost((path) =>
    path === '/' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(jwks(), null, 4) } : undefined,
  );
  const spiffeIdOf = (id: string) => {
    const full = id.startsWith('spiffe://') ? id : `spiffe://${td}${id.startsWith('/') ? id : `/${id}`}`;
    const u = new URL(full);
    if (u.host !== td || u.pathname === '/' || u.pathname === '' || u.search || u.hash) {
      throw new Error(`spiffeId: not a workload ID in trust domain ${td}`);
    }
    return full;
  };

  const base = standIn(host, opts.jwtIssuer ?? `spiffe://${td}`, ring, jwks, () => sequence++);
  return Object.assign(base, {
    trustDomain: td,
    bundleUrl: `${host.url}/`,
    async svid(req: SpireSvidRequest) {
      const audience = (typeof req.audience === 'string' ? [req.audience] : req.audience).filter((a) => a !== '');
      if (audience.length === 0) throw new Error('audience: at least one audience is required');
      const iat = nowSeconds() + (req.iatOffset ?? 0);
      const claims: Record<string, unknown> = {
        aud: audience,
        exp: iat + (req.ttlSeconds ?? 300),
        iat,
        iss: opts.jwtIssuer,
        jti: req.includeJti ? Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url') : undefined,
        sub: spiffeIdOf(req.spiffeId),
      };
      const key = ring.current;
      const payload = sortedDeep(withOverrides(claims, req.claims)) as Record<string, unknown>;
      return signCompact(payload, withOverrides({ alg: 'ES256', kid: key.kid, typ: 'JWT' }, req.header), key.privateKey);
    },
  });
}

/** Writes `token` to `file` as spiffe-helper writes a jwt_svid file: truncated and rewritten in place. */
export async function writeSvid(file: string, token: string, opts: { mode?: number } = {}): Promise<string> {
  await writeFile(file, token, { mode: opts.mode ?? 0o600 });
  return file;
}

/**
 * A stand-in for the Kubernetes API server as a service-account token issuer (the issuer Tessera trusts for
 * projected service-account tokens), speaking what kube-apiserver speaks:
 *
 * - `GET /.well-known/openid-configuration`: `{issuer, jwks_uri, response_types_supported: ["id_token"],
 *   subject_types_supported: ["public"], id_token_signing_alg_values_supported: ["RS256"]}` in that order,
 *   `content-type: application/json`, `cache-control: public, max-age=3600` (pkg/serviceaccount/openidmetadata.go,
 *   pkg/routes/openidmetadata.go).
 * - `GET /openid/v1/jwks`: `{"keys":[{"use":"sig","kty":"RSA","kid":…,"alg":"RS256","n":…,"e":"AQAB"}]}` (go-jose's
 *   member order), `content-type: application/jwk-set+json`, the same cache-control. The kid is kube-apiserver's
 *   keyIDFromPublicKey: base64url (no padding) of SHA-256 of the key's PKIX (SubjectPublicKeyInfo) DER.
 * - Tokens as the TokenRequest API mints them (pkg/serviceaccount/claims.go and the serviceaccount token REST
 *   storage): header `{"alg":"RS256","kid":…}` only; claims written by go-jose from a map, so in sorted order:
 *   aud (always an array), exp, iat, iss, jti (a UUID, since 1.29), kubernetes.io {namespace, node {name, uid} when
 *   the pod is bound and scheduled, pod {name, uid} when bound to a pod, serviceaccount {name, uid}, warnafter},
 *   nbf (= iat), sub "system:serviceaccount:NS:SA". expirationSeconds must be at least 600. warnafter appears
 *   only as the apiserver's extended expiration makes it: a pod-bound token asked for 3607 s (the kube-api-access
 *   volume's default) for the apiserver's own audience gets exp = iat + 1 year and warnafter = iat + 3607.
 *   A real v1.34 token decoded in priyankasaggu.github.io/_posts/2025-12-19-k8s-serviceaccount-jwt.md has this shape.
 * - `writeProjectedToken`: kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): the token in a new
 *   `..YYYY_MM_DD_HH_MM_SS.<random>` directory (mode 0755), `token -> ..data/token` made once, a `..data_tmp ->
 *   <that directory>` symlink renamed over `..data` (the atomic swap), then the previous directory removed.
 */
import { generateKeyPair, randomInt, randomUUID, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { exportJWK } from 'jose';

import {
  KeyRing,
  nowSeconds,
  sha256,
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

/** kube-apiserver's WarnOnlyBoundTokenExpirationSeconds: what the kube-api-access volume asks for. */
export const KUBE_API_ACCESS_EXPIRATION_SECONDS = 3607;
/** kube-apiserver's ExpirationExtensionSeconds. */
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 60 * 60;
/** The TokenRequest API refuses a shorter expirationSeconds. */
const MIN_EXPIRATION_SECONDS = 600;
const CACHE_CONTROL = 'public, max-age=3600';

export interface KubernetesIssuerOptions {
  /** The issuer named in tokens and discovery (--service-account-issuer); default the stand-in's url. */
  issuer?: string;
  /** The apiserver's own audiences (--api-audiences); default `[issuer]`. */
  apiAudiences?: string[];
  /** --service-account-extend-token-expiration (default true, as kube-apiserver). */
  extendTokenExpiration?: boolean;
}

/** `claims` are laid over and then written in sorted order; `header` over `{alg, kid}`. */
export interface KubernetesTokenRequest extends MintOptions {
  namespace: string;
  serviceAccount: string;
  /** The TokenRequest's audiences; default the apiserver's audiences. */
  audience?: string | string[];
  /** Default 3600, as a projected serviceAccountToken volume source; at least 600. */
  expirationSeconds?: number;
  /** Binds the token to this pod (as a projected volume does). */
  podName?: string;
  /** The node the bound pod runs on (needs `podName`). */
  nodeName?: string;
}

export interface KubernetesIssuer extends StandIn {
  /** `url + '/openid/v1/jwks'`. */
  readonly jwksUri: string;
  token(req: KubernetesTokenRequest): Promise<string>;
  /** The UID the stand-in gave an object (`serviceaccount`, `pod` or `node`) named so, made on first use. */
  uidOf(kind: 'serviceaccount' | 'pod' | 'node', namespace: string, name: string): string;
}

/** kube-apiserver's key id: base64url of SHA-256 of the public key's PKIX DER. */
export function kubernetesKeyId(publicKey: KeyObject): string {
  return sha256(publicKey.export({ type: 'spki', format: 'der' })).toString('base64url');
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, jwk: await exportJWK(publicKey), kid: kubernetesKeyId(publicKey) };
}

export async function startKubernetesIssuer(opts: KubernetesIssuerOptions = {}): Promise<KubernetesIssuer> {
  const ring = new KeyRing(await newKey(), newKey);
  const uids = new Map<string, string>();
  const uidOf = (kind: string, namespace: string, name: string) => {
    const k = `${kind}/${namespace}/${name}`;
    let uid = uids.get(k);
    if (!uid) uids.set(k, (uid = randomUUID()));
    return uid;
  };
  const jwks = (): PublishedKeySet => ({
    keys: ring.keys.map((k) => ({ use: 'sig', kty: k.jwk.kty, kid: k.kid, alg: 'RS256', n: k.jwk.n, e: k.jwk.e })),
  });
  let issuer = opts.issuer ?? '';
  let jwksUri = '';
  const host = await startHost((path) => {
    if (path === '/.well-known/openid-configuration') {
      return {
        headers: { 'content-type': 'application/json', 'cache-control': CACHE_CONTROL },
        body: {
          issuer,
          jwks_uri: jwksUri,
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        },
      };
    }
    if (path === '/openid/v1/jwks') {
      return { headers: { 'content-type': 'application/jwk-set+json', 'cache-control': CACHE_CONTROL }, body: jwks() };
    }
    return undefined;
  });
  issuer ||= host.url;
  jwksUri = `${host.url}/openid/v1/jwks`;
  const apiAudiences = opts.apiAudiences ?? [issuer];
  const extend = opts.extendTokenExpiration ?? true;

  return Object.assign(standIn(host, issuer, ring, jwks), {
    jwksUri,
    uidOf: (kind: 'serviceaccount' | 'pod' | 'node', namespace: string, name: string) =>
      uidOf(kind, kind === 'node' ? '' : namespace, name),
    async token(req: KubernetesTokenRequest) {
      const expirationSeconds = req.expirationSeconds ?? 3600;
      if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_SECONDS || expirationSeconds >= 2 ** 32) {
        throw new Error(`expirationSeconds: may not specify a duration less than 10 minutes or longer than 2^32 seconds`);
      }
      if (req.nodeName !== undefined && req.podName === undefined) {
        throw new Error('nodeName: the node is named only in a token bound to a pod (give podName)');
      }
      const audience =
        req.audience === undefined ? apiAudiences : typeof req.audience === 'string' ? [req.audience] : req.audience;
      if (audience.length === 0) throw new Error('audience: at least one audience is required');
      const iat = nowSeconds() + (req.iatOffset ?? 0);
      let exp = iat + expirationSeconds;
      let warnafter: number | undefined;
      const kubeAudiences = audience.length === apiAudiences.length && audience.every((a) => apiAudiences.includes(a));
      if (extend && req.podName !== undefined && expirationSeconds === KUBE_API_ACCESS_EXPIRATION_SECONDS && kubeAudiences) {
        warnafter = iat + expirationSeconds;
        exp = iat + EXTENDED_EXPIRATION_SECONDS;
      }
      const ref = (kind: string, namespace: string, name: string) => ({ name, uid: uidOf(kind, namespace, name) });
      const claims = {
        aud: audience,
        exp,
        iat,
        iss: issuer,
        jti: randomUUID(),
        'kubernetes.io': {
          namespace: req.namespace,
          node: req.nodeName === undefined ? undefined : ref('node', '', req.nodeName),
          pod: req.podName === undefined ? undefined : ref('pod', req.namespace, req.podName),
          serviceaccount: ref('serviceaccount', req.namespace, req.serviceAccount),
          warnafter,
        },
        nbf: iat,
        sub: `system:serviceaccount:${req.namespace}:${req.serviceAccount}`,
      };
      const key = ring.current;
      const payload = sortedDeep(withOverrides(claims, req.claims)) as Record<string, unknown>;
      return signCompact(payload, withOverrides({ alg: 'RS256', kid: key.kid }, req.header), key.privateKey);
    },
  });
}

/**
 * Writes `token` into `dir` as kubelet writes a projected service-account token (AtomicWriter): returns the path
 * of the user-visible `token` symlink. A second call with a new token swaps `..data` atomically, so a reader
 * of that path sees either the old token or the new one, never a partial file; the same token again changes nothing.
 */
export async function writeProjectedToken(dir: string, token: string, opts: { mode?: number } = {}): Promise<string> {
  const file = 'token';
  await mkdir(dir, { recursive: true });
  const dataDir = join(dir, '..data');
  const oldTs = await readlink(dataDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  if (oldTs) {
    const onDisk = await readFile(join(dir, oldTs, file), 'utf8').catch(() => undefined);
    if (onDisk === token) return join(dir, file);
  }
  const tsDirName = await newTimestampDir(dir);
  const tsDir = join(dir, tsDirName);
  const mode = opts.mode ?? 0o644;
  await writeFile(join(tsDir, file), token, { mode });
  await chmod(join(tsDir, file), mode);
  await symlink(join('..data', file), join(dir, file)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  const tmpLink = join(dir, '..data_tmp');
  await symlink(tsDirName, tmpLink);
  await rename(tmpLink, dataDir);
  if (oldTs) await rm(join(dir, oldTs), { recursive: true, force: true });
  return join(dir, file);
}

/** ioutil.TempDir(dir, time.Now().UTC().Format("..2006_01_02_15_04_05.")): the pattern, then a random number. */
async function newTimestampDir(dir: string): Promise<string> {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.`;
  for (;;) {
    const name = stamp + String(randomInt(0, 2 ** 32 - 1));
    try {
      await mkdir(join(dir, name), { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    await chmod(join(dir, name), 0o755);
    return name;
  }
}

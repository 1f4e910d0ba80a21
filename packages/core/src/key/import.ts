import { Buffer } from 'node:buffer';
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';

import { ALGORITHMS, isAlgorithm, type Algorithm } from '../algorithms.js';
import { KeyInvalidError } from '../errors.js';
import { decodeBase64url } from '../lib/base64url.js';
import { privateJwkMismatch } from './jwk-pair.js';
import { Key } from './key.js';
import { sshPublicKeyToJwk } from './openssh.js';

export interface ImportOptions {
  /** The algorithm to pin the key to. Required where the key does not name it (RSA, HMAC). */
  alg?: Algorithm;
  /** Key ID; defaults to the JWK's `kid`, then to the RFC 7638 thumbprint. */
  kid?: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];
const KTYS = new Set(['EC', 'RSA', 'OKP', 'oct']);

/**
 * Imports a JWK. Refuses, with a `KeyInvalidError` naming the reason: an unknown `kty`, `use` other than
 * `sig`, `key_ops` without `verify` (public keys and secrets) or `sign` (private keys), an `alg` that is
 * not a JWS algorithm or does not fit the key, and every weak key `Key` refuses.
 */
export function importJwk(jwk: unknown, options: ImportOptions = {}): Key {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new KeyInvalidError('jwk', 'a JWK must be a JSON object');
  const j = jwk as Record<string, unknown>;
  if (typeof j.kty !== 'string' || !KTYS.has(j.kty)) throw new KeyInvalidError('kty', 'unsupported or missing kty');
  if (j.use !== undefined && j.use !== 'sig') throw new KeyInvalidError('use', 'key use is not "sig"');
  const isPrivate = j.kty !== 'oct' && PRIVATE_MEMBERS.some((m) => j[m] !== undefined);
  if (j.key_ops !== undefined) {
    const needed = isPrivate ? 'sign' : 'verify';
    if (!Array.isArray(j.key_ops) || !j.key_ops.every((op) => typeof op === 'string') || !j.key_ops.includes(needed)) {
      throw new KeyInvalidError('key_ops', `key_ops does not include "${needed}"`);
    }
  }
  if (j.kid !== undefined && (typeof j.kid !== 'string' || j.kid.length === 0))
    throw new KeyInvalidError('kid', 'kid must be a non-empty string');
  if (j.alg !== undefined && !isAlgorithm(j.alg)) throw new KeyInvalidError('alg', 'alg is not a supported JWS algorithm');
  if (options.alg !== undefined && !isAlgorithm(options.alg))
    throw new KeyInvalidError('alg', 'alg is not a supported JWS algorithm');
  if (options.alg !== undefined && j.alg !== undefined && options.alg !== j.alg) {
    throw new KeyInvalidError('alg', "the JWK's alg differs from the requested one");
  }
  const alg = options.alg ?? (j.alg as Algorithm | undefined) ?? inferAlg(j);
  if (ALGORITHMS[alg].kty !== j.kty) throw new KeyInvalidError('alg', `${alg} does not fit a key of type ${j.kty}`);
  let ko: KeyObject;
  try {
    if (j.kty === 'oct') {
      const k = typeof j.k === 'string' ? decodeBase64url(j.k) : undefined;
      if (!k) throw new KeyInvalidError('jwk', 'oct key needs k in base64url');
      if (k.length === 0) throw new KeyInvalidError('weak', 'empty HMAC secret');
      ko = createSecretKey(k);
    } else {
      const material: Record<string, unknown> = {};
      for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e', ...(isPrivate ? PRIVATE_MEMBERS : [])]) {
        if (j[m] !== undefined) material[m] = j[m];
      }
      ko = isPrivate
        ? createPrivateKey({ key: material as never, format: 'jwk' })
        : createPublicKey({ key: material as never, format: 'jwk' });
    }
  } catch (err) {
    if (err instanceof KeyInvalidError) throw err;
    throw isPrivate ? privateJwkRefusal(j, err) : new KeyInvalidError('jwk', 'invalid key material', { cause: err });
  }
  const key = new Key(ko, alg, options.kid ?? (j.kid as string | undefined));
  if (isPrivate && !isConsistentPair(ko, j)) throw privateJwkRefusal(j);
  return key;
}

/**
 * node:crypto signs with a private JWK's private members (and, for Ed25519, ignores `x`), while the kid and
 * the published key come from its public members: a signature made with the first must verify with the second.
 */
function isConsistentPair(privateKey: KeyObject, j: Record<string, unknown>): boolean {
  const members: Record<string, unknown> = {};
  for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e']) if (j[m] !== undefined) members[m] = j[m];
  const t = privateKey.asymmetricKeyType;
  const hash = t === 'ed25519' || t === 'ed448' ? null : 'sha256';
  const data = Buffer.from('tessera key pair consistency check');
  try {
    return cryptoVerify(
      hash,
      data,
      createPublicKey({ key: members as never, format: 'jwk' }),
      cryptoSign(hash, data, privateKey),
    );
  } catch {
    return false;
  }
}

/**
 * Node 24's OpenSSL refuses a private JWK whose halves do not match, or whose private members make no key,
 * when it is imported; Node 20's and 22's import both and only `isConsistentPair` fails. Either way the
 * reason is `inconsistent` for a mismatched pair and `jwk` for broken private members, on every runtime.
 */
function privateJwkRefusal(j: Record<string, unknown>, cause?: unknown): KeyInvalidError {
  const options = cause === undefined ? undefined : { cause };
  return privateJwkMismatch(j) === true
    ? new KeyInvalidError('inconsistent', "the JWK's public members do not belong to its private key", options)
    : new KeyInvalidError('jwk', 'invalid key material', options);
}

function inferAlg(j: Record<string, unknown>): Algorithm {
  if (j.kty === 'EC') {
    const alg = ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as const)[String(j.crv) as 'P-256'];
    if (alg) return alg;
    throw new KeyInvalidError('crv', 'unsupported EC curve');
  }
  if (j.kty === 'OKP') {
    if (j.crv === 'Ed25519' || j.crv === 'Ed448') return 'EdDSA';
    throw new KeyInvalidError('crv', 'OKP key is not an Ed25519 or Ed448 signing key');
  }
  throw new KeyInvalidError('alg', `a ${String(j.kty)} key needs an alg (in the JWK or the options)`);
}

function inferFromKeyObject(ko: KeyObject, options: ImportOptions): Algorithm {
  if (options.alg) return options.alg;
  const t = ko.asymmetricKeyType;
  if (t === 'ed25519' || t === 'ed448') return 'EdDSA';
  if (t === 'ec') {
    const alg = ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as const)[
      String(ko.asymmetricKeyDetails?.namedCurve) as 'prime256v1'
    ];
    if (alg) return alg;
    throw new KeyInvalidError('crv', 'unsupported EC curve');
  }
  throw new KeyInvalidError('alg', 'an RSA key needs an alg (RS256, PS256, ...)');
}

/**
 * Imports a PEM key: SPKI (`PUBLIC KEY`), PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PUBLIC KEY`,
 * `RSA PRIVATE KEY`, as `ssh-keygen -m pem` writes) or SEC1 (`EC PRIVATE KEY`). Encrypted keys are refused.
 */
export function importPem(pem: string, options: ImportOptions = {}): Key {
  const ko = pemKeyObject(pem);
  return new Key(ko, inferFromKeyObject(ko, options), options.kid);
}

/** The KeyObject of a PEM key text, by the rules `importPem` states; encrypted PEM and certificates refused. */
export function pemKeyObject(pem: string): KeyObject {
  const m = typeof pem === 'string' ? /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem) : null;
  if (!m) throw new KeyInvalidError('pem', 'not a PEM key');
  const label = m[1]!;
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new KeyInvalidError('pem', 'encrypted PEM keys are not supported; decrypt it first');
  }
  if (label === 'OPENSSH PRIVATE KEY') {
    throw new KeyInvalidError('pem', 'OpenSSH private key format; convert it with `ssh-keygen -p -m pem -f FILE`');
  }
  if (label === 'CERTIFICATE') throw new KeyInvalidError('pem', 'a certificate is not a key; extract its public key');
  try {
    return label.includes('PRIVATE')
      ? createPrivateKey({ key: pem, format: 'pem' })
      : createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new KeyInvalidError('pem', 'invalid PEM key', { cause: err });
  }
}

/** Imports a DER key: `spki` or `pkcs1` (public), `pkcs8` or `pkcs1` with `private: true`. */
export function importDer(
  der: Uint8Array,
  options: ImportOptions & { type: 'spki' | 'pkcs8' | 'pkcs1' | 'sec1'; private?: boolean },
): Key {
  let ko: KeyObject;
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    ko =
      options.type === 'pkcs8' || options.type === 'sec1' || options.private
        ? createPrivateKey({ key, format: 'der', type: options.type as 'pkcs8' })
        : createPublicKey({ key, format: 'der', type: options.type as 'spki' });
  } catch (err) {
    throw new KeyInvalidError('der', 'invalid DER key', { cause: err });
  }
  return new Key(ko, inferFromKeyObject(ko, options), options.kid);
}

/** Imports an HMAC secret (raw bytes). HMAC keys are for single-app mode only; never publish them. */
export function importSecret(secret: Uint8Array, options: ImportOptions & { alg: 'HS256' | 'HS384' | 'HS512' }): Key {
  if (!ALGORITHMS[options.alg] || ALGORITHMS[options.alg].kty !== 'oct')
    throw new KeyInvalidError('alg', 'a secret needs HS256, HS384 or HS512');
  if (secret.byteLength === 0) throw new KeyInvalidError('weak', 'empty HMAC secret');
  return new Key(createSecretKey(Buffer.from(secret)), options.alg, options.kid);
}

/** Imports an OpenSSH public key line (`ssh-rsa AAAA...`, the `.pub` file `ssh-keygen` writes). */
export function importSshPublicKey(line: string, options: ImportOptions = {}): Key {
  return importJwk(sshPublicKeyToJwk(line), options);
}

/** The forms of key text `importKey` reads. */
export type KeyTextFormat = 'jwk' | 'pem' | 'openssh';

/**
 * The form of a key's text, told from the text alone as `importKey` tells it: a JWK (a JSON object), PEM
 * (`-----BEGIN ...`) or an OpenSSH public key line; undefined for anything else.
 */
export function keyTextFormat(text: string): KeyTextFormat | undefined {
  const t = text.trim();
  if (t.startsWith('{')) return 'jwk';
  if (t.includes('-----BEGIN ')) return 'pem';
  if (/^(ssh-|ecdsa-sha2-)/.test(t)) return 'openssh';
  return undefined;
}

/**
 * Imports a key in whatever form it comes: a JWK (object or JSON text), PEM text, an OpenSSH public key
 * line, or DER bytes (SPKI, then PKCS#8).
 */
export function importKey(input: string | Uint8Array | Record<string, unknown>, options: ImportOptions = {}): Key {
  if (input instanceof Uint8Array) {
    try {
      return importDer(input, { ...options, type: 'spki' });
    } catch (err) {
      if (err instanceof KeyInvalidError && err.reason !== 'der') throw err;
      return importDer(input, { ...options, type: 'pkcs8' });
    }
  }
  if (typeof input !== 'string') return importJwk(input, options);
  const text = input.trim();
  const format = keyTextFormat(text);
  if (format === 'jwk') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new KeyInvalidError('jwk', 'JWK text is not valid JSON');
    }
    return importJwk(parsed, options);
  }
  if (format === 'pem') return importPem(text, options);
  if (format === 'openssh') return importSshPublicKey(text, options);
  throw new KeyInvalidError('format', 'unrecognised key format (expected JWK, PEM, OpenSSH public key or DER)');
}

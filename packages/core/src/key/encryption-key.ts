import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

import { ConfigError, KeyInvalidError } from '../errors.js';
import { decodeBase64url } from '../lib/base64url.js';
import { privateJwkMismatch } from './jwk-pair.js';
import { generatePrivateKey } from './generate.js';
import { pemKeyObject } from './import.js';
import { checkRsaStrength, keyJwk, rawJwk } from './key.js';
import { jwkThumbprint } from './thumbprint.js';

/**
 * The JWE key management algorithms Tessera decrypts and encrypts with (RFC 7518 section 4). RSA1_5 (the
 * Bleichenbacher padding oracle), PBES2-* (password-derived, attacker-chosen work) and AES key wrap or
 * AES-GCM key wrap with a shared secret are not among them and never will be.
 */
export type KeyManagementAlgorithm = 'ECDH-ES+A256KW' | 'ECDH-ES' | 'RSA-OAEP-256' | 'dir';
/** JWE content encryption: AES-GCM (RFC 7518 section 5.3); A128GCM only where a decrypter's allowlist names it. */
export type ContentEncryption = 'A256GCM' | 'A128GCM';
/** The curves of ECDH-ES keys. */
export type EncryptionCurve = 'P-256' | 'P-384' | 'X25519';

export const KEY_MANAGEMENT_ALGORITHMS: readonly KeyManagementAlgorithm[] = Object.freeze([
  'ECDH-ES+A256KW',
  'ECDH-ES',
  'RSA-OAEP-256',
  'dir',
]);
export const CONTENT_ENCRYPTIONS: readonly ContentEncryption[] = Object.freeze(['A256GCM', 'A128GCM']);

/** Bytes of a content encryption key. */
export const CEK_BYTES: Readonly<Record<ContentEncryption, number>> = Object.freeze({ A256GCM: 32, A128GCM: 16 });

const hasOwn = Object.prototype.hasOwnProperty;

export function isKeyManagementAlgorithm(v: unknown): v is KeyManagementAlgorithm {
  return typeof v === 'string' && (KEY_MANAGEMENT_ALGORITHMS as readonly string[]).includes(v);
}

export function isContentEncryption(v: unknown): v is ContentEncryption {
  return typeof v === 'string' && hasOwn.call(CEK_BYTES, v);
}

/** node:crypto's curve names, by JWK `crv`. */
const NODE_CURVES: Readonly<Record<string, string>> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' };

/**
 * A key for encrypted tokens (JWK `use: enc`), pinned to one key management algorithm: an EC P-256/P-384 or
 * X25519 key for ECDH-ES and ECDH-ES+A256KW, an RSA key (2048 to 8192 bits, exponent 65537, no ROCA
 * fingerprint) for RSA-OAEP-256, or a 256-bit (or 128-bit) secret for `dir`. A recipient holds the private
 * key (or the secret); an issuer encrypts to the public key. Kept apart from `Key`, the signing key, so that
 * no key ever both signs and encrypts.
 */
export class EncryptionKey {
  readonly kid: string;
  readonly alg: KeyManagementAlgorithm;
  readonly kty: 'EC' | 'OKP' | 'RSA' | 'oct';
  /** The curve of an ECDH-ES key. */
  readonly crv: EncryptionCurve | undefined;
  readonly kind: 'private' | 'public' | 'secret';
  readonly keyObject: KeyObject;
  /** The public half of a private key, the key itself otherwise. */
  readonly publicKeyObject: KeyObject;
  /** RSA: the modulus length in bytes (the exact length of an encrypted key); 0 for the others. */
  readonly modulusBytes: number;

  constructor(keyObject: KeyObject, alg: KeyManagementAlgorithm, kid?: string) {
    if (!isKeyManagementAlgorithm(alg)) throw new KeyInvalidError('alg', 'not a supported key management algorithm');
    const fit = encryptionFit(keyObject, alg);
    this.alg = alg;
    this.kty = fit.kty;
    this.crv = fit.crv;
    this.keyObject = keyObject;
    this.kind = keyObject.type === 'secret' ? 'secret' : keyObject.type === 'private' ? 'private' : 'public';
    this.publicKeyObject = this.kind === 'private' ? createPublicKey(keyObject) : keyObject;
    this.modulusBytes = fit.kty === 'RSA' ? Math.ceil((keyObject.asymmetricKeyDetails?.modulusLength ?? 0) / 8) : 0;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
      throw new KeyInvalidError('kid', 'kid must be a non-empty string');
    }
    this.kid = kid ?? jwkThumbprint(rawJwk(this, this.kind === 'secret'));
    Object.freeze(this);
  }

  /** The key as a JWK with `kid`, `alg` and `use: "enc"`; `{ private: true }` includes the private members. */
  toJwk(options: { private?: boolean } = {}): Record<string, unknown> {
    return keyJwk(this, 'enc', options.private === true);
  }

  /** The half an issuer encrypts to: itself for public keys and `dir` secrets. */
  publicKey(): EncryptionKey {
    return this.kind === 'private' ? new EncryptionKey(this.publicKeyObject, this.alg, this.kid) : this;
  }
}

function encryptionFit(
  ko: KeyObject,
  alg: KeyManagementAlgorithm,
): { kty: EncryptionKey['kty']; crv: EncryptionCurve | undefined } {
  if (alg === 'dir') {
    const size = ko.type === 'secret' ? ko.symmetricKeySize : undefined;
    if (size !== 32 && size !== 16) throw new KeyInvalidError('alg', 'dir needs a secret of 32 bytes (A256GCM) or 16 (A128GCM)');
    return { kty: 'oct', crv: undefined };
  }
  if (ko.type === 'secret') throw new KeyInvalidError('alg', `${alg} needs an asymmetric key, not a secret`);
  const type = ko.asymmetricKeyType;
  if (alg === 'RSA-OAEP-256') {
    if (type !== 'rsa') throw new KeyInvalidError('alg', 'RSA-OAEP-256 needs an RSA key');
    checkRsaStrength(ko);
    return { kty: 'RSA', crv: undefined };
  }
  if (type === 'x25519') return { kty: 'OKP', crv: 'X25519' };
  if (type === 'ec') {
    const named = ko.asymmetricKeyDetails?.namedCurve;
    if (named === NODE_CURVES['P-256']) return { kty: 'EC', crv: 'P-256' };
    if (named === NODE_CURVES['P-384']) return { kty: 'EC', crv: 'P-384' };
  }
  throw new KeyInvalidError('alg', `${alg} needs an EC P-256, P-384 or X25519 key`);
}

export interface GenerateEncryptionKeyOptions {
  kid?: string;
  /** ECDH-ES algorithms: the curve; default P-256. */
  crv?: EncryptionCurve;
  /** RSA-OAEP-256: default 2048. */
  modulusLength?: number;
  /** dir: the content encryption the secret is for; default A256GCM (32 bytes). */
  enc?: ContentEncryption;
}

/** Generates a private key (or, for `dir`, a secret) for encrypted tokens, pinned to `alg`. */
export function generateEncryptionKey(alg: KeyManagementAlgorithm, options: GenerateEncryptionKeyOptions = {}): EncryptionKey {
  if (!isKeyManagementAlgorithm(alg)) throw new ConfigError('alg', 'not a supported key management algorithm');
  let ko: KeyObject;
  if (alg === 'dir') {
    const enc = options.enc ?? 'A256GCM';
    if (!isContentEncryption(enc)) throw new ConfigError('enc', 'must be A256GCM or A128GCM');
    ko = createSecretKey(randomBytes(CEK_BYTES[enc]));
  } else if (alg === 'RSA-OAEP-256') {
    ko = generatePrivateKey({ type: 'rsa', modulusLength: options.modulusLength });
  } else {
    const crv = options.crv ?? 'P-256';
    if (crv !== 'X25519' && crv !== 'P-256' && crv !== 'P-384') throw new ConfigError('crv', 'must be P-256, P-384 or X25519');
    ko = generatePrivateKey(crv === 'X25519' ? { type: 'x25519' } : { type: 'ec', namedCurve: crv });
  }
  return new EncryptionKey(ko, alg, options.kid);
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

/**
 * Imports an encryption JWK (`use` absent or `enc`; `key_ops`, when present, must hold `deriveKey`/`deriveBits`,
 * `unwrapKey` or `decrypt` for private keys, `wrapKey` or `encrypt` for public ones). The algorithm comes from
 * the JWK's `alg` or `options.alg` (they must agree; one is required). Refused with `KeyInvalidError`: a
 * signing key (`use: sig`), an algorithm outside `KeyManagementAlgorithm`, a curve other than P-256, P-384 or
 * X25519, a weak RSA key, a point off its curve, a private JWK whose public members are not its own.
 */
export function importEncryptionJwk(jwk: unknown, options: { alg?: KeyManagementAlgorithm; kid?: string } = {}): EncryptionKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new KeyInvalidError('jwk', 'a JWK must be a JSON object');
  const j = jwk as Record<string, unknown>;
  if (j.use !== undefined && j.use !== 'enc') throw new KeyInvalidError('use', 'key use is not "enc"');
  if (j.alg !== undefined && !isKeyManagementAlgorithm(j.alg)) {
    throw new KeyInvalidError('alg', 'alg is not a supported key management algorithm');
  }
  if (options.alg !== undefined && !isKeyManagementAlgorithm(options.alg)) {
    throw new KeyInvalidError('alg', 'alg is not a supported key management algorithm');
  }
  if (options.alg !== undefined && j.alg !== undefined && options.alg !== j.alg) {
    throw new KeyInvalidError('alg', "the JWK's alg differs from the requested one");
  }
  const alg = options.alg ?? (j.alg as KeyManagementAlgorithm | undefined);
  if (alg === undefined) throw new KeyInvalidError('alg', 'an encryption key needs an alg (in the JWK or the options)');
  const isPrivate = j.kty === 'oct' || PRIVATE_MEMBERS.some((m) => j[m] !== undefined);
  if (j.key_ops !== undefined) {
    const fits = isPrivate
      ? ['deriveKey', 'deriveBits', 'unwrapKey', 'decrypt']
      : ['deriveKey', 'deriveBits', 'wrapKey', 'encrypt'];
    if (!Array.isArray(j.key_ops) || !j.key_ops.some((op) => fits.includes(op as string))) {
      throw new KeyInvalidError('key_ops', `key_ops holds none of ${fits.join(', ')}`);
    }
  }
  if (j.kid !== undefined && (typeof j.kid !== 'string' || j.kid.length === 0))
    throw new KeyInvalidError('kid', 'kid must be a non-empty string');
  let ko: KeyObject;
  try {
    if (j.kty === 'oct') {
      const k = typeof j.k === 'string' ? decodeBase64url(j.k) : undefined;
      if (!k) throw new KeyInvalidError('jwk', 'oct key needs k in base64url');
      ko = createSecretKey(k);
    } else if (j.kty === 'EC' || j.kty === 'OKP' || j.kty === 'RSA') {
      const material: Record<string, unknown> = {};
      for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e', ...(isPrivate ? PRIVATE_MEMBERS : [])])
        if (j[m] !== undefined) material[m] = j[m];
      ko = isPrivate
        ? createPrivateKey({ key: material as never, format: 'jwk' })
        : createPublicKey({ key: material as never, format: 'jwk' });
    } else throw new KeyInvalidError('kty', 'unsupported or missing kty');
  } catch (err) {
    if (err instanceof KeyInvalidError) throw err;
    if (isPrivate && privateJwkMismatch(j) === true)
      throw new KeyInvalidError('inconsistent', "the JWK's public members are not its private key's");
    throw new KeyInvalidError('jwk', 'invalid key material', { cause: err });
  }
  if (isPrivate && j.kty !== 'oct') {
    // The kid and the published key come from the public members, decryption from the private ones.
    const implied = createPublicKey(ko).export({ format: 'jwk' }) as Record<string, unknown>;
    if (['x', 'y', 'n', 'e'].some((m) => j[m] !== implied[m])) {
      throw new KeyInvalidError('inconsistent', "the JWK's public members are not its private key's");
    }
  }
  return new EncryptionKey(ko, alg, options.kid ?? (j.kid as string | undefined));
}

/**
 * Imports a PEM encryption key (SPKI or PKCS#8; PKCS#1 and SEC1 as `importPem` reads them) pinned to `alg`: an
 * EC P-256/P-384 or X25519 key for the ECDH-ES algorithms, an RSA key for RSA-OAEP-256.
 */
export function importEncryptionPem(pem: string, options: { alg: KeyManagementAlgorithm; kid?: string }): EncryptionKey {
  if (!isKeyManagementAlgorithm(options?.alg) || options.alg === 'dir') {
    throw new KeyInvalidError('alg', 'a PEM encryption key needs alg ECDH-ES+A256KW, ECDH-ES or RSA-OAEP-256');
  }
  return new EncryptionKey(pemKeyObject(pem), options.alg, options.kid);
}

/** Imports a `dir` secret: 32 bytes for A256GCM, 16 for A128GCM. */
export function importDirectKey(secret: Uint8Array, options: { kid?: string } = {}): EncryptionKey {
  return new EncryptionKey(createSecretKey(Buffer.from(secret)), 'dir', options.kid);
}

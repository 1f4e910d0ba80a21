import { constants, createPublicKey, type KeyObject } from 'node:crypto';

import { ALGORITHMS, isAlgorithm, type Algorithm, type KeyType } from '../algorithms.js';
import { KeyInvalidError } from '../errors.js';
import { hasRocaFingerprint } from './roca.js';
import { jwkThumbprint } from './thumbprint.js';

export type KeyKind = 'private' | 'public' | 'secret';

/** RSA moduli above this many bits are refused: verification cost grows with the square of the size. */
export const MAX_RSA_BITS = 8192;
export const MIN_RSA_BITS = 2048;

const CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

/** What `crypto.verify` / `crypto.sign` take as the key argument, built once per key. */
export type CryptoKeyInput =
  KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } | { key: KeyObject; padding: number; saltLength: number };

/**
 * A signing or verification key pinned to exactly one algorithm. Every constructor path (import, generate)
 * ends here, so every key Tessera uses has passed the same checks: RSA of 2048 to 8192 bits with exponent
 * 65537 and no ROCA fingerprint, HMAC secrets at least as long as the hash (and never under 32 bytes),
 * the EC curve or Edwards curve the algorithm names.
 */
export class Key {
  readonly kid: string;
  readonly alg: Algorithm;
  readonly kty: KeyType;
  readonly kind: KeyKind;
  /** The key as node:crypto holds it: private, public or secret. */
  readonly keyObject: KeyObject;
  /** The public half of a private key, the key itself otherwise. */
  readonly publicKeyObject: KeyObject;
  /** @internal crypto.verify's key argument. */
  readonly verifyInput: CryptoKeyInput;
  /** @internal crypto.sign's key argument (private and secret keys). */
  readonly signInput: CryptoKeyInput | undefined;
  /** The exact length in bytes of every signature (or MAC) this key makes. */
  readonly signatureLength: number;

  constructor(keyObject: KeyObject, alg: Algorithm, kid?: string) {
    // isAlgorithm, not ALGORITHMS[alg]: the latter finds `constructor`, `__proto__`, ... on the prototype.
    if (!isAlgorithm(alg)) throw new KeyInvalidError('alg', 'unknown algorithm');
    const info = ALGORITHMS[alg];
    checkFits(keyObject, alg);
    this.alg = alg;
    this.kty = info.kty;
    this.keyObject = keyObject;
    this.kind = keyObject.type === 'secret' ? 'secret' : keyObject.type === 'private' ? 'private' : 'public';
    this.publicKeyObject = this.kind === 'private' ? createPublicKey(keyObject) : keyObject;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
      throw new KeyInvalidError('kid', 'kid must be a non-empty string');
    }
    this.kid = kid ?? jwkThumbprint(rawJwk(this, this.kind === 'secret'));
    this.verifyInput = cryptoInput(this.publicKeyObject, alg);
    this.signInput = this.kind === 'public' ? undefined : cryptoInput(keyObject, alg);
    this.signatureLength = signatureLength(this.publicKeyObject, alg);
    Object.freeze(this);
  }

  /**
   * The key as a JWK with `kid`, `alg` and `use: "sig"`. Public by default; `{ private: true }` includes
   * the private members (or, for an HMAC key, the secret).
   */
  toJwk(options: { private?: boolean } = {}): Record<string, unknown> {
    return keyJwk(this, 'sig', options.private === true);
  }

  /** PEM: SPKI for public keys, PKCS#8 for private ones, PKCS#1 (`RSA ... KEY`) for RSA on request. */
  toPem(options: { private?: boolean; pkcs1?: boolean } = {}): string {
    if (this.kind === 'secret') throw new KeyInvalidError('secret', 'an HMAC secret has no PEM form');
    const pkcs1 = options.pkcs1 === true;
    if (pkcs1 && this.kty !== 'RSA') throw new KeyInvalidError('pkcs1', 'PKCS#1 holds RSA keys only');
    if (options.private) {
      if (this.kind !== 'private') throw new KeyInvalidError('public', 'this is a public key');
      return this.keyObject.export({ format: 'pem', type: pkcs1 ? 'pkcs1' : 'pkcs8' }) as string;
    }
    return this.publicKeyObject.export({ format: 'pem', type: pkcs1 ? 'pkcs1' : 'spki' }) as string;
  }

  /** The verification half of this key: itself for public and secret keys. */
  publicKey(): Key {
    return this.kind === 'private' ? new Key(this.publicKeyObject, this.alg, this.kid) : this;
  }
}

/** What a signing `Key` and an `EncryptionKey` hold alike. */
interface HeldKey {
  readonly kid: string;
  readonly alg: string;
  readonly kind: KeyKind;
  readonly keyObject: KeyObject;
  readonly publicKeyObject: KeyObject;
}

/** The key's JWK members as node:crypto exports them, without kid/alg/use. */
export function rawJwk(key: Omit<HeldKey, 'kid' | 'alg'>, includePrivate: boolean): Record<string, unknown> {
  return (includePrivate ? key.keyObject : key.publicKeyObject).export({ format: 'jwk' }) as Record<string, unknown>;
}

/** The key as a JWK with `kid`, `alg` and `use`; the private members (or the secret) only when asked. */
export function keyJwk(key: HeldKey, use: 'sig' | 'enc', includePrivate: boolean): Record<string, unknown> {
  if (key.kind === 'secret' && !includePrivate) {
    throw new KeyInvalidError('secret', 'a secret key has no public form; pass { private: true } to export the secret');
  }
  return { ...rawJwk(key, includePrivate && key.kind !== 'public'), kid: key.kid, alg: key.alg, use };
}

const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 };

function signatureLength(ko: KeyObject, alg: Algorithm): number {
  const info = ALGORITHMS[alg];
  switch (info.kty) {
    case 'oct':
      return HASH_BYTES[info.hash!];
    case 'RSA':
      return Math.ceil((ko.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    case 'EC':
      return info.sigBytes!;
    case 'OKP':
      return ko.asymmetricKeyType === 'ed448' ? 114 : 64;
  }
}

function cryptoInput(key: KeyObject, alg: Algorithm): CryptoKeyInput {
  const info = ALGORITHMS[alg];
  if (info.kty === 'EC') return { key, dsaEncoding: 'ieee-p1363' };
  if (info.pss) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  return key;
}

/**
 * The strength rules every RSA key Tessera uses meets, for signatures and for encryption alike: 2048 to 8192
 * bits, public exponent 65537, no ROCA fingerprint.
 */
export function checkRsaStrength(ko: KeyObject): void {
  const bits = ko.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new KeyInvalidError('weak', `RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`);
  if (bits > MAX_RSA_BITS) throw new KeyInvalidError('size', `RSA key of ${bits} bits; at most ${MAX_RSA_BITS} are accepted`);
  if (ko.asymmetricKeyDetails?.publicExponent !== 65537n) throw new KeyInvalidError('weak', 'RSA public exponent must be 65537');
  const n = (ko.type === 'private' ? createPublicKey(ko) : ko).export({ format: 'jwk' }).n;
  if (typeof n !== 'string' || hasRocaFingerprint(BigInt('0x' + Buffer.from(n, 'base64url').toString('hex')))) {
    throw new KeyInvalidError('weak', 'RSA key has the ROCA fingerprint (CVE-2017-15361) and can be factored');
  }
}

function checkFits(ko: KeyObject, alg: Algorithm): void {
  const info = ALGORITHMS[alg];
  if (info.kty === 'oct') {
    if (ko.type !== 'secret') throw new KeyInvalidError('alg', `${alg} needs an HMAC secret, not an asymmetric key`);
    const size = ko.symmetricKeySize ?? 0;
    if (size < info.minSecretBytes!) {
      throw new KeyInvalidError('weak', `${alg} secret is ${size} bytes; at least ${info.minSecretBytes} are required`);
    }
    return;
  }
  if (ko.type === 'secret') throw new KeyInvalidError('alg', `${alg} needs an asymmetric key, not a secret`);
  const type = ko.asymmetricKeyType;
  const details = ko.asymmetricKeyDetails ?? {};
  switch (info.kty) {
    case 'RSA':
      if (!(type === 'rsa' || (type === 'rsa-pss' && info.pss))) throw new KeyInvalidError('alg', `${alg} needs an RSA key`);
      checkRsaStrength(ko);
      return;
    case 'EC':
      if (type !== 'ec' || details.namedCurve !== CURVES[info.crv!]) {
        throw new KeyInvalidError('alg', `${alg} needs an EC key on ${info.crv}`);
      }
      return;
    case 'OKP':
      if (type !== 'ed25519' && type !== 'ed448') throw new KeyInvalidError('alg', 'EdDSA needs an Ed25519 or Ed448 key');
      return;
  }
}

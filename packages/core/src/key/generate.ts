import { createPrivateKey, createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

import { ALGORITHMS, isAlgorithm, type Algorithm } from '../algorithms.js';
import { ConfigError } from '../errors.js';
import { Key, MIN_RSA_BITS } from './key.js';

export interface GenerateOptions {
  kid?: string;
  /** RSA only; default 2048. */
  modulusLength?: number;
  /** EdDSA only; default Ed25519. */
  crv?: 'Ed25519' | 'Ed448';
}

/**
 * The private key of a freshly generated pair as a KeyObject of its own. Node 20's key generation job keeps the
 * key it made, and frees it, taking the key's lock, when the garbage collector finalizes the job: a collection
 * that happens to run while the same key is being exported (an allocation inside `export({format: 'jwk'})`, which
 * holds that lock) deadlocks the process (seen: the auth server hung publishing a new RS256 key in its JWKS). The
 * job is asked for the key encoded (PKCS#8 DER, written while the job runs) and the key is imported from it, so
 * that nothing else ever holds the job's key.
 */
function ownKey(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The kinds of key pair Tessera generates. */
export type KeyPairSpec =
  { type: 'rsa'; modulusLength?: number } | { type: 'ec'; namedCurve: string } | { type: 'ed25519' | 'ed448' | 'x25519' };

/** The private key of a fresh pair, as a KeyObject of its own (see ownKey). RSA: 2048 bits unless told. */
export function generatePrivateKey(spec: KeyPairSpec): KeyObject {
  const privateKeyEncoding = { format: 'der', type: 'pkcs8' } as const;
  const publicKeyEncoding = { format: 'der', type: 'spki' } as const;
  switch (spec.type) {
    case 'rsa': {
      const modulusLength = spec.modulusLength ?? 2048;
      if (!Number.isInteger(modulusLength) || modulusLength < MIN_RSA_BITS) {
        throw new ConfigError('modulusLength', `must be an integer of at least ${MIN_RSA_BITS}`);
      }
      return ownKey(
        generateKeyPairSync('rsa', { modulusLength, publicExponent: 65537, privateKeyEncoding, publicKeyEncoding }).privateKey,
      );
    }
    case 'ec':
      return ownKey(generateKeyPairSync('ec', { namedCurve: spec.namedCurve, privateKeyEncoding, publicKeyEncoding }).privateKey);
    case 'ed25519':
      return ownKey(generateKeyPairSync('ed25519', { privateKeyEncoding, publicKeyEncoding }).privateKey);
    case 'ed448':
      return ownKey(generateKeyPairSync('ed448', { privateKeyEncoding, publicKeyEncoding }).privateKey);
    case 'x25519':
      return ownKey(generateKeyPairSync('x25519', { privateKeyEncoding, publicKeyEncoding }).privateKey);
  }
}

/** Generates a private key (or an HMAC secret of the hash's length) pinned to `alg`. */
export function generateKey(alg: Algorithm, options: GenerateOptions = {}): Key {
  if (!isAlgorithm(alg)) throw new ConfigError('alg', 'not a supported JWS algorithm');
  const info = ALGORITHMS[alg];
  let ko: KeyObject;
  switch (info.kty) {
    case 'oct':
      ko = createSecretKey(randomBytes(info.minSecretBytes!));
      break;
    case 'RSA':
      ko = generatePrivateKey({ type: 'rsa', modulusLength: options.modulusLength });
      break;
    case 'EC':
      ko = generatePrivateKey({ type: 'ec', namedCurve: info.crv! });
      break;
    case 'OKP':
      ko = generatePrivateKey({ type: options.crv === 'Ed448' ? 'ed448' : 'ed25519' });
      break;
  }
  return new Key(ko, alg, options.kid);
}

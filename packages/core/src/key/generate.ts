import { generateKeyPairSync, randomBytes, createSecretKey, type KeyObject } from 'node:crypto';

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

/** Generates a private key (or an HMAC secret of the hash's length) pinned to `alg`. */
export function generateKey(alg: Algorithm, options: GenerateOptions = {}): Key {
  if (!isAlgorithm(alg)) throw new ConfigError('alg', 'not a supported JWS algorithm');
  const info = ALGORITHMS[alg];
  let ko: KeyObject;
  switch (info.kty) {
    case 'oct':
      ko = createSecretKey(randomBytes(info.minSecretBytes!));
      break;
    case 'RSA': {
      const modulusLength = options.modulusLength ?? 2048;
      if (!Number.isInteger(modulusLength) || modulusLength < MIN_RSA_BITS) {
        throw new ConfigError('modulusLength', `must be an integer of at least ${MIN_RSA_BITS}`);
      }
      ko = generateKeyPairSync('rsa', { modulusLength, publicExponent: 65537 }).privateKey;
      break;
    }
    case 'EC':
      ko = generateKeyPairSync('ec', { namedCurve: info.crv! }).privateKey;
      break;
    case 'OKP':
      ko = options.crv === 'Ed448' ? generateKeyPairSync('ed448').privateKey : generateKeyPairSync('ed25519').privateKey;
      break;
  }
  return new Key(ko, alg, options.kid);
}

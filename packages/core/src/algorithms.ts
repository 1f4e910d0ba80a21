/**
 * The JWS algorithms Tessera verifies (RFC 7518 section 3, RFC 8037). `none` is not among them and never
 * will be. The auth server signs with ES256 (default), EdDSA, RS256, or HS256 in single-app mode; the
 * others exist so that a verifier can accept tokens from other issuers and pass the Wycheproof vectors.
 */
export type Algorithm =
  'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export type KeyType = 'oct' | 'RSA' | 'EC' | 'OKP';

export interface AlgorithmInfo {
  readonly alg: Algorithm;
  readonly kty: KeyType;
  /** Hash for node:crypto, or null for EdDSA (the curve fixes it). */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** HMAC: minimum secret length in bytes (RFC 7518 section 3.2, and never under 32). */
  readonly minSecretBytes?: number;
  /** ECDSA: curve name as in JWK `crv`, the raw signature size, and the group order n. */
  readonly crv?: 'P-256' | 'P-384' | 'P-521';
  readonly sigBytes?: number;
  readonly order?: Uint8Array;
  readonly pss?: boolean;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

const P256_N = hex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const P384_N = hex('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973');
const P521_N = hex(
  '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
);

export const ALGORITHMS: Readonly<Record<Algorithm, AlgorithmInfo>> = Object.freeze({
  HS256: { alg: 'HS256', kty: 'oct', hash: 'sha256', minSecretBytes: 32 },
  HS384: { alg: 'HS384', kty: 'oct', hash: 'sha384', minSecretBytes: 48 },
  HS512: { alg: 'HS512', kty: 'oct', hash: 'sha512', minSecretBytes: 64 },
  RS256: { alg: 'RS256', kty: 'RSA', hash: 'sha256' },
  RS384: { alg: 'RS384', kty: 'RSA', hash: 'sha384' },
  RS512: { alg: 'RS512', kty: 'RSA', hash: 'sha512' },
  PS256: { alg: 'PS256', kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { alg: 'PS384', kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { alg: 'PS512', kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { alg: 'ES256', kty: 'EC', hash: 'sha256', crv: 'P-256', sigBytes: 64, order: P256_N },
  ES384: { alg: 'ES384', kty: 'EC', hash: 'sha384', crv: 'P-384', sigBytes: 96, order: P384_N },
  ES512: { alg: 'ES512', kty: 'EC', hash: 'sha512', crv: 'P-521', sigBytes: 132, order: P521_N },
  EdDSA: { alg: 'EdDSA', kty: 'OKP', hash: null },
});

const hasOwn = Object.prototype.hasOwnProperty;

/** True only for the exact, case-sensitive names above; `none`, `NONE`, `__proto__` are all false. */
export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && hasOwn.call(ALGORITHMS, value);
}

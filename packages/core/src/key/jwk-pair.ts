import { Buffer } from 'node:buffer';
import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';

import { decodeBase64url } from '../lib/base64url.js';

const EC_CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
/** RFC 8410 PKCS#8 wrappings of an Ed25519 / Ed448 private key, whose raw bytes are the JWK's `d`. */
const OKP_PKCS8_PREFIX: Record<string, string> = {
  Ed25519: '302e020100300506032b657004220420',
  Ed448: '3047020100300506032b6571043b0439',
};

/**
 * Whether a private JWK's public members (`x`, `y`; `n`, `e`) differ from the ones its private members
 * imply: undefined when the members are missing or unusable, so that the caller can tell a mismatched pair
 * from broken key material. Node 24's OpenSSL (3.5) refuses such a pair as soon as the JWK is imported,
 * where OpenSSL 3.0 (Node 20, 22) imports it and only a signature made with one half fails to verify with
 * the other: this names the mismatch the same on both.
 */
export function privateJwkMismatch(j: Record<string, unknown>): boolean | undefined {
  try {
    if (j.kty === 'EC') return ecMismatch(j);
    if (j.kty === 'OKP') return okpMismatch(j);
    if (j.kty === 'RSA') return rsaMismatch(j);
  } catch {
    /* private members that do not make a key */
  }
  return undefined;
}

function ecMismatch(j: Record<string, unknown>): boolean | undefined {
  const curve = EC_CURVES[String(j.crv)];
  const [d, x, y] = [member(j.d), member(j.x), member(j.y)];
  if (!curve || !d || !x || !y) return undefined;
  const ecdh = createECDH(curve);
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(); // 0x04 || x || y, each as long as the field
  const size = (point.length - 1) / 2;
  return int(point.subarray(1, 1 + size)) !== int(x) || int(point.subarray(1 + size)) !== int(y);
}

function okpMismatch(j: Record<string, unknown>): boolean | undefined {
  const prefix = OKP_PKCS8_PREFIX[String(j.crv)];
  const [d, x] = [member(j.d), member(j.x)];
  if (!prefix || !d || !x) return undefined;
  const der = Buffer.concat([Buffer.from(prefix, 'hex'), d]);
  const implied = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  return implied.x !== x.toString('base64url');
}

/** n = p q, and e is d's inverse modulo p - 1 and q - 1 (RFC 8017 section 3.2). */
function rsaMismatch(j: Record<string, unknown>): boolean | undefined {
  const [n, e, d, p, q] = [j.n, j.e, j.d, j.p, j.q].map((m) => {
    const bytes = member(m);
    return bytes && bytes.length > 0 ? int(bytes) : undefined;
  });
  if (!n || !e || !d || !p || !q || p < 3n || q < 3n) return undefined;
  return n !== p * q || (d * e) % (p - 1n) !== 1n || (d * e) % (q - 1n) !== 1n;
}

function member(m: unknown): Buffer | undefined {
  return typeof m === 'string' ? decodeBase64url(m) : undefined;
}

function int(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

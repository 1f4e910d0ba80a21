import { createHash, X509Certificate } from 'node:crypto';

import { KeyInvalidError } from '../errors.js';

/** The members RFC 7638 section 3.2 hashes, in lexicographic order, per key type. */
const REQUIRED: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
};

/** RFC 7638 JWK thumbprint (SHA-256, base64url): Tessera's default `kid`. */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members = typeof jwk.kty === 'string' ? REQUIRED[jwk.kty] : undefined;
  if (!members) throw new KeyInvalidError('kty', 'cannot compute a thumbprint: unsupported kty');
  const parts = members.map((m) => {
    const v = jwk[m];
    if (typeof v !== 'string') throw new KeyInvalidError('jwk', `cannot compute a thumbprint: member ${m} missing`);
    return `${JSON.stringify(m)}:${JSON.stringify(v)}`;
  });
  return createHash('sha256')
    .update(`{${parts.join(',')}}`)
    .digest('base64url');
}

/**
 * RFC 8705 section 3.1 certificate thumbprint (`x5t#S256`): SHA-256 of the certificate's DER encoding,
 * base64url. Takes the DER bytes (node's `getPeerCertificate().raw`) or a PEM certificate.
 */
export function certificateThumbprint(certificate: Uint8Array | string): string {
  const der = typeof certificate === 'string' ? new X509Certificate(certificate).raw : certificate;
  return createHash('sha256').update(der).digest('base64url');
}

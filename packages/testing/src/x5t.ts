import { X509Certificate } from 'node:crypto';

/**
 * The RFC 8705 `x5t#S256` of a PEM certificate, computed apart from Tessera's own `certificateThumbprint`:
 * node's SHA-256 fingerprint (hex with colons) as base64url. What a test binds a token to (`cnf["x5t#S256"]`).
 */
export function x5tOf(pem: string): string {
  return Buffer.from(new X509Certificate(pem).fingerprint256.replaceAll(':', ''), 'hex').toString('base64url');
}

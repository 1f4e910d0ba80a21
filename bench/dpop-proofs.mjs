// DPoP proofs as a client makes them (RFC 9449 section 4.2), for bench/dpop.mjs, bench/dpop-load.mjs and the
// token endpoint's DPoP mode (bench/token-endpoint-server.mjs, bench/token-endpoint-dpop-load.mjs): an
// ES256 key pair of node:crypto, its public JWK and thumbprint, and one freshly signed proof per call (a new jti
// each time: a verifier accepts a proof once).
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

import { jwkThumbprint } from '@tessera/core';

const b64 = (s) => Buffer.from(s).toString('base64url');

/** A DPoP client key: `{ privateKey, jwk, jkt }`, optionally from a private JWK (to share it with another process). */
export function dpopKey(privateJwk) {
  const privateKey =
    privateJwk === undefined
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      : createPrivateKey({ key: privateJwk, format: 'jwk' });
  const full = privateKey.export({ format: 'jwk' });
  const jwk = { kty: full.kty, crv: full.crv, x: full.x, y: full.y };
  return { privateKey, privateJwk: full, jwk, jkt: jwkThumbprint(jwk) };
}

/**
 * A proof maker for one token and URL: `make(method)` returns a new proof, signed now (ES256, IEEE P1363
 * signature), with a unique jti. Without a token (`undefined`: a proof for the token endpoint) it has no `ath`.
 */
export function proofMaker(key, token, url) {
  const header = b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk }));
  const ath = token === undefined ? undefined : createHash('sha256').update(token, 'ascii').digest('base64url');
  const prefix = randomBytes(9).toString('base64url');
  let n = 0;
  return (method = 'GET') => {
    const payload = b64(
      JSON.stringify({ jti: `${prefix}-${n++}`, htm: method, htu: url, iat: Math.floor(Date.now() / 1000), ath }),
    );
    const input = `${header}.${payload}`;
    const sig = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  };
}

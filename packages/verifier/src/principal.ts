import { boundCertificateThumbprint, boundJkt, type AccessTokenClaims } from '@tessera/core';

/** Who is calling, as established by a verified access token. */
export interface Principal {
  /** The subject: a user id, or the client id for a service token. */
  readonly sub: string | undefined;
  /** The OAuth client the token was issued to (`client_id`). */
  readonly clientId: string | undefined;
  /** The granted scopes, from the `scope` claim. */
  readonly scopes: readonly string[];
  /** The token id (`jti`), used by revocation. */
  readonly tokenId: string | undefined;
  /**
   * The token's expiry, in seconds since the epoch; Infinity for a token without `exp`, which only a
   * verifier whose profile says `allowMissingExp: true` accepts.
   */
  readonly expiresAt: number;
  /** When the token was issued (`iat`), in seconds since the epoch, if it says. */
  readonly issuedAt: number | undefined;
  /**
   * The RFC 7638 thumbprint of the key the token is bound to (`cnf.jkt`, RFC 9449): set for a DPoP-bound token,
   * which counts only with a proof made by that key (`Verifier.verifyRequest`); undefined for a bearer token.
   */
  readonly jkt: string | undefined;
  /**
   * The RFC 8705 thumbprint (`x5t#S256`) of the client certificate the token is bound to (`cnf["x5t#S256"]`):
   * set for a certificate-bound token, which counts only on a request whose mutual-TLS peer certificate has
   * that thumbprint (`Verifier.verifyRequest`); undefined for a token not bound to a certificate.
   */
  readonly x5t: string | undefined;
  /** Every claim of the token. */
  readonly claims: Readonly<AccessTokenClaims>;
}

export function principalFromClaims(claims: AccessTokenClaims): Principal {
  return Object.freeze({
    sub: claims.sub,
    clientId: claims.client_id,
    scopes: Object.freeze(claims.scope ? claims.scope.split(' ') : []),
    tokenId: claims.jti,
    expiresAt: claims.exp === undefined ? Infinity : claims.exp,
    issuedAt: claims.iat,
    jkt: boundJkt(claims as Record<string, unknown>),
    x5t: boundCertificateThumbprint(claims as Record<string, unknown>),
    claims: Object.freeze(claims),
  });
}

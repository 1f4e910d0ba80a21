import type { Algorithm } from '../algorithms.js';

/** A JOSE header as Tessera reads it. Unknown members are kept but never acted upon. */
export interface JwsHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly [member: string]: unknown;
}

/** The claims of an RFC 9068 access token. */
export interface AccessTokenClaims {
  iss: string;
  sub?: string;
  aud: string | string[];
  exp: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  client_id?: string;
  scope?: string;
  [claim: string]: unknown;
}

export type { Algorithm };

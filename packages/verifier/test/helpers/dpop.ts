import { createHmac, randomUUID } from 'node:crypto';

import { accessTokenHash } from '@tessera/core';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

export interface ProofOptions {
  htm?: string;
  htu: string;
  /** The access token the proof goes with (its `ath`); null: no ath. */
  token?: string | null;
  /** Seconds since the epoch; default now. */
  iat?: number;
  jti?: string;
  nonce?: string;
  /** Header members replacing the holder's (`alg`, `typ`, `jwk`). */
  header?: Record<string, unknown>;
  /** Another private key to sign with (the header keeps the holder's jwk unless `header.jwk` says). */
  signWith?: KeyLike;
}

/** A DPoP client: its key pair, and proofs made as a client makes them (jose, typ dpop+jwt, jwk header). */
export class DpopHolder {
  private constructor(
    readonly privateKey: KeyLike,
    readonly jwk: JWK,
    /** The RFC 7638 thumbprint a token bound to this key carries as cnf.jkt. */
    readonly jkt: string,
  ) {}

  static async create(): Promise<DpopHolder> {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(pair.publicKey);
    return new DpopHolder(pair.privateKey, jwk, await calculateJwkThumbprint(jwk, 'sha256'));
  }

  /** The private JWK (with `d`), as a careless client might put it in the header. */
  async privateJwk(): Promise<JWK> {
    return exportJWK(this.privateKey);
  }

  proof(o: ProofOptions): Promise<string> {
    const claims: Record<string, unknown> = {
      jti: o.jti ?? randomUUID(),
      htm: o.htm ?? 'GET',
      htu: o.htu,
      iat: o.iat ?? Math.floor(Date.now() / 1000),
    };
    if (o.token !== undefined && o.token !== null) claims.ath = accessTokenHash(o.token);
    if (o.nonce !== undefined) claims.nonce = o.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: this.jwk, ...o.header })
      .sign(o.signWith ?? this.privateKey);
  }

  /** A proof with `alg: none` and no signature. */
  unsignedProof(o: ProofOptions): string {
    return this.rawProof(o, 'none', () => '');
  }

  /** A proof "signed" with HS256, the public JWK's x coordinate as the secret (an algorithm confusion). */
  hmacProof(o: ProofOptions): string {
    return this.rawProof(o, 'HS256', (input) => createHmac('sha256', String(this.jwk.x)).update(input).digest('base64url'));
  }

  private rawProof(o: ProofOptions, alg: string, sign: (input: string) => string): string {
    const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims: Record<string, unknown> = {
      jti: randomUUID(),
      htm: o.htm ?? 'GET',
      htu: o.htu,
      iat: Math.floor(Date.now() / 1000),
      ...(o.token ? { ath: accessTokenHash(o.token) } : {}),
    };
    const input = `${enc({ alg, typ: 'dpop+jwt', jwk: this.jwk })}.${enc(claims)}`;
    return `${input}.${sign(input)}`;
  }
}

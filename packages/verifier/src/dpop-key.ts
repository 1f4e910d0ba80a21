import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import {
  accessTokenHash,
  ConfigError,
  DPOP_ALGORITHMS,
  DPOP_PROOF_TYPE,
  generateKey,
  importKey,
  jwkThumbprint,
  normalizeHtu,
  signJwt,
  type Algorithm,
  type Key,
} from '@tessera/core';

/** A private key file larger than this is refused unread (an RSA-8192 PEM is under 7 KB). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * A client's DPoP key pair (RFC 9449): the private key that signs its proofs and the thumbprint (`jkt`) tokens
 * bound to it carry in `cnf.jkt`. Generated in memory (ES256 by default) or loaded from a private JWK or PEM file.
 */
export class DpopKey {
  /** The private key. */
  readonly key: Key;
  /** RFC 7638 SHA-256 thumbprint of the public key: a bound token's `cnf.jkt`. */
  readonly jkt: string;

  constructor(key: Key) {
    if (key.kind !== 'private') throw new ConfigError('dpopKey', 'must be a private key of an asymmetric algorithm');
    if (!(DPOP_ALGORITHMS as readonly string[]).includes(key.alg))
      throw new ConfigError('dpopKey', `DPoP proofs are signed with one of ${DPOP_ALGORITHMS.join(', ')}`);
    this.key = key;
    this.jkt = jwkThumbprint(key.publicKey().toJwk());
  }

  /** A new key pair, held in memory only. */
  static generate(alg: (typeof DPOP_ALGORITHMS)[number] = 'ES256'): DpopKey {
    return new DpopKey(generateKey(alg));
  }

  /**
   * The private key in `file` (a private JWK, or a PKCS#8 / SEC1 / PKCS#1 PEM; `alg` for a key that does not name
   * its algorithm). Refusals name the file and why, never what it holds.
   */
  static async fromFile(file: string, options: { alg?: string } = {}): Promise<DpopKey> {
    let text: string;
    try {
      const bytes = await readFile(file);
      if (bytes.length > MAX_KEY_FILE_BYTES) throw new ConfigError('dpopKey', `the key file ${file} is too large`);
      text = bytes.toString('utf8');
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError('dpopKey', `the key file ${file} could not be read (${typeof code === 'string' ? code : 'error'})`);
    }
    try {
      return new DpopKey(importKey(text.trim(), options.alg === undefined ? {} : { alg: options.alg as Algorithm }));
    } catch (err) {
      // The reason (an import or a key refusal) names what is wrong with the key, never its members.
      throw new ConfigError('dpopKey', `the key file ${file} does not hold a usable DPoP key: ${(err as Error).message}`);
    }
  }
}

export interface DpopProofOptions {
  key: DpopKey;
  /** The HTTP method of the request the proof goes with (`POST`). */
  method: string;
  /** The request's URL as the client sends it; query and fragment are left out of `htu`. */
  url: string | URL;
  /** The access token sent with the proof (resource requests): the proof carries its hash as `ath`. */
  accessToken?: string;
  /** The server's latest `DPoP-Nonce`, when it asked for one. */
  nonce?: string;
  /** Clock in milliseconds. */
  now?: () => number;
}

/** A DPoP proof (RFC 9449 section 4.2) for one request: typ `dpop+jwt`, the public key in `jwk`, a fresh jti. */
export function createDpopProof(options: DpopProofOptions): string {
  const method = options.method;
  if (typeof method !== 'string' || !/^[A-Z]+$/.test(method))
    throw new ConfigError('method', 'must be an HTTP method such as POST');
  const htu = normalizeHtu(String(options.url));
  if (htu === undefined) throw new ConfigError('url', 'must be an http(s) URL');
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    htm: method,
    htu,
    iat: Math.floor((options.now ?? Date.now)() / 1000),
  };
  if (options.accessToken !== undefined) claims.ath = accessTokenHash(options.accessToken);
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  return signJwt(claims, options.key.key, { typ: DPOP_PROOF_TYPE, jwk: true });
}

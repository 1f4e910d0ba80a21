/**
 * Strict compact JWE (RFC 7516) for encrypted access tokens: a nested JWT (RFC 7519 section 5.2), the signed
 * access token encrypted to the resource server's key. node:crypto does every step: ECDH (P-256, P-384,
 * X25519) with the Concat KDF (RFC 7518 section 4.6.2), AES key wrap (`id-aes256-wrap`), RSA-OAEP with
 * SHA-256, AES-GCM.
 */
import { Buffer } from 'node:buffer';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

import {
  ConfigError,
  JsonSyntaxError,
  JweInvalidError,
  JweUnsupportedError,
  KeyNotFoundError,
  TokenTooLargeError,
} from '../errors.js';
import {
  CEK_BYTES,
  EncryptionKey,
  isContentEncryption,
  isKeyManagementAlgorithm,
  type ContentEncryption,
  type KeyManagementAlgorithm,
} from '../key/encryption-key.js';
import { generatePrivateKey } from '../key/generate.js';
import { decodeBase64url, encodeBase64url } from '../lib/base64url.js';
import { parseStrictJson } from '../lib/json.js';
import { decodeUtf8 } from '../lib/utf8.js';
import { normalizeType } from './profile.js';
import { ACCESS_TOKEN_TYPE } from './sign.js';
import {
  AccessTokenVerifier,
  nonNegative,
  type AccessTokenVerifyOptions,
  type KeySource,
  type VerifiedAccessToken,
} from './verify.js';

/** Longest encrypted token accepted by default, in characters: an 8192-character JWS, encrypted, and a header. */
export const DEFAULT_MAX_JWE_LENGTH = 12288;
/** Longest protected header accepted by default, in characters (a P-384 epk takes about 300). */
export const DEFAULT_MAX_JWE_HEADER_LENGTH = 1024;
/** The header holds one object (epk) inside the header object. */
const MAX_HEADER_DEPTH = 2;
/** apu and apv (the Concat KDF's party info), at most this many bytes each. */
const MAX_PARTY_INFO_BYTES = 128;
const IV_BYTES = 12;
/** Header parameters of PBES2 (p2s, p2c) and AES-GCM key wrap (iv, tag): never meaningful here, so never taken. */
const FOREIGN_PARAMETERS = ['p2s', 'p2c', 'iv', 'tag'];
const TAG_BYTES = 16;

/** The protected header of a compact JWE, as parsed. */
export interface JweHeader {
  alg: KeyManagementAlgorithm;
  enc: ContentEncryption;
  cty: string;
  kid?: string;
  typ?: string;
  epk?: Record<string, unknown>;
  apu?: string;
  apv?: string;
  [parameter: string]: unknown;
}

export interface JweDecryptOptions {
  /** Exact allowlist of key management algorithms. Required. `dir` also needs `allowDir: true`. */
  algorithms: readonly KeyManagementAlgorithm[];
  /** Exact allowlist of content encryptions. Default `['A256GCM']`. */
  encryptions?: readonly ContentEncryption[];
  /** Accept `alg: dir` (a secret shared with the issuer, no key agreement) when `algorithms` lists it. Default false. */
  allowDir?: boolean;
  /** Accepted `typ` of the JWE header when it has one, as media types. Default `['at+jwt']`. */
  typ?: readonly string[];
  /** Longest token accepted, in characters. Default 12288. */
  maxTokenLength?: number;
  /** Longest protected header accepted, in characters. Default 1024. */
  maxHeaderLength?: number;
}

/** Decryption keys: one, or a list searched by exact `kid` (or, without a kid, the one key of the token's alg). */
export type DecryptionKeySource = EncryptionKey | readonly EncryptionKey[];

export interface DecryptedJwe {
  header: JweHeader;
  /** The content: a compact JWS, not yet verified. */
  jws: string;
  /** The key that decrypted it. */
  key: EncryptionKey;
}

function invalid(reason: string, message: string): JweInvalidError {
  return new JweInvalidError(reason, message);
}

/** The one refusal of every failure from the key agreement to the tag: no step can be told from another. */
function undecryptable(): JweInvalidError {
  return invalid('decryption', 'the token does not decrypt');
}

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A compact JWE has five segments (a JWS three); anything else is not one. */
export function isCompactJwe(token: string): boolean {
  let dots = 0;
  for (let i = token.indexOf('.'); i !== -1 && dots < 5; i = token.indexOf('.', i + 1)) dots++;
  return dots === 4;
}

/**
 * Decrypts compact JWE tokens, in this order: size cap; JSON serialization refused; exactly five segments,
 * each canonical base64url; the header (length cap, UTF-8, strict JSON); `alg` and `enc` in the allowlists,
 * no `zip`, no `crit`; `typ` (when present) and `cty` `JWT`; IV of 12 bytes and tag of 16; the key; the epk
 * (the key's curve, the point on it); then the key agreement or unwrapping and AES-GCM, whose failures are all
 * one (`decryption`); the content must be a compact JWS. The JWS is not verified here: see
 * `EncryptedAccessTokenVerifier`.
 */
export class JweDecrypter {
  private readonly algorithms: ReadonlySet<string>;
  private readonly encryptions: ReadonlySet<string>;
  private readonly types: readonly string[];
  private readonly maxLength: number;
  private readonly maxHeaderLength: number;

  constructor(options: JweDecryptOptions) {
    const algs = options?.algorithms;
    if (!Array.isArray(algs) || algs.length === 0)
      throw new ConfigError('algorithms', 'an explicit, non-empty allowlist is required');
    for (const a of algs) {
      if (!isKeyManagementAlgorithm(a))
        throw new ConfigError('algorithms', `unsupported key management algorithm ${JSON.stringify(String(a)).slice(0, 40)}`);
    }
    if (algs.includes('dir') && options.allowDir !== true)
      throw new ConfigError('algorithms', 'dir is accepted only with allowDir: true');
    const encs = options.encryptions ?? ['A256GCM'];
    if (!Array.isArray(encs) || encs.length === 0 || !encs.every(isContentEncryption)) {
      throw new ConfigError('encryptions', 'must be a non-empty list of A256GCM and A128GCM');
    }
    const types = options.typ ?? [ACCESS_TOKEN_TYPE];
    if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new ConfigError('typ', 'must be a non-empty list of media types');
    }
    this.algorithms = new Set(algs);
    this.encryptions = new Set(encs);
    this.types = Object.freeze(types.map(normalizeType));
    this.maxLength = nonNegative('maxTokenLength', options.maxTokenLength, DEFAULT_MAX_JWE_LENGTH);
    this.maxHeaderLength = nonNegative('maxHeaderLength', options.maxHeaderLength, DEFAULT_MAX_JWE_HEADER_LENGTH);
  }

  decrypt(token: string, keys: DecryptionKeySource): DecryptedJwe {
    if (typeof token !== 'string') throw invalid('segments', 'token must be a string');
    if (token.length > this.maxLength) throw new TokenTooLargeError(this.maxLength);
    if (token.trimStart().startsWith('{'))
      throw new JweUnsupportedError('serialization', 'JWE JSON serialization is not accepted; use compact');
    const parts = token.split('.');
    if (parts.length !== 5) throw invalid('segments', 'an encrypted token has exactly five segments');
    const [h, ek, ivs, cts, tags] = parts as [string, string, string, string, string];
    if (h.length > this.maxHeaderLength)
      throw invalid('header', `protected header longer than ${this.maxHeaderLength} characters`);
    const header = this.parseHeader(h);
    const encryptedKey = decodeBase64url(ek);
    const iv = decodeBase64url(ivs);
    const ciphertext = decodeBase64url(cts);
    const tag = decodeBase64url(tags);
    if (!encryptedKey || !iv || !ciphertext || !tag) throw invalid('base64url', 'a segment is not canonical base64url');
    if (iv.length !== IV_BYTES) throw invalid('iv', `the IV must be ${IV_BYTES} bytes`);
    if (tag.length !== TAG_BYTES) throw invalid('tag', `the authentication tag must be ${TAG_BYTES} bytes`);
    const key = selectKey(header, keys);
    const cek = contentKey(header, key, encryptedKey);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv(gcm(header.enc), cek, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(h, 'latin1'));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw undecryptable();
    }
    const jws = plaintext.toString('latin1');
    if (!JWS.test(jws)) {
      if (jws.split('.').length === 5) throw invalid('nested-jwe', 'the content is another encrypted token; a JWS is required');
      throw invalid('plaintext', 'the content is not a compact JWS');
    }
    return { header, jws, key };
  }

  private parseHeader(segment: string): JweHeader {
    const bytes = decodeBase64url(segment);
    if (bytes === undefined) throw invalid('base64url', 'header is not canonical base64url');
    const text = decodeUtf8(bytes);
    if (text === undefined) throw invalid('header', 'header is not valid UTF-8');
    let value: unknown;
    try {
      value = parseStrictJson(text, MAX_HEADER_DEPTH);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw invalid('header', `header: ${err.message}`);
      throw err;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw invalid('header', 'header must be a JSON object');
    const header = value as Record<string, unknown>;
    // Refused before any key is looked at or any work is done: PBES2's p2c, a zip bomb, RSA1_5 never get that far.
    if (typeof header.alg !== 'string' || !this.algorithms.has(header.alg))
      throw new JweUnsupportedError('alg', 'alg is not in the allowlist');
    if (typeof header.enc !== 'string' || !this.encryptions.has(header.enc))
      throw new JweUnsupportedError('enc', 'enc is not in the allowlist');
    if (header.zip !== undefined) throw new JweUnsupportedError('zip', 'compressed content (zip) is not accepted');
    if (header.crit !== undefined) throw new JweUnsupportedError('crit', 'no critical header extension is supported');
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !this.types.includes(normalizeType(header.typ)))) {
      throw invalid('typ', 'typ is not an accepted type');
    }
    if (typeof header.cty !== 'string' || normalizeType(header.cty) !== 'jwt') {
      throw invalid('cty', 'cty must be JWT: the content of an encrypted token is a signed JWT');
    }
    if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length === 0))
      throw invalid('header', 'kid must be a non-empty string');
    for (const name of FOREIGN_PARAMETERS) {
      if (header[name] !== undefined) throw invalid('header', `${name} belongs to an algorithm Tessera does not decrypt`);
    }
    const ecdh = header.alg.startsWith('ECDH-ES');
    if (!ecdh && (header.epk !== undefined || header.apu !== undefined || header.apv !== undefined)) {
      throw invalid('header', 'epk, apu and apv belong to ECDH-ES only');
    }
    for (const name of ['apu', 'apv']) {
      const v = header[name];
      if (v === undefined) continue;
      const bytes = typeof v === 'string' ? decodeBase64url(v) : undefined;
      if (bytes === undefined || bytes.length > MAX_PARTY_INFO_BYTES)
        throw invalid('header', `${name} must be canonical base64url of at most ${MAX_PARTY_INFO_BYTES} bytes`);
    }
    return Object.freeze(header) as JweHeader;
  }
}

function selectKey(header: JweHeader, keys: DecryptionKeySource): EncryptionKey {
  const list: readonly EncryptionKey[] =
    keys instanceof EncryptionKey ? [keys] : Array.isArray(keys) ? keys.filter((k) => k instanceof EncryptionKey) : [];
  let found: EncryptionKey | undefined;
  if (header.kid !== undefined) found = list.find((k) => k.kid === header.kid);
  else {
    const fitting = list.filter((k) => k.alg === header.alg && k.kind !== 'public');
    if (fitting.length === 1) found = fitting[0];
  }
  if (found === undefined || found.alg !== header.alg || found.kind === 'public') {
    throw new KeyNotFoundError('no decryption key matches the token (kid and alg)');
  }
  return found;
}

function gcm(enc: ContentEncryption): 'aes-256-gcm' | 'aes-128-gcm' {
  return enc === 'A256GCM' ? 'aes-256-gcm' : 'aes-128-gcm';
}

const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

/**
 * The content encryption key. A failure here (a wrong-size or undecryptable RSA-OAEP key, an AES key wrap
 * integrity failure) yields a random key instead, so that the token fails at the tag like any other
 * (RFC 7516 section 11.5): an RSA padding failure is never told apart from a bad tag.
 */
function contentKey(header: JweHeader, key: EncryptionKey, encryptedKey: Buffer): Buffer {
  const size = CEK_BYTES[header.enc];
  switch (header.alg) {
    case 'dir': {
      if (encryptedKey.length !== 0) throw invalid('header', 'dir takes an empty encrypted key');
      const secret = key.keyObject.export();
      return secret.length === size ? secret : randomBytes(size);
    }
    case 'RSA-OAEP-256': {
      // The stand-in key is drawn first, whatever comes: success and failure then differ by the least work.
      const fallback = randomBytes(size);
      let cek: Buffer | undefined;
      if (encryptedKey.length === key.modulusBytes) {
        try {
          cek = privateDecrypt(
            { key: key.keyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
            encryptedKey,
          );
        } catch {
          cek = undefined;
        }
      }
      return cek !== undefined && cek.length === size ? cek : fallback;
    }
    case 'ECDH-ES': {
      if (encryptedKey.length !== 0) throw invalid('header', 'ECDH-ES takes an empty encrypted key');
      return concatKdf(agree(header, key), size * 8, header.enc, header);
    }
    case 'ECDH-ES+A256KW': {
      const kek = concatKdf(agree(header, key), 256, header.alg, header);
      const fallback = randomBytes(size);
      if (encryptedKey.length !== size + 8) return fallback;
      try {
        const decipher = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
        const cek = Buffer.concat([decipher.update(encryptedKey), decipher.final()]);
        return cek.length === size ? cek : fallback;
      } catch {
        return fallback;
      }
    }
  }
}

/** Field prime p and coefficient b of y^2 = x^3 - 3x + b, per NIST curve (FIPS 186-4 D.1.2). */
const WEIERSTRASS: Readonly<Record<string, { p: bigint; b: bigint; bytes: number }>> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    bytes: 32,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    bytes: 48,
  },
};

function int(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex')}`);
}

/**
 * The ephemeral public key, checked before any key agreement (the invalid-curve attack): a JWK of the
 * recipient key's own type and curve, nothing else in it, coordinates of the field's exact length, below p
 * and on the curve (checked here and again by OpenSSL as node imports it).
 */
function ephemeralKey(epk: unknown, key: EncryptionKey): KeyObject {
  if (typeof epk !== 'object' || epk === null || Array.isArray(epk)) throw invalid('epk', 'epk must be a JWK object');
  const j = epk as Record<string, unknown>;
  const members = key.kty === 'EC' ? ['kty', 'crv', 'x', 'y'] : ['kty', 'crv', 'x'];
  if (Object.keys(j).some((m) => !members.includes(m))) throw invalid('epk', 'epk holds members other than the public key');
  if (j.kty !== key.kty || j.crv !== key.crv) throw invalid('epk', "epk is not on the recipient key's curve");
  const x = typeof j.x === 'string' ? decodeBase64url(j.x) : undefined;
  if (key.kty === 'EC') {
    const curve = WEIERSTRASS[key.crv!]!;
    const y = typeof j.y === 'string' ? decodeBase64url(j.y) : undefined;
    if (!x || !y || x.length !== curve.bytes || y.length !== curve.bytes)
      throw invalid('epk', 'epk coordinates have the wrong length');
    const [X, Y, p] = [int(x), int(y), curve.p];
    if (X >= p || Y >= p || (Y * Y) % p !== (((X * X * X - 3n * X + curve.b) % p) + p) % p) {
      throw invalid('epk', 'epk is not a point on the curve');
    }
  } else if (!x || x.length !== 32) throw invalid('epk', 'epk must be a 32-byte X25519 public key');
  try {
    return createPublicKey({ key: { kty: j.kty, crv: j.crv, x: j.x, y: j.y } as never, format: 'jwk' });
  } catch {
    throw invalid('epk', 'epk is not a valid public key');
  }
}

/** The ECDH shared secret Z with the token's epk; an all-zero Z (an X25519 point of low order) is refused. */
function agree(header: JweHeader, key: EncryptionKey): Buffer {
  const publicKey = ephemeralKey(header.epk, key);
  let z: Buffer;
  try {
    z = diffieHellman({ privateKey: key.keyObject, publicKey });
  } catch {
    throw invalid('epk', 'no key agreement with the epk');
  }
  if (z.every((b) => b === 0)) throw invalid('epk', 'the epk is of low order');
  return z;
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function withLength(b: Buffer): Buffer {
  return Buffer.concat([uint32(b.length), b]);
}

/** RFC 7518 section 4.6.2: the Concat KDF of NIST SP 800-56A with SHA-256, for `bits` bits of key. */
function concatKdf(z: Buffer, bits: number, algorithmId: string, header: { apu?: string; apv?: string }): Buffer {
  const otherInfo = Buffer.concat([
    withLength(Buffer.from(algorithmId, 'ascii')),
    withLength(header.apu === undefined ? Buffer.alloc(0) : decodeBase64url(header.apu)!),
    withLength(header.apv === undefined ? Buffer.alloc(0) : decodeBase64url(header.apv)!),
    uint32(bits),
  ]);
  const rounds: Buffer[] = [];
  for (let i = 1; i <= Math.ceil(bits / 256); i++)
    rounds.push(createHash('sha256').update(uint32(i)).update(z).update(otherInfo).digest());
  return Buffer.concat(rounds).subarray(0, bits / 8);
}

export interface EncryptJwtOptions {
  /** Content encryption; default A256GCM. */
  enc?: ContentEncryption;
  /** The JWE header's kid; default the recipient key's. */
  kid?: string;
  /** The JWE header's typ; default `at+jwt` (the content is an RFC 9068 access token). */
  typ?: string;
}

/**
 * Encrypts a signed JWT to a recipient's key: a nested JWT (RFC 7519 section 5.2), a compact JWE with header
 * `{alg, enc, cty: "JWT", typ: "at+jwt", kid}` (plus `epk` for ECDH-ES). The recipient decrypts it with
 * `JweDecrypter` and verifies the JWS inside with its issuer's key.
 */
export function encryptJwt(signedJws: string, recipient: EncryptionKey, options: EncryptJwtOptions = {}): string {
  if (typeof signedJws !== 'string' || !JWS.test(signedJws) || signedJws.endsWith('.')) {
    throw new ConfigError('jws', 'the content must be a signed compact JWS');
  }
  if (!(recipient instanceof EncryptionKey)) throw new ConfigError('recipient', 'must be an EncryptionKey');
  const enc = options.enc ?? 'A256GCM';
  if (!isContentEncryption(enc)) throw new ConfigError('enc', 'must be A256GCM or A128GCM');
  const kid = options.kid ?? recipient.kid;
  if (typeof kid !== 'string' || kid.length === 0) throw new ConfigError('kid', 'must be a non-empty string');
  const typ = options.typ ?? ACCESS_TOKEN_TYPE;
  if (typeof typ !== 'string' || typ.length === 0) throw new ConfigError('typ', 'must be a non-empty string');
  const size = CEK_BYTES[enc];
  const header: Record<string, unknown> = { alg: recipient.alg, enc, cty: 'JWT', typ, kid };
  let cek: Buffer;
  let encryptedKey = Buffer.alloc(0);
  switch (recipient.alg) {
    case 'dir':
      cek = recipient.keyObject.export();
      if (cek.length !== size) throw new ConfigError('enc', `the dir key is ${cek.length} bytes; ${enc} needs ${size}`);
      break;
    case 'RSA-OAEP-256':
      cek = randomBytes(size);
      encryptedKey = publicEncrypt(
        { key: recipient.publicKeyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        cek,
      );
      break;
    case 'ECDH-ES':
    case 'ECDH-ES+A256KW': {
      const ephemeral = ephemeralPair(recipient);
      header.epk = ephemeral.jwk;
      const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.publicKeyObject });
      if (recipient.alg === 'ECDH-ES') cek = concatKdf(z, size * 8, enc, {});
      else {
        cek = randomBytes(size);
        const cipher = createCipheriv('id-aes256-wrap', concatKdf(z, 256, recipient.alg, {}), AES_KW_IV);
        encryptedKey = Buffer.concat([cipher.update(cek), cipher.final()]);
      }
      break;
    }
  }
  const protectedHeader = encodeBase64url(JSON.stringify(header));
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(gcm(enc), cek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(protectedHeader, 'latin1'));
  const ciphertext = Buffer.concat([cipher.update(signedJws, 'latin1'), cipher.final()]);
  return [
    protectedHeader,
    encodeBase64url(encryptedKey),
    encodeBase64url(iv),
    encodeBase64url(ciphertext),
    encodeBase64url(cipher.getAuthTag()),
  ].join('.');
}

/** A fresh key pair on the recipient's curve, and its public JWK for the header. */
function ephemeralPair(recipient: EncryptionKey): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const privateKey = generatePrivateKey(
    recipient.crv === 'X25519' ? { type: 'x25519' } : { type: 'ec', namedCurve: recipient.crv! },
  );
  return { privateKey, jwk: createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown> };
}

/** One-shot decryption; build a `JweDecrypter` once to decrypt many tokens. */
export function decryptJwe(token: string, keys: DecryptionKeySource, options: JweDecryptOptions): DecryptedJwe {
  return new JweDecrypter(options).decrypt(token, keys);
}

export interface EncryptedAccessTokenVerifyOptions {
  /** How the token is decrypted. */
  decryption: JweDecryptOptions;
  /** How the access token inside is verified: the same options as `AccessTokenVerifier`'s. */
  verification: AccessTokenVerifyOptions;
}

export interface VerifiedEncryptedAccessToken extends VerifiedAccessToken {
  /** The JWE's protected header. */
  jweHeader: JweHeader;
  /** The key that decrypted the token. */
  decryptionKey: EncryptionKey;
}

/**
 * Encrypted access tokens: `JweDecrypter` opens the JWE, then the strict `AccessTokenVerifier` verifies the
 * signed access token inside (its own alg allowlist, `typ` `at+jwt`, the issuer's key, the claims). An
 * encrypted token without a valid signature inside is refused: encryption is never a substitute for it.
 */
export class EncryptedAccessTokenVerifier {
  private readonly decrypter: JweDecrypter;
  private readonly verifier: AccessTokenVerifier;

  constructor(options: EncryptedAccessTokenVerifyOptions) {
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'decryption and verification are required');
    this.decrypter = new JweDecrypter(options.decryption);
    this.verifier = new AccessTokenVerifier(options.verification);
  }

  verifyAccessToken(
    token: string,
    decryptionKeys: DecryptionKeySource,
    verificationKeys: KeySource,
  ): VerifiedEncryptedAccessToken {
    const { header, jws, key } = this.decrypter.decrypt(token, decryptionKeys);
    const verified = this.verifier.verifyAccessToken(jws, verificationKeys);
    return { ...verified, jweHeader: header, decryptionKey: key };
  }
}

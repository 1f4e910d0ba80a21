import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

import { ConfigError, decodeBase64url } from '@tessera/core';

import { KeyDecryptionError } from '../keys/errors.js';

/**
 * The master key and the keys derived from it (HKDF-SHA256, one label per use): one encrypts private signing
 * keys at rest (AES-256-GCM, the kid as associated data), others make keyed digests of client secrets and
 * refresh tokens, so that a copy of the database alone reveals none of them.
 */
export class MasterKey {
  private readonly encryptionKey: Buffer;
  private readonly secretDigestKey: Buffer;
  private readonly refreshDigestKey: Buffer;
  private readonly dpopNonceKey: Buffer;
  private readonly tokenStoreKey: Buffer;
  private readonly tokenDigestKey: Buffer;

  constructor(master: Buffer) {
    if (master.length !== 32) throw new ConfigError('masterKey', 'must be 32 bytes (base64url)');
    const derive = (label: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `tessera ${label}`, 32));
    this.encryptionKey = derive('signing-key encryption v1');
    this.secretDigestKey = derive('client-secret digest v1');
    this.refreshDigestKey = derive('refresh-token digest v1');
    this.dpopNonceKey = derive('dpop nonce v1');
    this.tokenStoreKey = derive('encrypted-token store v1');
    this.tokenDigestKey = derive('encrypted-token digest v1');
  }

  /** A private signing key encrypted under its `kid` (the associated data). */
  encrypt(plaintext: string, aad: string): string {
    return seal(this.encryptionKey, plaintext, aad);
  }

  /** The private key encrypted under `kid` (its associated data); KeyDecryptionError if this master key cannot. */
  decrypt(box: string, kid: string): string {
    const opened = open(this.encryptionKey, box, kid);
    if (typeof opened !== 'string') throw new KeyDecryptionError(kid, opened.failure);
    return opened;
  }

  /**
   * The signed token inside an encrypted access token, encrypted for the store under the digest it is kept by (the
   * associated data): a copy of the database reveals neither its claims nor a token a service would take.
   */
  sealToken(token: string, digest: string): string {
    return seal(this.tokenStoreKey, token, digest);
  }

  /** What `sealToken` sealed under `digest`; undefined when it cannot be opened (another master key, a changed row). */
  openToken(box: string, digest: string): string | undefined {
    const opened = open(this.tokenStoreKey, box, digest);
    return typeof opened === 'string' ? opened : undefined;
  }

  /** Keyed digest of an encrypted access token, the key it is kept by. */
  tokenDigest(token: string): string {
    return createHmac('sha256', this.tokenDigestKey).update(token).digest('base64url');
  }

  /** Keyed digest of a client secret (HMAC-SHA256): fast, and useless without the master key. */
  secretDigest(secret: string): string {
    return createHmac('sha256', this.secretDigestKey).update(secret).digest('base64url');
  }

  refreshDigest(token: string): string {
    return createHmac('sha256', this.refreshDigestKey).update(token).digest('base64url');
  }

  /**
   * The DPoP server nonce of a time window (RFC 9449 section 8): every instance with this master key makes the same
   * one, and nobody without it can make a future one.
   */
  dpopNonce(window: number): string {
    return createHmac('sha256', this.dpopNonceKey).update(`dpop-nonce:${window}`).digest('base64url');
  }
}

/** AES-256-GCM of `plaintext` with `aad`: `v1.` and base64url of IV, ciphertext and tag. */
function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url')}`;
}

/** What `seal` sealed with `aad`, or why it cannot be opened. */
function open(key: Buffer, box: string, aad: string): string | { failure: 'format' | 'authentication' } {
  const raw = box.startsWith('v1.') ? decodeBase64url(box.slice(3)) : undefined;
  if (!raw || raw.length < 28) return { failure: 'format' };
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return { failure: 'authentication' };
  }
}

/**
 * The master key from TESSERA_MASTER_KEY, else from the key file (which must be mode 0600); with neither,
 * a new key is written to the key file (0600). Refuses a key file readable by others.
 */
export function loadMasterKey(options: { masterKey: string | undefined; masterKeyFile: string; create: boolean }): MasterKey {
  if (options.masterKey !== undefined) {
    const raw = decodeBase64url(options.masterKey.trim());
    if (!raw || raw.length !== 32) throw new ConfigError('masterKey', 'must be 32 random bytes in base64url (43 characters)');
    return new MasterKey(raw);
  }
  const file = options.masterKeyFile;
  if (!existsSync(file)) {
    if (!options.create) throw new ConfigError('masterKeyFile', `${file} does not exist`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32).toString('base64url') + '\n');
    } finally {
      closeSync(fd);
    }
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new ConfigError(
      'masterKeyFile',
      `${file} must not be readable by group or others (mode ${mode.toString(8)}; chmod 600)`,
    );
  const raw = decodeBase64url(readFileSync(file, 'utf8').trim());
  if (!raw || raw.length !== 32) throw new ConfigError('masterKeyFile', `${file} must hold 32 random bytes in base64url`);
  return new MasterKey(raw);
}

import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';

import { ALGORITHMS } from '../algorithms.js';
import type { Key } from '../key/key.js';

/**
 * HMAC (RFC 2104) of a token's signing input: H((K ^ opad) || H((K ^ ipad) || message)), as two calls to
 * node:crypto's one-shot `hash`. `createHmac` builds a stream object and an OpenSSL context for every
 * token, which costs more than hashing a token's few hundred bytes; here the two padded key blocks are
 * built once per key, and the message is written behind the inner one in a reused buffer. The MAC comes
 * back base64url-encoded, ready to compare with the token's signature segment. The tests check every
 * algorithm and key length against `createHmac` (test/hmac-oracle.test.ts). Node before 20.12 has no
 * `crypto.hash`: there `createHmac` computes the same value.
 */

export type HmacHash = 'sha256' | 'sha384' | 'sha512';

const BLOCK_BYTES: Readonly<Record<HmacHash, number>> = { sha256: 64, sha384: 128, sha512: 128 };
const DIGEST_BYTES: Readonly<Record<HmacHash, number>> = { sha256: 32, sha384: 48, sha512: 64 };
/** The inner buffer grows to this many bytes at most; a longer message gets a buffer of its own. */
const MAX_KEPT_BYTES = 16 * 1024;
const oneShot = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

export class Hmac {
  /** K ^ ipad, then room for the message. */
  private inner: Buffer;
  /** The last view of `viewOf` handed to `hash`. */
  private view: Buffer = Buffer.alloc(0);
  private viewOf: Buffer | undefined;
  /** K ^ opad, then the inner digest. */
  private readonly outer: Buffer;
  private readonly block: number;

  constructor(
    private readonly hash: HmacHash,
    private readonly key: KeyObject,
  ) {
    const block = BLOCK_BYTES[hash];
    const secret = key.export();
    // A key longer than the block is hashed first (RFC 2104 section 2); a shorter one is padded with zeros.
    const k = secret.length > block ? nodeCrypto.createHash(hash).update(secret).digest() : secret;
    this.block = block;
    this.inner = Buffer.alloc(block + 1024);
    this.outer = Buffer.alloc(block + DIGEST_BYTES[hash]);
    for (let i = 0; i < block; i++) {
      const b = i < k.length ? k[i]! : 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
    secret.fill(0);
    k.fill(0);
  }

  /**
   * The base64url MAC of the first `length` characters of `text`, one byte each: callers pass ASCII (a
   * signing input is base64url and dots), so latin1 gives its bytes.
   */
  macLatin1(text: string, length: number): string {
    if (oneShot === undefined) return this.fallback(text.slice(0, length));
    const inner = this.room(this.block + length);
    return this.finish(inner, this.block + inner.write(text, this.block, length, 'latin1'));
  }

  /** The base64url MAC of the signing input `${header}.${payload}` (ASCII), without joining the two. */
  macSigningInput(header: string, payload: string): string {
    if (oneShot === undefined) return this.fallback(`${header}.${payload}`);
    const inner = this.room(this.block + header.length + 1 + payload.length);
    let n = this.block + inner.write(header, this.block, 'latin1');
    inner[n++] = 0x2e;
    n += inner.write(payload, n, 'latin1');
    return this.finish(inner, n);
  }

  /** The outer hash, over K ^ opad and the inner hash of the first `end` bytes of `inner`. */
  private finish(inner: Buffer, end: number): string {
    // Messages of one issuer repeat lengths: the view of the last one is kept (making one costs more).
    let view = this.view;
    if (view.length !== end || this.viewOf !== inner) {
      view = inner.subarray(0, end);
      if (inner === this.inner) {
        this.view = view;
        this.viewOf = inner;
      }
    }
    const innerDigest = oneShot!(this.hash, view, 'binary'); // latin1
    this.outer.write(innerDigest, this.block, 'latin1');
    return oneShot!(this.hash, this.outer, 'base64url');
  }

  private fallback(message: string): string {
    return nodeCrypto.createHmac(this.hash, this.key).update(message, 'latin1').digest('base64url');
  }

  /** A buffer of at least `size` bytes that starts with K ^ ipad: the kept one, grown up to a bound. */
  private room(size: number): Buffer {
    if (size <= this.inner.length) return this.inner;
    const bigger = Buffer.alloc(size <= MAX_KEPT_BYTES ? Math.min(MAX_KEPT_BYTES, Math.max(size, 2 * this.inner.length)) : size);
    this.inner.copy(bigger, 0, 0, this.block);
    if (bigger.length <= MAX_KEPT_BYTES) this.inner = bigger;
    return bigger;
  }
}

const byKey = new WeakMap<Key, Hmac>();

/** The `Hmac` of an HMAC key (kty `oct`), built on first use. */
export function hmacOf(key: Key): Hmac {
  let h = byKey.get(key);
  if (h === undefined) byKey.set(key, (h = new Hmac(ALGORITHMS[key.alg].hash as HmacHash, key.keyObject)));
  return h;
}

/**
 * True when `text`, from `start` to its end, is exactly `expected`; in time that depends on the lengths
 * only, never on where the two differ (no early exit), as `timingSafeEqual` does for bytes.
 */
export function equalsTail(text: string, start: number, expected: string): boolean {
  const n = expected.length;
  if (text.length - start !== n) return false;
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= text.charCodeAt(start + i) ^ expected.charCodeAt(i);
  return diff === 0;
}

import { Buffer } from 'node:buffer';

/** Scratch buffers grow to this many bytes at most; a larger request gets a buffer of its own. */
const MAX_KEPT_BYTES = 16 * 1024;

/**
 * A buffer reused from call to call, for bytes that only live during one synchronous step of signing or
 * verifying (a segment decoded to be parsed, a signing input handed to node:crypto). Allocating a fresh
 * Buffer for each costs more than the copy itself: Node carves small Buffers out of an 8 KiB pool that is
 * replaced every few tokens, and each pool is memory the garbage collector must track and free.
 *
 * A view returned by a method is valid until the next call on the same Scratch: use it before calling
 * anything that could run the caller's code (a key-source function may verify another token).
 */
export class Scratch {
  private buf = Buffer.allocUnsafeSlow(2048);
  /** The last view handed out, of `lastOf`: the next request of the same length gets it again. */
  private last: Buffer = Buffer.alloc(0);
  private lastOf: Buffer | undefined;

  /** The decoded bytes of canonical unpadded base64url (see `decodeBase64url`), or undefined. */
  decodeBase64url(s: string): Buffer | undefined {
    const buf = this.room(((s.length * 3) >>> 2) + 3);
    const n = buf.write(s, 0, 'base64url');
    // Node's decoder is lenient; the encoder's output is canonical: a round trip proves `s` canonical.
    return buf.toString('base64url', 0, n) === s ? this.view(buf, n) : undefined;
  }

  /** The first `length` characters of `text` as bytes, one each (latin1; callers pass ASCII). */
  latin1(text: string, length: number): Buffer {
    const buf = this.room(length);
    return this.view(buf, buf.write(text, 0, length, 'latin1'));
  }

  /** The bytes of the signing input `${header}.${payload}` (ASCII), without joining the two strings. */
  signingInput(header: string, payload: string): Buffer {
    const buf = this.room(header.length + 1 + payload.length);
    let n = buf.write(header, 0, 'latin1');
    buf[n++] = 0x2e;
    n += buf.write(payload, n, 'latin1');
    return this.view(buf, n);
  }

  /** `text` as UTF-8, base64url-encoded (lone surrogates become U+FFFD, as `Buffer.from` makes them). */
  utf8ToBase64url(text: string): string {
    const buf = this.room(text.length * 3);
    return buf.toString('base64url', 0, buf.write(text, 0, 'utf8'));
  }

  /**
   * The first `n` bytes of `buf`, as a view of its own (see `last`). A Buffer rather than a plain
   * Uint8Array: node:crypto's JavaScript then sees the same kind of object from every caller.
   */
  private view(buf: Buffer, n: number): Buffer {
    if (buf !== this.buf) return buf.subarray(0, n);
    if (this.last.length !== n || this.lastOf !== buf) {
      this.last = buf.subarray(0, n);
      this.lastOf = buf;
    }
    return this.last;
  }

  private room(bytes: number): Buffer {
    if (bytes <= this.buf.length) return this.buf;
    if (bytes > MAX_KEPT_BYTES) return Buffer.allocUnsafe(bytes);
    return (this.buf = Buffer.allocUnsafeSlow(Math.min(MAX_KEPT_BYTES, Math.max(bytes, 2 * this.buf.length))));
  }
}

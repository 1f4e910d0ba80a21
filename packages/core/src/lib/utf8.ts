/**
 * Strict UTF-8 decoding: the text of `bytes`, or undefined unless they are well-formed UTF-8 (no overlong
 * forms, surrogates or code points above U+10FFFF; WHATWG's fatal decoder, the same verdict as
 * `buffer.isUtf8`). A leading byte-order mark is kept as U+FEFF, never silently dropped. One call does what
 * `isUtf8` then `toString` do in two.
 */
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

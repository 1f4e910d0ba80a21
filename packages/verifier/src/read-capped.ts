/**
 * Reads a response body up to `maxBytes`, whatever Content-Length says (a chunked body has none): a body
 * that declares more, or streams more, is cancelled and refused with `tooLarge()`. The read is abandoned
 * after `timeoutMs`.
 */
export async function readCapped(res: Response, maxBytes: number, timeoutMs: number, tooLarge: () => Error): Promise<string> {
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (length > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const deadline = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(deadline);
  }
  return Buffer.concat(chunks).toString('utf8');
}

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

/** Seconds since the epoch for a clock in milliseconds. */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** A NumericDate (RFC 7519 section 2): a finite, non-negative number of seconds, fractions allowed. */
export function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

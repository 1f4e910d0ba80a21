/** Epoch seconds, as every JSON Tessera writes states an instant; the store keeps milliseconds. */
export function epochSeconds(ms: number): number;
export function epochSeconds(ms: number | null): number | null;
export function epochSeconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}

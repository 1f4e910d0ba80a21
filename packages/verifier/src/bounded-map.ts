/** The most entries an in-process map of attacker-chosen keys holds (rate-limit and login-throttle counters). */
export const MAX_ENTRIES = 100_000;

/**
 * Makes room in `map` when it holds `max` entries or more: each pass in turn drops the entries it says may go
 * (idle ones first, say), until the map is under `max`; a map still full (a flood of live keys) loses its
 * oldest tenth, in insertion order, so that making room stays rare.
 */
export function makeRoom<K, V>(map: Map<K, V>, passes: readonly ((value: V) => boolean)[], max: number = MAX_ENTRIES): void {
  for (const mayGo of passes) {
    if (map.size < max) return;
    for (const [k, v] of map) if (mayGo(v)) map.delete(k);
  }
  if (map.size < max) return;
  let drop = max / 10;
  for (const k of map.keys()) {
    if (drop-- <= 0) break;
    map.delete(k);
  }
}

/**
 * For a map that must not forget a live entry (the proofs already used once): drops what `mayGo` allows when `map`
 * holds `max` entries or more, and says whether there is room now. Never drops a live entry; a map still full is
 * for the caller to refuse the new one (fail closed).
 */
export function hasRoom<K, V>(map: Map<K, V>, mayGo: (value: V) => boolean, max: number = MAX_ENTRIES): boolean {
  if (map.size < max) return true;
  for (const [k, v] of map) if (mayGo(v)) map.delete(k);
  return map.size < max;
}

/**
 * A bounded map that evicts the least recently used entry. Recency is refreshed lazily: a hit moves its entry
 * to the newest end only once it has drifted into the older half (more than max/2 writes since it was last
 * placed), so the hot path of a hit on a recently used entry is one Map lookup and no re-insertion.
 */
interface Slot<V> {
  value: V;
  /** The write counter when the entry was last placed at the newest end. */
  placed: number;
}

export class Lru<K, V> {
  private readonly map = new Map<K, Slot<V>>();
  private writes = 0;
  constructor(readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    if (this.writes - slot.placed > this.max >>> 1) {
      this.map.delete(key);
      slot.placed = ++this.writes;
      this.map.set(key, slot);
    }
    return slot.value;
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, { value, placed: ++this.writes });
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, slot] of this.map) yield [k, slot.value];
  }
}

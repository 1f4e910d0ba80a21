/** How long a read of a stored list serves lookups: a record added or removed on another instance counts from then. */
export const STORED_DIRECTORY_REFRESH_MS = 5_000;

/**
 * A small set of stored records a request looks up by one key (workload issuers by `iss`, resource servers by
 * audience): read from the store as one list and kept for `refreshMs` (a request does not pay a query and a parse
 * of the record), re-read at once on this instance after an admin change (`changed`), within that time on the
 * others. A lookup of an unknown key never forces a read: a caller cannot make the store work by sending made-up
 * keys.
 */
export class StoredDirectory<T> {
  private byKey: Map<string, T> | undefined;
  private loadedAt = -Infinity;
  private loading: Promise<Map<string, T>> | undefined;
  private generation = 0;

  constructor(
    private readonly load: () => Promise<T[]>,
    private readonly keyOf: (record: T) => string,
    private readonly now: () => number,
    private readonly refreshMs = STORED_DIRECTORY_REFRESH_MS,
  ) {}

  /** The record of this key. */
  async get(key: string): Promise<T | undefined> {
    return (await this.current()).get(key);
  }

  /** The stored records changed on this instance: the next lookup reads them again. */
  changed(): void {
    this.generation++;
    this.byKey = undefined;
    this.loading = undefined;
  }

  private current(): Promise<Map<string, T>> | Map<string, T> {
    if (this.byKey !== undefined && this.now() - this.loadedAt < this.refreshMs) return this.byKey;
    if (this.loading !== undefined) return this.loading;
    const generation = this.generation;
    const startedAt = this.now();
    const loading = this.load().then(
      (list) => {
        const map = new Map(list.map((r) => [this.keyOf(r), r]));
        // A change made while this read ran is not in it: keep it for this caller only.
        if (generation === this.generation) {
          this.byKey = map;
          this.loadedAt = startedAt;
          this.loading = undefined;
        }
        return map;
      },
      (err: unknown) => {
        if (this.loading === loading) this.loading = undefined;
        throw err;
      },
    );
    this.loading = loading;
    return loading;
  }
}

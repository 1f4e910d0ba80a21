import type { Store } from '../store/types.js';
import type { WorkloadIssuer } from './issuer.js';

/** How long a read of the stored issuers serves lookups: an issuer added or removed on another instance counts from then. */
export const WORKLOAD_ISSUERS_REFRESH_MS = 5_000;

/**
 * The trusted workload issuers a token request looks up by `iss`: read from the store as one list and kept for
 * WORKLOAD_ISSUERS_REFRESH_MS (a token request does not pay a query and a parse of the issuer's record), re-read
 * at once on this instance after an admin change (`changed`), within that time on the others. A lookup of an
 * unknown `iss` never forces a read: a caller cannot make the store work by sending made-up issuers.
 */
export class WorkloadIssuerDirectory {
  private byIss: Map<string, WorkloadIssuer> | undefined;
  private loadedAt = -Infinity;
  private loading: Promise<Map<string, WorkloadIssuer>> | undefined;
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly refreshMs = WORKLOAD_ISSUERS_REFRESH_MS,
  ) {}

  /** The issuer whose tokens carry this `iss` (or, for a SPIFFE trust domain, whose `spiffe://` name it is). */
  async byIssuer(iss: string): Promise<WorkloadIssuer | undefined> {
    return (await this.current()).get(iss);
  }

  /** The stored issuers changed on this instance: the next lookup reads them again. */
  changed(): void {
    this.generation++;
    this.byIss = undefined;
    this.loading = undefined;
  }

  private current(): Promise<Map<string, WorkloadIssuer>> | Map<string, WorkloadIssuer> {
    if (this.byIss !== undefined && this.now() - this.loadedAt < this.refreshMs) return this.byIss;
    if (this.loading !== undefined) return this.loading;
    const generation = this.generation;
    const startedAt = this.now();
    const loading = this.store.workloadIssuers.list().then(
      (list) => {
        const map = new Map(list.map((i) => [i.issuer, i]));
        // A change made while this read ran is not in it: keep it for this caller only.
        if (generation === this.generation) {
          this.byIss = map;
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

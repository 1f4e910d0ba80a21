import { StoredDirectory } from '../store/stored-directory.js';
import type { Store } from '../store/types.js';
import type { WorkloadIssuer } from './issuer.js';

/**
 * The trusted workload issuers a token request looks up by `iss` (or, for a SPIFFE trust domain, by its
 * `spiffe://` name), kept as every stored directory is (StoredDirectory: re-read every 5 s, at once after an admin
 * change on this instance).
 */
export class WorkloadIssuerDirectory extends StoredDirectory<WorkloadIssuer> {
  constructor(store: Store, now: () => number, refreshMs?: number) {
    super(
      () => store.workloadIssuers.list(),
      (i) => i.issuer,
      now,
      refreshMs,
    );
  }

  byIssuer(iss: string): Promise<WorkloadIssuer | undefined> {
    return this.get(iss);
  }
}

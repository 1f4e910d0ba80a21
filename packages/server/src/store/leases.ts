/** Leases: instances sharing one database use them so that one of them runs a job. */
export interface LeaseRepository {
  /**
   * Takes the lease `name` for `holder` until `now + ttlMs`: true when `holder` now holds it, because it was free,
   * had expired, or was already this holder's (then it is renewed); false while another holder's is in force. Of
   * concurrent calls for a free lease exactly one wins.
   */
  acquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it (else does nothing). */
  release(name: string, holder: string): Promise<void>;
}

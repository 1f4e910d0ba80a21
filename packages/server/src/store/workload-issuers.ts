import type { WorkloadIssuer } from '../workload/issuer.js';

/** Trusted workload issuers registered through the admin service (those of the config file are not stored). */
export interface WorkloadIssuerRepository {
  /** Every stored issuer, by name. */
  list(): Promise<WorkloadIssuer[]>;
  get(name: string): Promise<WorkloadIssuer | undefined>;
  /** The issuer whose tokens carry this exact `iss` (or, for a SPIFFE trust domain, this `spiffe://` name). */
  byIssuer(issuer: string): Promise<WorkloadIssuer | undefined>;
  /** Adds one; StoreConflictError when its name or its issuer is taken. */
  create(issuer: WorkloadIssuer): Promise<void>;
  /** Replaces the one of the same name; false if there is none. StoreConflictError when its issuer is taken. */
  replace(issuer: WorkloadIssuer): Promise<boolean>;
  /** false if there was none. */
  delete(name: string): Promise<boolean>;
}

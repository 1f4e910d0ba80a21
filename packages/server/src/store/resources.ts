import type { Resource } from '../resources/resource.js';

/** Resource servers registered through the admin service. */
export interface ResourceRepository {
  /** Every resource, by name. */
  list(): Promise<Resource[]>;
  get(name: string): Promise<Resource | undefined>;
  /** Adds one; StoreConflictError when its name or its resource identifier is taken. */
  create(resource: Resource): Promise<void>;
  /**
   * Replaces the one of the same name; false if there is none, or (compare and set) if `previous` is given and
   * the stored one is no longer it. StoreConflictError when its identifier is taken.
   */
  replace(resource: Resource, previous?: Resource): Promise<boolean>;
  /** false if there was none. */
  delete(name: string): Promise<boolean>;
}

/**
 * The signed inner token of each encrypted access token issued (sealed by the master key: the store sees only its
 * box), by the keyed digest of the encrypted token, kept until it expires: the issuer cannot decrypt what it
 * encrypted to a resource, and introspection answers from this.
 */
export interface EncryptedTokenRepository {
  record(digest: string, inner: string, expiresAt: number): Promise<void>;
  /** The (sealed) inner token of an unexpired encrypted token, undefined for any other. */
  inner(digest: string, now: number): Promise<string | undefined>;
  /** Deletes up to `limit` expired records; returns how many went. */
  prune(now: number, limit: number): Promise<number>;
}

/** Signing keys and their life cycle: next (published) -> active (signing) -> retired (published) -> removed. */

export type KeyState = 'next' | 'active' | 'retired' | 'removed';

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  state: KeyState;
  /** AES-256-GCM ciphertext of the private JWK under the master key. */
  encryptedPrivateKey: string;
  /** The public JWK (null for HMAC secrets, which are never published). */
  publicJwk: Record<string, unknown> | null;
  createdAt: number;
  /** When it starts (or started) signing. */
  activatesAt: number;
  retiredAt: number | null;
  /** When a retired key leaves the JWKS. */
  removeAfter: number | null;
}

export type KeyPatch = Partial<Pick<SigningKeyRecord, 'state' | 'activatesAt' | 'retiredAt' | 'removeAfter'>>;

export interface KeyRepository {
  /** Every key, by activation time. */
  list(): Promise<SigningKeyRecord[]>;
  insert(key: SigningKeyRecord): Promise<void>;
  update(kid: string, patch: KeyPatch): Promise<void>;
  /**
   * Retires the active key and activates the next one in one transaction: a reader never sees the keys with no
   * active one.
   */
  promote(retire: KeyRetirement, activate: { kid: string; activatesAt: number }): Promise<void>;
  /**
   * Retires the active key and inserts `active` (a new key in state active) in one transaction: the hand-over when
   * there is no next key.
   */
  replaceActive(retire: KeyRetirement, active: SigningKeyRecord): Promise<void>;
  /** Removes the next key `removeKid` (if any) and inserts `next` (a new key in state next) in one transaction. */
  replaceNext(removeKid: string | undefined, next: SigningKeyRecord): Promise<void>;
}

/**
 * The active key's retirement. promote, replaceActive and replaceNext change a key only from the state they expect
 * (active; next): a key in another state (changed meanwhile, or by hand) makes them throw StoreStateError, and
 * nothing is written.
 */
export interface KeyRetirement {
  kid: string;
  retiredAt: number;
  removeAfter: number;
}

/**
 * Consents: which scopes a user has allowed a third-party client, remembered so that the consent page asks only
 * for what is new. Times are milliseconds since the epoch.
 */
export interface Consent {
  userId: string;
  clientId: string;
  /** The scopes allowed so far, each once. */
  scopes: string[];
  /** When the user last allowed something to this client. */
  grantedAt: number;
}

export interface ConsentRepository {
  /** The user's consent to the client, if they gave one. */
  get(userId: string, clientId: string): Promise<Consent | undefined>;
  /** Records the consent, replacing the user's earlier one to the same client. */
  put(consent: Consent): Promise<void>;
  /** The user's consents, by client id. */
  listByUser(userId: string): Promise<Consent[]>;
  /** Withdraws the user's consent to the client; false if there was none. */
  delete(userId: string, clientId: string): Promise<boolean>;
}

/** The jtis of client assertions (private_key_jwt) seen, kept until the assertion expires: each is used once. */
export interface AssertionJtiRepository {
  /** Records a client-assertion jti; false if this client already used it (a replay). */
  use(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
}

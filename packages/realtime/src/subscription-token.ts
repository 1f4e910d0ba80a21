/**
 * Subscription tokens: a JWT that lets one user subscribe to one channel until it expires, whatever the
 * connection's scopes, for channels whose access an application decides case by case (a private room, a
 * paid feed). Header `typ: "sub+jwt"`; claims `iss`, `aud`, `sub` (the connection's user), `channel`,
 * `iat`, `exp`, `jti`. The gateway verifies them with `subscriptionVerifier` (a Verifier created with
 * `typ: SUBSCRIPTION_TOKEN_TYPE`), and a connection refreshes them with `sub_refresh` before they expire.
 */
import { randomUUID } from 'node:crypto';

import { ConfigError, signJwt, type Key } from '@tessera/core';

export const SUBSCRIPTION_TOKEN_TYPE = 'sub+jwt';

export interface SubscriptionTokenInput {
  readonly issuer: string;
  readonly audience: string;
  readonly sub: string;
  readonly channel: string;
  /** Lifetime in seconds. */
  readonly ttl: number;
  /** Seconds since the epoch. Default: now. */
  readonly now?: number;
}

/** Signs a subscription token with a Tessera signing key (the application back-end holds it). */
export function signSubscriptionToken(key: Key, input: SubscriptionTokenInput): string {
  if (!Number.isFinite(input.ttl) || input.ttl <= 0) throw new ConfigError('ttl', 'must be a positive number of seconds');
  const iat = Math.floor(input.now ?? Date.now() / 1000);
  return signJwt(
    {
      iss: input.issuer,
      aud: input.audience,
      sub: input.sub,
      channel: input.channel,
      iat,
      exp: iat + Math.floor(input.ttl),
      jti: randomUUID(),
    },
    key,
    { typ: SUBSCRIPTION_TOKEN_TYPE },
  );
}

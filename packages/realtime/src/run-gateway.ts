import { createRevocationList, createVerifier, type RevocationList, type Verifier } from '@tessera/verifier';

import type { Broker } from './broker.js';
import { systemClock } from './clock.js';
import type { GatewayConfig } from './config.js';
import { createGateway, type Gateway } from './gateway.js';
import type { Logger } from './hub.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

/**
 * Starts what a config describes: the revocation list (waits until it has loaded), the verifier, the broker
 * (Redis when configured; `ioredis` must be installed) and the gateway on its port.
 */
export async function runGateway(config: GatewayConfig, options: { logger?: Logger } = {}): Promise<RunningGateway> {
  let revocations: RevocationList | undefined;
  let verifier: Verifier | undefined;
  let broker: Broker | undefined;
  const closers: (() => unknown)[] = [];
  // One clock for the gateway and its broker.
  const clock = systemClock;
  try {
    if (config.revocations) {
      revocations = createRevocationList({
        issuer: config.issuer,
        clientId: config.revocations.clientId,
        clientSecret: config.revocations.clientSecret,
      });
      closers.push(() => revocations!.close());
      await revocations.ready(30_000);
    }
    verifier = createVerifier({
      issuer: config.issuer,
      audience: config.audience,
      algorithms: config.algorithms,
      jwksUri: `${config.issuer}/.well-known/jwks.json`,
      ...(config.externalOrigin ? { externalOrigin: config.externalOrigin } : {}),
      ...(config.decryptionKeys ? { decryptionKeys: config.decryptionKeys } : {}),
      ...(revocations ? { revocations } : {}),
    });
    closers.push(() => verifier!.close());
    if (config.redisUrl) {
      const { Redis } = await import('ioredis');
      const { RedisBroker } = await import('./redis-broker.js');
      const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
      closers.push(() => redis.quit().catch(() => redis.disconnect()));
      broker = new RedisBroker({ redis, clock });
    }
    const gateway = createGateway({
      clock,
      verifier,
      ...(revocations ? { revocations } : {}),
      channels: config.channels,
      ...(broker ? { broker } : {}),
      limits: config.limits,
      ...(config.path ? { path: config.path } : {}),
      ...(config.apiPath ? { apiPath: config.apiPath } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    closers.unshift(() => gateway.close());
    const { url, wsUrl } = await gateway.listen({
      host: config.host,
      port: config.port,
      ...(config.tls ? { tls: config.tls } : {}),
    });
    return {
      gateway,
      url,
      wsUrl,
      async close() {
        for (const c of closers) await c();
      },
    };
  } catch (err) {
    for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
    throw err;
  }
}

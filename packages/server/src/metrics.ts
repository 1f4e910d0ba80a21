import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { KeyManager } from './keys/manager.js';

/** Prometheus metrics of one server instance, served at /metrics (see metrics-route.ts). */
export class Metrics {
  readonly registry = new Registry();
  readonly tokens = new Counter({
    name: 'tessera_tokens_issued_total',
    help: 'Token requests by grant type and outcome (success, or the OAuth error code).',
    labelNames: ['grant', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly tokenLatency = new Histogram({
    name: 'tessera_token_request_duration_seconds',
    help: 'Token endpoint latency by grant type.',
    labelNames: ['grant'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /**
   * Reasons: invalid_credentials (an unknown user and a wrong password alike: no metric tells them apart),
   * disabled (a disabled user with the right password), throttled (refused by the login throttle, unchecked).
   */
  readonly loginFailures = new Counter({
    name: 'tessera_login_failures_total',
    help: 'Failed password logins by reason (invalid_credentials, disabled, throttled).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly passwordVerifications = new Counter({
    name: 'tessera_password_verifications_total',
    help: 'Passwords verified (argon2id) by the password grant and the hosted login; logins refused by the throttle verify none.',
    registers: [this.registry],
  });

  readonly revocationStreams = new Gauge({
    name: 'tessera_revocation_streams',
    help: 'Open revocation event streams (verifiers and gateways following this instance).',
    registers: [this.registry],
  });
  readonly revocationSequence = new Gauge({
    name: 'tessera_revocation_sequence',
    help: 'Sequence number of the last revocation this instance has applied.',
    registers: [this.registry],
  });

  constructor(keys: KeyManager) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_process_' });
    new Gauge({
      name: 'tessera_signing_keys',
      help: 'Signing keys by state and algorithm (a track each: the main algorithm, and RS256 for ID tokens).',
      labelNames: ['state', 'alg'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const alg of keys.algorithms())
          for (const state of ['next', 'active', 'retired', 'removed'])
            this.set({ state, alg }, keys.list().filter((k) => k.state === state && k.alg === alg).length);
      },
    });
  }
}

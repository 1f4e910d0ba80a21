import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';

import type { RateLimiter, RateRule } from '@tessera/verifier/internal';
import type { NewAuditEvent, Store } from '../store/types.js';
import { IssuanceCounts } from './issuance-counts.js';

export type AuditInput = Omit<NewAuditEvent, 'time' | 'actor' | 'subject' | 'clientId' | 'ip' | 'data'> &
  Partial<Pick<NewAuditEvent, 'actor' | 'subject' | 'clientId' | 'ip' | 'data'>>;

/** Failed logins from one address within this window, past this count, raise an anomaly event. */
const BURST_WINDOW_MS = 60_000;
const BURST_THRESHOLD = 10;

export interface AuditOptions {
  /**
   * Failures of unauthenticated requests per source address (auditFailuresPerSecond): within it they are written,
   * beyond it only counted. Absent: every one is written.
   */
  failureLimit?: { limiter: RateLimiter; rule: RateRule };
  /** client_credentials tokens: one event each, one per client and minute (default), or none. */
  clientCredentials?: 'every' | 'aggregate' | 'off';
  /** Where the audit's counters are registered (the server's /metrics). */
  registry?: Registry;
}

/**
 * Audit trail: every login, issuance, refusal, revocation and admin change becomes an event in the store.
 * Events never carry a token, secret or password. Anomaly events (`anomaly.*`) mark refresh-token reuse and
 * bursts of failed logins.
 *
 * Bounded: what anyone can cause without credentials (refusals) is written at most `failureLimit` times per second
 * per address and counted beyond; routine client_credentials tokens are counted, and written per client and minute.
 */
export class Audit {
  private readonly failures = new Map<string, number[]>();
  private readonly issuance = new IssuanceCounts('client_credentials');
  private readonly suppressed: Counter<'type'>;
  private readonly clientTokens: Counter<'client_id'>;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number,
    private readonly options: AuditOptions = {},
  ) {
    const registers = options.registry ? [options.registry] : [];
    this.suppressed = new Counter({
      name: 'tessera_audit_suppressed_total',
      help: 'Audit events of refused unauthenticated requests not written, their address being over auditFailuresPerSecond.',
      labelNames: ['type'] as const,
      registers,
    });
    this.clientTokens = new Counter({
      name: 'tessera_client_credentials_tokens_total',
      help: 'client_credentials tokens issued, by client.',
      labelNames: ['client_id'] as const,
      registers,
    });
  }

  /**
   * The refusal of a request that has not (or not yet) authenticated: written while its address is within the
   * limit, else only counted, so that a flood of bad requests cannot fill the store.
   */
  async refusal(ip: string, e: AuditInput): Promise<void> {
    const limit = this.options.failureLimit;
    if (limit && !(await limit.limiter.take(`audit-failure:${ip}`, limit.rule, this.now()))) {
      this.suppressed.inc({ type: e.type });
      return;
    }
    await this.record({ ...e, ip });
  }

  /**
   * A service's own token (client_credentials, or the JWT bearer grant of a workload): counted always; written as
   * the `clientCredentials` option says, the aggregate per client, grant and workload.
   */
  async clientCredentialsIssued(
    e: AuditInput & { clientId: string; workload?: { issuer: string; sub: string }; grant?: string },
  ): Promise<void> {
    this.clientTokens.inc({ client_id: e.clientId });
    const mode = this.options.clientCredentials ?? 'aggregate';
    if (mode === 'every') return this.record(e);
    if (mode === 'off') return;
    await this.write(this.issuance.count(e.clientId, this.now(), e.workload, e.grant));
    // The last minute of a client that stops is written by the timer, at the latest a minute after it ends.
    this.flushTimer ??= setInterval(() => void this.flush(false), 60_000).unref();
  }

  /** Writes the aggregate events of the minutes that have ended (with `all`, of the current one too: at shutdown). */
  async flush(all = true): Promise<void> {
    await this.write(this.issuance.take(this.now(), all));
  }

  /** Writes what is pending and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush(true);
  }

  private async write(events: NewAuditEvent[]): Promise<void> {
    for (const event of events) await this.append(event);
  }

  private async append(event: NewAuditEvent): Promise<void> {
    try {
      await this.store.audit.append(event);
    } catch (err) {
      this.log.error({ err, type: event.type }, 'audit event could not be stored');
    }
  }

  async record(e: AuditInput): Promise<void> {
    const event: NewAuditEvent = {
      time: this.now(),
      type: e.type,
      outcome: e.outcome,
      actor: e.actor ?? null,
      subject: e.subject ?? null,
      clientId: e.clientId ?? null,
      ip: e.ip ?? null,
      data: e.data ?? {},
    };
    await this.append(event);
    if (e.type.startsWith('anomaly.'))
      this.log.warn({ type: e.type, subject: e.subject, clientId: e.clientId, ip: e.ip }, 'anomaly');
  }

  /** Counts a failed login; records `anomaly.login_burst` when one address fails too often too fast. */
  async loginFailed(ip: string, user: { id?: string; username?: string }, clientId: string, reason: string): Promise<void> {
    // subject is the user id, as in every other user event; the username (possibly of no user) goes in data.
    await this.refusal(ip, {
      type: 'login.failure',
      outcome: 'failure',
      subject: user.id,
      clientId,
      data: { reason, username: user.username },
    });
    const now = this.now();
    const list = (this.failures.get(ip) ?? []).filter((t) => now - t < BURST_WINDOW_MS);
    list.push(now);
    this.failures.set(ip, list);
    if (list.length === BURST_THRESHOLD) {
      await this.record({
        type: 'anomaly.login_burst',
        outcome: 'info',
        ip,
        clientId,
        data: { failures: list.length, window_seconds: BURST_WINDOW_MS / 1000 },
      });
    }
    if (this.failures.size > 10_000) this.failures.clear();
  }
}

import type { FastifyBaseLogger } from 'fastify';

import type { NewAuditEvent, Store } from '../store/types.js';

export type AuditInput = Omit<NewAuditEvent, 'time' | 'actor' | 'subject' | 'clientId' | 'ip' | 'data'> &
  Partial<Pick<NewAuditEvent, 'actor' | 'subject' | 'clientId' | 'ip' | 'data'>>;

/** Failed logins from one address within this window, past this count, raise an anomaly event. */
const BURST_WINDOW_MS = 60_000;
const BURST_THRESHOLD = 10;

/**
 * Audit trail: every login, issuance, refusal, revocation and admin change becomes an event in the store.
 * Events never carry a token, secret or password. Anomaly events (`anomaly.*`) mark refresh-token reuse and
 * bursts of failed logins.
 */
export class Audit {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly store: Store,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number,
  ) {}

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
    try {
      await this.store.appendAudit(event);
    } catch (err) {
      this.log.error({ err, type: e.type }, 'audit event could not be stored');
    }
    if (e.type.startsWith('anomaly.'))
      this.log.warn({ type: e.type, subject: e.subject, clientId: e.clientId, ip: e.ip }, 'anomaly');
  }

  /** Counts a failed login; records `anomaly.login_burst` when one address fails too often too fast. */
  async loginFailed(ip: string, user: { id?: string; username?: string }, clientId: string, reason: string): Promise<void> {
    // subject is the user id, as in every other user event; the username (possibly of no user) goes in data.
    await this.record({
      type: 'login.failure',
      outcome: 'failure',
      subject: user.id,
      clientId,
      ip,
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
        data: { failures: list.length, windowSeconds: BURST_WINDOW_MS / 1000 },
      });
    }
    if (this.failures.size > 10_000) this.failures.clear();
  }
}

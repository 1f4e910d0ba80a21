import type { NewAuditEvent } from '../store/types.js';

const MINUTE_MS = 60_000;

/**
 * Routine token issuance summed per client and minute, for the `aggregate` audit of client_credentials tokens: a
 * service that takes a token a second writes one event a minute, not sixty. `take(now)` hands over the events of
 * every minute that has ended (all of them with `all`), each naming its client, its minute and the count.
 */
export class IssuanceCounts {
  private minute = -1;
  private counts = new Map<string, number>();

  constructor(private readonly grant: string) {}

  /** Counts one token; returns the events of the minute that ended, if this token starts a new one. */
  count(clientId: string, now: number): NewAuditEvent[] {
    const minute = Math.floor(now / MINUTE_MS);
    const ended = minute !== this.minute ? this.take(now, true) : [];
    this.minute = minute;
    this.counts.set(clientId, (this.counts.get(clientId) ?? 0) + 1);
    return ended;
  }

  /** The events of the current minute once it has ended (or now, with `all`); they are counted no more here. */
  take(now: number, all = false): NewAuditEvent[] {
    if (this.counts.size === 0 || (!all && Math.floor(now / MINUTE_MS) === this.minute)) return [];
    const from = this.minute * MINUTE_MS;
    const events = [...this.counts].map(([clientId, count]): NewAuditEvent => ({
      time: Math.min(now, from + MINUTE_MS),
      type: 'token.issued.aggregate',
      outcome: 'success',
      actor: null,
      subject: clientId,
      clientId,
      ip: null,
      data: { grant: this.grant, count, from, to: from + MINUTE_MS },
    }));
    this.counts = new Map();
    return events;
  }
}

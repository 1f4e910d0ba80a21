import type { NewAuditEvent } from '../store/types.js';

const MINUTE_MS = 60_000;

/** The workload identity a client authenticated with: its trusted issuer's name and the token's sub. */
interface Workload {
  issuer: string;
  sub: string;
}

/**
 * Routine token issuance summed per client and minute, for the `aggregate` audit of client_credentials tokens: a
 * service that takes a token a second writes one event a minute, not sixty. `take(now)` hands over the events of
 * every minute that has ended (all of them with `all`), each naming its client, its minute and the count. A client
 * that authenticated with workload identities is counted per workload (its issuer and sub), each named in its event.
 */
export class IssuanceCounts {
  private minute = -1;
  private counts = new Map<string, { clientId: string; grant: string; workload: Workload | undefined; count: number }>();

  constructor(private readonly grant: string) {}

  /** Counts one token; returns the events of the minute that ended, if this token starts a new one. */
  count(clientId: string, now: number, workload?: Workload, grant = this.grant): NewAuditEvent[] {
    const minute = Math.floor(now / MINUTE_MS);
    const ended = minute !== this.minute ? this.take(now, true) : [];
    this.minute = minute;
    let key = grant === this.grant ? clientId : `${clientId}\n${grant}`;
    if (workload !== undefined) key += `\n${workload.issuer}\n${workload.sub}`;
    const c = this.counts.get(key);
    if (c === undefined) this.counts.set(key, { clientId, grant, workload, count: 1 });
    else c.count++;
    return ended;
  }

  /** The events of the current minute once it has ended (or now, with `all`); they are counted no more here. */
  take(now: number, all = false): NewAuditEvent[] {
    if (this.counts.size === 0 || (!all && Math.floor(now / MINUTE_MS) === this.minute)) return [];
    const from = this.minute * MINUTE_MS;
    const events = [...this.counts.values()].map(({ clientId, grant, workload, count }): NewAuditEvent => ({
      time: Math.min(now, from + MINUTE_MS),
      type: 'token.issued.aggregate',
      outcome: 'success',
      actor: null,
      subject: clientId,
      clientId,
      ip: null,
      data: { grant, count, from, to: from + MINUTE_MS, ...(workload ? { workload } : {}) },
    }));
    this.counts = new Map();
    return events;
  }
}

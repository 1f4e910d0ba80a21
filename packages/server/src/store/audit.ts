/** The audit trail: append-only events, read newest first, pruned by age. */

export interface AuditEvent {
  id: number;
  time: number;
  type: string;
  outcome: 'success' | 'failure' | 'info';
  actor: string | null;
  subject: string | null;
  clientId: string | null;
  ip: string | null;
  data: Record<string, unknown>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id'>;

export interface AuditFilter {
  /** A type, or a prefix of types as `prefix.*`. */
  type?: string;
  subject?: string;
  from?: number;
  to?: number;
  /** Page size (1-500). */
  limit: number;
  /** Cursor: events with an id below this one (newest first). */
  before?: number;
}

export interface AuditRepository {
  /** Resolves with the event's id once it is committed; ids follow the order of the calls. */
  append(event: NewAuditEvent): Promise<number>;
  /** Newest first. */
  query(filter: AuditFilter): Promise<AuditEvent[]>;
  /** Deletes at most `limit` audit events older than `before` (the oldest first); returns how many. */
  prune(before: number, limit: number): Promise<number>;
}

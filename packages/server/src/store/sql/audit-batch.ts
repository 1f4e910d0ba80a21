/** Most rows in one INSERT: 8 parameters each stays far below SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_BATCH = 500;

interface Pending<Row> {
  row: Row;
  resolve(id: number): void;
  reject(err: unknown): void;
}

/**
 * Group commit for audit events. Every token issued writes one, so on SQLite each used to be a transaction
 * of its own (a WAL commit: four pages, six file locks). Appends made in one turn of the event loop now go
 * to the database together, as one multi-row INSERT, when the turn ends (setImmediate).
 *
 * What callers see does not change: each append resolves only once its event is committed, with its id, and
 * ids follow the order of the calls (one INSERT numbers its rows in VALUES order; the ids it returns are
 * sorted, since RETURNING promises no order). If a batch fails, its events are retried one by one, so that a
 * bad event fails alone.
 */
export class AuditBatch<Row> {
  private pending: Pending<Row>[] = [];
  private readonly flushes = new Set<Promise<void>>();

  /** `insert` writes every row and returns one id each, or writes none and throws. */
  constructor(private readonly insert: (rows: Row[]) => Promise<number[]>) {}

  append(row: Row): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) {
        const flush = new Promise<void>((done) => setImmediate(() => void this.flush().then(done)));
        this.flushes.add(flush);
        void flush.then(() => this.flushes.delete(flush));
      }
      this.pending.push({ row, resolve, reject });
    });
  }

  /** Resolves once every append made so far has been written (or has failed): before closing the database. */
  async drain(): Promise<void> {
    while (this.flushes.size > 0) await Promise.all(this.flushes);
  }

  private async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) await this.write(all.slice(i, i + MAX_BATCH));
  }

  private async write(batch: Pending<Row>[]): Promise<void> {
    try {
      const ids = (await this.insert(batch.map((p) => p.row))).sort((a, b) => a - b);
      batch.forEach((p, i) => p.resolve(ids[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const p of batch) await this.write([p]);
    }
  }
}

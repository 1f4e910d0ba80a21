import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

import type { Database } from '../schema.js';

/** Stands in for a named value while the query is built; never a value a caller could store (it starts with NUL). */
const MARK = '\u0000tessera-value:';

/**
 * A query of fixed shape on the hot paths (token endpoint, code exchange, refresh), written by the query builder
 * once instead of at every run: built with a marker in place of each named value, compiled for the store's
 * dialect on first use, then run with the values bound where the markers were. Building and compiling a query
 * costs 15-20 µs (bench/_steps: a code redemption's four statements took 170 µs of CPU through the builder and
 * 45 µs as compiled SQL); running compiled SQL costs the driver's time only.
 *
 * Only for queries whose SQL does not depend on the values (no `in` list, no optional filter): the SQL of the
 * first run serves every run.
 */
export class Prepared<N extends string> {
  /** Per dialect: keyed by the database's dialect adapter, which its transactions share. */
  private readonly compiled = new WeakMap<object, { sql: string; slots: ({ name: N } | { value: unknown })[] }>();

  constructor(private readonly build: (db: Kysely<Database>, value: (name: N) => never) => Compilable) {}

  /**
   * Runs the query with `values` on `on` (a store's database or a transaction of it): SQL compiled on the first
   * run for that database's dialect serves every later run on it.
   */
  run<R = object>(on: Kysely<Database>, values: Record<N, unknown>): Promise<QueryResult<R>> {
    const adapter = on.getExecutor().adapter;
    let compiled = this.compiled.get(adapter);
    if (!compiled) this.compiled.set(adapter, (compiled = this.compile(on)));
    const { sql, slots } = compiled;
    return on.executeQuery<R>(
      CompiledQuery.raw(
        sql,
        slots.map((s) => ('name' in s ? values[s.name] : s.value)),
      ),
    );
  }

  private compile(db: Kysely<Database>): { sql: string; slots: ({ name: N } | { value: unknown })[] } {
    const q = this.build(db, (name) => `${MARK}${name}` as never).compile();
    const slots = q.parameters.map((p) =>
      typeof p === 'string' && p.startsWith(MARK) ? { name: p.slice(MARK.length) as N } : { value: p },
    );
    return { sql: q.sql, slots };
  }
}

import { sql } from 'kysely';

import type { SqlStore } from '@tessera/server/internal';

let triggers = 0;

/**
 * Makes the real database refuse a kind of write, with a trigger (SQLite or PostgreSQL): the crash between two
 * writes of a state change, made deterministic. `when` is an SQL condition on NEW (e.g. `NEW.state = 'active'`).
 * Returns a function that removes the trigger.
 */
export function refuseWrites(
  store: SqlStore,
  table: string,
  op: 'insert' | 'update',
  when?: string,
): Promise<() => Promise<void>> {
  return trigger(store, table, op, when, 'refuse');
}

/**
 * Makes the real database skip a kind of write silently (the statement succeeds, the row is not written), as a
 * misbehaving driver or a trigger someone added could. Returns a function that removes the trigger.
 */
export function dropWrites(store: SqlStore, table: string, op: 'insert' | 'update', when?: string): Promise<() => Promise<void>> {
  return trigger(store, table, op, when, 'drop');
}

async function trigger(
  store: SqlStore,
  table: string,
  op: 'insert' | 'update',
  when: string | undefined,
  kind: 'refuse' | 'drop',
): Promise<() => Promise<void>> {
  const name = `${kind}_${table}_${op}_${++triggers}`;
  const condition = when === undefined ? '' : ` when (${when})`;
  if (store.dialect === 'sqlite') {
    const action = kind === 'refuse' ? `raise(abort, 'injected fault')` : 'raise(ignore)';
    await sql
      .raw(`create trigger ${name} before ${op} on ${table} for each row${condition} begin select ${action}; end`)
      .execute(store.db);
    return async () => void (await sql.raw(`drop trigger ${name}`).execute(store.db));
  }
  const body = kind === 'refuse' ? `raise exception 'injected fault'` : 'return null';
  await sql.raw(`create function ${name}() returns trigger language plpgsql as $$ begin ${body}; end $$`).execute(store.db);
  await sql
    .raw(`create trigger ${name} before ${op} on ${table} for each row${condition} execute function ${name}()`)
    .execute(store.db);
  return async () => {
    await sql.raw(`drop trigger ${name} on ${table}`).execute(store.db);
    await sql.raw(`drop function ${name}()`).execute(store.db);
  };
}

/** Runs one statement on the store's own database (to set up a state an older version could leave). */
export async function execute(store: SqlStore, statement: string): Promise<void> {
  await sql.raw(statement).execute(store.db);
}

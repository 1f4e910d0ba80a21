import { StoreRowError } from '../errors.js';

/**
 * Readers of one row's columns, each checking the type the schema promises and throwing StoreRowError otherwise.
 * Hand-written typeof checks, not a schema library: getClient and the refresh lookups read rows on every token
 * request. Drivers differ in what they hand back: SQLite gives numbers, PostgreSQL gives int8 columns as decimal
 * strings; flags are stored as 0/1.
 */
export class RowReader {
  private readonly row: Record<string, unknown>;

  constructor(
    private readonly table: string,
    row: object,
  ) {
    this.row = row as Record<string, unknown>;
  }

  private fail(column: string, expected: string): never {
    throw new StoreRowError(this.table, column, expected);
  }

  text(column: string): string {
    const v = this.row[column];
    return typeof v === 'string' ? v : this.fail(column, 'text');
  }

  textOrNull(column: string): string | null {
    const v = this.row[column];
    return v === null || typeof v === 'string' ? v : this.fail(column, 'text or null');
  }

  /** An integer (times, ids, lifetimes). */
  int(column: string): number {
    const n = toInt(this.row[column]);
    return n ?? this.fail(column, 'an integer');
  }

  intOrNull(column: string): number | null {
    const v = this.row[column];
    if (v === null) return null;
    return toInt(v) ?? this.fail(column, 'an integer or null');
  }

  /** A 0/1 flag (a boolean from a driver that maps it). */
  flag(column: string): boolean {
    const v = this.row[column];
    if (v === 0 || v === 1) return v === 1;
    return typeof v === 'boolean' ? v : this.fail(column, 'a 0/1 flag');
  }

  /** Text that is one of `values`. */
  oneOf<T extends string>(column: string, values: readonly T[]): T {
    const v = this.row[column];
    return values.includes(v as T) ? (v as T) : this.fail(column, `one of ${values.join(', ')}`);
  }

  /** A JSON column, parsed and handed to `check`, which returns the value or undefined when the shape is wrong. */
  json<T>(column: string, expected: string, check: (value: unknown) => T | undefined): T {
    const text = this.text(column);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.fail(column, expected);
    }
    const checked = check(value);
    return checked === undefined ? this.fail(column, expected) : checked;
  }

  jsonOrNull<T>(column: string, expected: string, check: (value: unknown) => T | undefined): T | null {
    return this.row[column] === null ? null : this.json(column, expected, check);
  }

  /** A JSON array of strings. */
  strings(column: string): string[] {
    return this.json(column, 'a JSON array of strings', strings);
  }
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,16}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  return undefined;
}

export function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
}

/** A JSON object (not an array, not null). */
export function object(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

import { formatJson, out } from './io.js';

/** `--json`: every command takes it and then prints one JSON document, in the admin API's field names. */
export const JSON_FLAG = { json: { type: 'boolean' } } as const;

/** Prints `data` as JSON with --json, else the human-readable `text`. */
export function print(json: boolean | undefined, data: unknown, text: () => string): void {
  out(json === true ? formatJson(data) : text());
}

/** An instant (epoch seconds, as the JSON states it) for the human-readable output. */
export function isoTime(seconds: number | null): string {
  return seconds === null ? '-' : new Date(seconds * 1000).toISOString();
}

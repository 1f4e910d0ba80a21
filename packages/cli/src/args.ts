import { parseArgs, type ParseArgsConfig } from 'node:util';

import { ALGORITHMS, isAlgorithm, type Algorithm } from '@tessera/core';

import { nearest } from './did-you-mean.js';
import { UsageError } from './errors.js';
import { redact } from './redact.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Config<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: true };
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<Config<O>>>;

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * Thrown by parseFlags for `--help` / `-h`: the caller prints the command's usage and exits 0. Not a failure
 * and never reported, so not a coded TesseraError: main.ts catches it before reportError.
 */
export class HelpRequest extends Error {}

/**
 * node:util parseArgs in strict mode, its errors turned into UsageError (exit code 2). A flag that takes
 * one value may be given once only (parseArgs would silently keep the last). Positionals are always
 * allowed here and counted by the caller, so that parseArgs never echoes one (it may be a token).
 */
export function parseFlags<const O extends Options>(args: string[], options: O): Pick<Parsed<O>, 'values' | 'positionals'> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, ...HELP }, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw unknownFlag(args, options);
    throw new UsageError(redact(err instanceof Error ? err.message : 'invalid arguments'));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  if ((parsed.values as { help?: boolean }).help === true) throw new HelpRequest();
  return { values: parsed.values as Parsed<O>['values'], positionals: parsed.positionals };
}

/** The first flag the command does not have, named (redacted, shortened) with the nearest one it has. */
function unknownFlag(args: string[], options: Options): UsageError {
  const known = { ...options, ...HELP };
  const { tokens } = parseArgs({ args, options: known, strict: false, allowPositionals: true, tokens: true });
  const token = tokens.find((t) => t.kind === 'option' && !Object.hasOwn(known, t.name));
  if (token?.kind !== 'option') return new UsageError('unknown flag');
  const suggestion = nearest(token.name, Object.keys(known));
  const name = redact(token.rawName).slice(0, MAX_FLAG_ECHO);
  return new UsageError(`unknown flag ${name}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`);
}

const MAX_FLAG_ECHO = 40;

/** The value of a flag that must be given. */
export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.length === 0) throw new UsageError(`${flag} is required`);
  return value;
}

/** For commands that take flags only; never echoes the stray argument. */
export function noPositionals(values: readonly string[]): void {
  if (values.length > 0) throw new UsageError('this command takes no positional arguments');
}

/** The one positional argument a command takes, e.g. `USERNAME`; never echoes a stray one. */
export function onePositional(values: readonly string[], what: string): string {
  if (values.length !== 1) throw new UsageError(`give exactly one ${what}`);
  return values[0]!;
}

/** The values of a repeatable flag that must be given at least once, e.g. `--aud a --aud b`. */
export function requiredList(values: readonly string[] | undefined, flag: string): string[] {
  if (values === undefined || values.length === 0) throw new UsageError(`${flag} is required`);
  if (values.some((v) => v.length === 0)) throw new UsageError(`${flag} must not be empty`);
  return [...values];
}

/** The value of an optional flag that, when given, must not be empty (`--kid=`). */
export function optional(value: string | undefined, flag: string): string | undefined {
  if (value !== undefined && value.length === 0) throw new UsageError(`${flag} must not be empty`);
  return value;
}

/** A positive integer flag, e.g. `--ttl 600`. */
export function positiveInteger(value: string, flag: string): number {
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`${flag} must be a positive integer`);
  return Number(value);
}

/** A non-negative integer flag, e.g. `--clock-tolerance 0`. */
export function nonNegativeInteger(value: string, flag: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`${flag} must be a non-negative integer`);
  return Number(value);
}

/** One JWS algorithm name, exactly as RFC 7518 spells it; `none` is not one. */
export function algorithm(value: string, flag: string, allowed?: readonly Algorithm[]): Algorithm {
  if (!isAlgorithm(value) || (allowed !== undefined && !allowed.includes(value))) {
    const list = allowed ?? Object.keys(ALGORITHMS);
    throw new UsageError(`${flag} must be one of ${list.join(', ')}`);
  }
  return value;
}

/** A comma-separated algorithm allowlist, e.g. `--alg ES256,EdDSA`. */
export function algorithmList(value: string, flag: string): Algorithm[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((s) => s.length === 0)) throw new UsageError(`${flag} must be a comma-separated list of algorithms`);
  return [...new Set(names.map((name) => algorithm(name, flag)))];
}

import { isAbsolute, join, resolve } from 'node:path';

import { ConfigError } from '../errors.js';
import { parseSettingValue } from './parse-value.js';
import type { SettingSpec, SettingTable, SettingValues } from './setting.js';

export interface LoadSettingsOptions {
  /**
   * The config file: its parsed JSON (see `readSettingsFile`), whose keys are the setting names, and its folder,
   * the base of the relative paths in it.
   */
  readonly file?: { readonly json: unknown; readonly dir: string };
  /** Environment; an empty variable counts as unset. Overrides the file. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Programmatic overrides (command-line flags), applied last. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** Base of relative paths from the environment: the process's working directory. */
  readonly workingDir: string;
  /** Base of relative paths in `overrides`, and of the defaults when there is no file; default `workingDir`. */
  readonly overrideDir?: string;
}

export interface LoadedSettings<T extends SettingTable> {
  readonly values: SettingValues<T>;
  /** The folder each setting's relative paths resolve against: that of the source its value came from. */
  readonly base: Readonly<Record<keyof T, string>>;
}

/**
 * Reads settings once: the defaults, then the file, then environment variables, then overrides (later wins).
 * Every value is checked against its spec; the first bad one, and any key of the file not in the table, throws
 * a ConfigError naming the setting. Settings of type `path` come back absolute: a relative path resolves
 * against the place that names it (the file's folder, the working directory for the environment, `overrideDir`
 * for overrides), never against whatever the working directory happens to be.
 */
export function loadSettings<T extends SettingTable>(table: T, options: LoadSettingsOptions): LoadedSettings<T> {
  const workingDir = resolve(options.workingDir);
  const overrideDir = resolve(options.overrideDir ?? workingDir);
  const fromFile = new Map<string, unknown>();
  if (options.file) {
    const json = options.file.json;
    if (!isObject(json)) throw new ConfigError('config', 'the config file must hold a JSON object');
    flatten(table, json, '', fromFile);
  }
  for (const name of Object.keys(options.overrides ?? {}))
    if (!Object.hasOwn(table, name)) throw new ConfigError(name, 'unknown setting (from options)');
  const fileDir = options.file ? resolve(workingDir, options.file.dir) : overrideDir;
  const values: Record<string, unknown> = {};
  const base: Record<string, string> = {};
  for (const [name, spec] of Object.entries(table)) {
    let value: unknown = Array.isArray(spec.default) ? [...(spec.default as string[])] : spec.default;
    let dir = fileDir;
    if (fromFile.has(name)) value = parseSettingValue(name, spec, fromFile.get(name), 'the config file');
    const fromEnv = spec.env === undefined ? undefined : options.env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      value = parseSettingValue(name, spec, fromEnv, spec.env!);
      dir = workingDir;
    }
    if (options.overrides?.[name] !== undefined) {
      value = parseSettingValue(name, spec, options.overrides[name], 'options');
      dir = overrideDir;
    }
    if (value === undefined && spec.required) throw new ConfigError(name, spec.invalid ?? 'is required');
    values[name] = spec.type === 'path' && typeof value === 'string' ? resolvePath(dir, value) : value;
    base[name] = dir;
  }
  return { values: values as SettingValues<T>, base: base as Record<keyof T, string> };
}

/**
 * Walks the file's object: a key that is a setting keeps its value; an object under a key that has member
 * settings (`"tls": { "certFile": ... }`) is walked with the dotted prefix; anything else is refused.
 */
function flatten(table: SettingTable, json: Record<string, unknown>, prefix: string, out: Map<string, unknown>): void {
  for (const [key, value] of Object.entries(json)) {
    if (prefix === '' && key === '$schema') continue;
    const name = prefix + key;
    const members = memberNames(table, name);
    // `"tls.certFile"` as a key is not `tls.certFile`: one spelling per setting, the nested one.
    const spec: SettingSpec | undefined = Object.hasOwn(table, name) && !key.includes('.') ? table[name] : undefined;
    if (members.length > 0 && isObject(value)) {
      // An empty section is a mistake (TLS meant, files forgotten), not a way to turn the feature off.
      if (Object.keys(value).length === 0) throw new ConfigError(name, `must be {${members.join(', ')}} (from the config file)`);
      flatten(table, value, `${name}.`, out);
    } else if (spec?.envOnly) {
      throw new ConfigError(name, `is never read from the config file: set ${spec.env}`);
    } else if (spec) {
      out.set(name, value);
    } else if (members.length > 0) {
      throw new ConfigError(name, `must be {${members.join(', ')}} (from the config file)`);
    } else {
      throw new ConfigError(name, 'unknown setting (from the config file)');
    }
  }
}

/** The settings one level under `name` that the file may hold: `tls` -> certFile, keyFile. */
function memberNames(table: SettingTable, name: string): string[] {
  const prefix = `${name}.`;
  const out = new Set<string>();
  for (const [n, spec] of Object.entries(table))
    if (n.startsWith(prefix) && !spec.envOnly) out.add(n.slice(prefix.length).split('.')[0]!);
  return [...out];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The JSON of a config file, read with the caller's `readFile` (core does no I/O of its own). Errors name the
 * setting `config`.
 */
export function readSettingsFile(path: string, readFile: (path: string) => string): unknown {
  let text: string;
  try {
    text = readFile(path);
  } catch {
    throw new ConfigError('config', `cannot read the config file ${path}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConfigError('config', `${path} is not valid JSON`);
  }
}

/** `p` if absolute, else `p` under `base`. */
export function resolvePath(base: string, p: string): string {
  return isAbsolute(p) ? p : join(base, p);
}

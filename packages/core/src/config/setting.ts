/**
 * The table-driven settings engine shared by the auth server and the gateway: each package keeps a table of
 * its settings (name, environment variable, type, default, meaning); `loadSettings` checks every value against
 * it once at start-up, and scripts/config-doc.mjs renders docs/configuration.md from the same tables.
 *
 * A dotted name (`tls.certFile`) is a member of an object in the config file (`"tls": { "certFile": ... }`).
 */
export interface SettingSpec {
  /** The `TESSERA_*` variable that sets it; none: the setting is read from the file and options only. */
  readonly env?: string;
  /**
   * `string`, `url`, `integer`, `boolean`, `enum` (one of `values`), `list` (a JSON array of strings or a
   * comma-separated string; each in `values` when given), `path` (a file or folder name, resolved against the
   * folder of the place that names it), `addresses` (proxy addresses and CIDR ranges), `object` (a JSON
   * object, passed as is to the code that checks its members), `objects` (a JSON array of objects, from an
   * environment variable its JSON text, passed as is to the code that checks each; for `objects` too `min`
   * and `max` bound the number of items).
   */
  readonly type: 'string' | 'path' | 'url' | 'integer' | 'boolean' | 'enum' | 'list' | 'addresses' | 'object' | 'objects';
  /** For `enum`: the values allowed; for `list`: the values each item may take. */
  readonly values?: readonly string[];
  /** For `url`: the schemes allowed (default http and https). */
  readonly protocols?: readonly string[];
  /** For `integer`: the bounds; for `list` and `objects`: the number of items. */
  readonly min?: number;
  readonly max?: number;
  /** For `string`: a pattern the value must match. */
  readonly pattern?: RegExp;
  /** For `object`: `false` is accepted too (turns the feature off). */
  readonly orFalse?: boolean;
  /** The default as written in the docs; `undefined` means no default (optional or derived). */
  readonly default?: string | number | boolean | readonly string[];
  /** Refused when no source gives it. */
  readonly required?: boolean;
  /** Only from `env` (or options), never from the config file: a secret is not written in it. */
  readonly envOnly?: boolean;
  /** What the error says when the value is missing (`required`) or unusable, instead of the type's message. */
  readonly invalid?: string;
  readonly doc: string;
}

export type SettingTable = Readonly<Record<string, SettingSpec>>;

/** The value `loadSettings` gives a setting of spec `S`. */
export type SettingValue<S extends SettingSpec> = S extends { readonly default: unknown } | { readonly required: true }
  ? DefinedValue<S>
  : DefinedValue<S> | undefined;

type DefinedValue<S extends SettingSpec> = S['type'] extends 'integer'
  ? number
  : S['type'] extends 'boolean'
    ? boolean
    : S['type'] extends 'enum'
      ? S extends { readonly values: readonly (infer V)[] }
        ? V
        : string
      : S['type'] extends 'list' | 'addresses'
        ? string[]
        : S['type'] extends 'object'
          ? S extends { readonly orFalse: true }
            ? Record<string, unknown> | false
            : Record<string, unknown>
          : S['type'] extends 'objects'
            ? Record<string, unknown>[]
            : string;

/** Every setting of a table with its checked value. */
export type SettingValues<T extends SettingTable> = { -readonly [K in keyof T]: SettingValue<T[K]> };

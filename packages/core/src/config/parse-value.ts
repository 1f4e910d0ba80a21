import { ConfigError } from '../errors.js';
import { proxyAddresses } from './proxy-addresses.js';
import type { SettingSpec } from './setting.js';

/**
 * Checks one raw value (from the config file, an environment variable or options) against its spec and
 * returns it typed. A string is trimmed first, so `TESSERA_PORT=" 8000 "` is 8000. The error names the
 * setting and where the value came from.
 */
export function parseSettingValue(name: string, spec: SettingSpec, raw: unknown, source: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(name, `${spec.invalid ?? why} (from ${source})`);
  };
  const str = typeof raw === 'string' ? raw.trim() : raw;
  switch (spec.type) {
    case 'string':
    case 'path':
      if (typeof str !== 'string' || str === '') fail('must be a non-empty string');
      if (spec.pattern && !spec.pattern.test(str as string)) fail(`must match ${String(spec.pattern)}`);
      return str;
    case 'url':
      return url(str, spec.protocols ?? ['http:', 'https:'], fail);
    case 'integer': {
      const n = typeof str === 'number' ? str : typeof str === 'string' && /^-?\d+$/.test(str) ? Number(str) : NaN;
      if (!Number.isSafeInteger(n)) fail('must be an integer');
      if (spec.min !== undefined && n < spec.min) fail(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail(`must be at most ${spec.max}`);
      return n;
    }
    case 'boolean':
      if (typeof str === 'boolean') return str;
      if (str === 'true' || str === '1') return true;
      if (str === 'false' || str === '0') return false;
      return fail('must be true or false');
    case 'enum':
      if (typeof str !== 'string' || !spec.values!.includes(str)) fail(`must be one of ${spec.values!.join(', ')}`);
      return str;
    case 'list':
      return list(spec, str, fail);
    case 'addresses':
      return proxyAddresses(str, fail);
    case 'object':
      if (str === false && spec.orFalse) return false;
      if (typeof str !== 'object' || str === null || Array.isArray(str))
        fail(spec.orFalse ? 'must be an object or false' : 'must be an object');
      return str;
    case 'objects':
      return objects(spec, str, fail);
  }
}

/** A JSON array of objects; from an environment variable, its JSON text (the value is never echoed: it may hold keys). */
function objects(spec: SettingSpec, str: unknown, fail: (why: string) => never): Record<string, unknown>[] {
  let items = str;
  if (typeof items === 'string') {
    try {
      items = JSON.parse(items) as unknown;
    } catch {
      return fail('must be a JSON array of objects (the text is not valid JSON)');
    }
  }
  if (!Array.isArray(items) || !items.every((o) => typeof o === 'object' && o !== null && !Array.isArray(o)))
    return fail('must be a JSON array of objects');
  if (spec.min !== undefined && items.length < spec.min) fail(`must hold at least ${spec.min} item${spec.min === 1 ? '' : 's'}`);
  if (spec.max !== undefined && items.length > spec.max) fail(`must hold at most ${spec.max} items`);
  return items as Record<string, unknown>[];
}

function url(str: unknown, protocols: readonly string[], fail: (why: string) => never): string {
  if (typeof str !== 'string') return fail('must be a URL');
  let u: URL;
  try {
    u = new URL(str);
  } catch {
    return fail('must be a URL');
  }
  if (!protocols.includes(u.protocol)) fail(`must be a URL with scheme ${protocols.map((p) => p.slice(0, -1)).join(' or ')}`);
  if (u.search || u.hash) fail('must not have a query or fragment');
  return str.replace(/\/+$/, '');
}

function list(spec: SettingSpec, str: unknown, fail: (why: string) => never): string[] {
  let items: string[];
  if (Array.isArray(str) && str.every((s) => typeof s === 'string')) items = str.map((s) => s.trim());
  else if (typeof str === 'string') items = str.split(',').map((s) => s.trim());
  else return fail('must be a list of strings');
  items = items.filter(Boolean);
  const bad = spec.values && items.find((s) => !spec.values!.includes(s));
  if (bad !== undefined) fail(`${JSON.stringify(bad.slice(0, 40))} is not one of ${spec.values!.join(', ')}`);
  if (spec.min !== undefined && items.length < spec.min) fail(`must hold at least ${spec.min} item${spec.min === 1 ? '' : 's'}`);
  if (spec.max !== undefined && items.length > spec.max) fail(`must hold at most ${spec.max} items`);
  return items;
}

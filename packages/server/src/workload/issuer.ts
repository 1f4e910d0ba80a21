import {
  CLIENT_ASSERTION_ALGORITHMS,
  DEFAULT_MAX_WORKLOAD_TOKEN_AGE,
  JwksInvalidError,
  KeyInvalidError,
  parseJwks,
  type Algorithm,
  type JsonWebKeySet,
} from '@tessera/core';

import { fail, isObject, only } from '../services/wire-object.js';

/**
 * Trusted workload issuers: external systems (a Kubernetes cluster, a SPIRE server, GitHub Actions) whose signed
 * workload tokens authenticate Tessera clients. One record per issuer: where its keys are, the audience its tokens
 * must carry, and rules that map a token's claims to a client. This file is the one home of their shape: the
 * wire form (snake_case, as the admin API, the CLI's --json and the config file write it) is parsed and checked
 * by `parseWorkloadIssuer` and written by `workloadIssuerView`.
 */

/** Where an issuer's public keys come from. Never from the presented token. */
export type WorkloadKeySource =
  /** OpenID Connect discovery at `{issuer}/.well-known/openid-configuration`, then its `jwks_uri`. */
  | { kind: 'discovery' }
  | { kind: 'jwks_uri'; url: string }
  /** A SPIFFE bundle endpoint: its `use: jwt-svid` keys. */
  | { kind: 'spiffe_bundle'; url: string }
  /** A JWKS given in the configuration (the CLI and the config file read it from a file). */
  | { kind: 'static'; jwks: JsonWebKeySet };

/** A rule: when every named claim matches its pattern, the token authenticates `client`. */
export interface WorkloadRule {
  client: string;
  /**
   * Claim -> pattern. A claim is named as it appears at the top level of the token (`sub`, `repository`), or by
   * a JSON Pointer into it (`/kubernetes.io/namespace`). A pattern without `*` matches exactly; `*` matches any
   * run of characters but `/`, `**` any run at all. Only string claims match.
   */
  claims: Record<string, string>;
}

export interface WorkloadIssuer {
  /** Its name in Tessera: lowercase letters, digits and `-`. */
  name: string;
  /** The `iss` of its tokens: an https URL (http for a loopback address), or `spiffe://trust-domain`. */
  issuer: string;
  keys: WorkloadKeySource;
  /** The audience its tokens must carry for Tessera. */
  audience: string;
  algorithms: Algorithm[];
  /** Seconds: tokens older than this (by iat) are refused. */
  maxTokenAge: number;
  /**
   * true: a token must carry a jti, used once (tokens requested for one exchange: GitHub Actions). false: a token
   * may be presented again within its lifetime and maximum age (tokens a platform hands out for reuse:
   * Kubernetes projected tokens, SPIFFE JWT-SVIDs); its jti, if any, is not tracked.
   */
  singleUse: boolean;
  rules: WorkloadRule[];
  createdAt: number;
  updatedAt: number;
}

export type WorkloadIssuerInput = Omit<WorkloadIssuer, 'createdAt' | 'updatedAt'>;

/** The wire form of an issuer, as the admin API, `tessera issuers --json` and the config file write it. */
export interface WorkloadIssuerView {
  name: string;
  issuer: string;
  keys: { discovery: true } | { jwks_uri: string } | { spiffe_bundle_endpoint: string } | { jwks: JsonWebKeySet };
  audience: string;
  algorithms: string[];
  max_token_age: number;
  single_use: boolean;
  rules: { client: string; claims: Record<string, string> }[];
  created_at?: number;
  updated_at?: number;
}

export const DEFAULT_WORKLOAD_ALGORITHMS: readonly Algorithm[] = ['RS256', 'ES256'];
export const MAX_WORKLOAD_TOKEN_AGE = 86_400;
export const MAX_WORKLOAD_RULES = 100;
export const MAX_RULE_CLAIMS = 10;
const MAX_PATTERN = 512;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CLIENT_ID = /^[\x21-\x7e]{1,200}$/;

/** Whether a URL names the local host (localhost, 127.0.0.0/8, [::1]). */
export function isLoopback(u: URL): boolean {
  return u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
}

/**
 * What is wrong with a URL keys are read from, or undefined: it must be https, or http to a loopback address (a
 * local stand-in, a sidecar) where `loopbackHttp` allows it, and hold no credentials or fragment.
 */
export function keysUrlProblem(u: URL, loopbackHttp = true): string | undefined {
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopbackHttp && isLoopback(u)))
    return loopbackHttp ? 'must be https (http only for a loopback address)' : 'must be https';
  if (u.username || u.password || u.hash) return 'must hold no credentials or fragment';
  return undefined;
}

function keysUrl(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(`${field} must be a URL`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    fail(`${field} must be a URL`);
  }
  const problem = keysUrlProblem(u);
  if (problem !== undefined) fail(`${field} ${problem}`);
  return u.href;
}

function issuerValue(v: unknown): string {
  if (typeof v !== 'string' || v === '') fail('issuer is required');
  if (v.startsWith('spiffe://')) {
    if (!/^spiffe:\/\/[a-z0-9._-]{1,255}$/.test(v))
      fail('a SPIFFE issuer is spiffe:// and a trust domain name (lowercase, no path)');
    return v;
  }
  // Compared byte for byte with the tokens' iss: kept exactly as given, but it must be a URL (discovery appends
  // its path to it: no query).
  keysUrl(v, 'issuer');
  if (new URL(v).search !== '') fail('issuer must hold no query');
  if (v.length > 512) fail('issuer is too long');
  return v;
}

function keySource(v: unknown, issuer: string): WorkloadKeySource {
  if (!isObject(v)) fail('keys must be an object: {discovery: true}, {jwks_uri}, {spiffe_bundle_endpoint} or {jwks}');
  const names = Object.keys(v);
  if (names.length !== 1) fail('keys must name exactly one of discovery, jwks_uri, spiffe_bundle_endpoint, jwks');
  if (v.discovery !== undefined) {
    if (v.discovery !== true) fail('keys.discovery must be true');
    if (issuer.startsWith('spiffe://')) fail('a SPIFFE trust domain has no discovery document: use spiffe_bundle_endpoint');
    return { kind: 'discovery' };
  }
  if (v.jwks_uri !== undefined) return { kind: 'jwks_uri', url: keysUrl(v.jwks_uri, 'keys.jwks_uri') };
  if (v.spiffe_bundle_endpoint !== undefined)
    return { kind: 'spiffe_bundle', url: keysUrl(v.spiffe_bundle_endpoint, 'keys.spiffe_bundle_endpoint') };
  if (v.jwks !== undefined) {
    try {
      const set = parseJwks(v.jwks, { algorithms: CLIENT_ASSERTION_ALGORITHMS });
      if (set.keys.length === 0) fail('keys.jwks holds no usable signature key');
    } catch (err) {
      if (err instanceof JwksInvalidError || err instanceof KeyInvalidError) fail(`keys.jwks: ${err.message}`);
      throw err;
    }
    return { kind: 'static', jwks: v.jwks as JsonWebKeySet };
  }
  return fail(`keys: unknown source ${names[0]}`);
}

function claimName(name: string): void {
  if (name === '' || name.length > 200) fail('a rule claim name must hold 1 to 200 characters');
  if (name === '__proto__') fail('a rule cannot name the claim __proto__');
  if (name.startsWith('/') && /~[^01]|~$/.test(name)) fail(`rule claim ${name}: not a JSON Pointer`);
}

function rules(v: unknown): WorkloadRule[] {
  if (!Array.isArray(v) || v.length === 0) fail('rules must be a non-empty list: no rule, no client');
  if (v.length > MAX_WORKLOAD_RULES) fail(`at most ${MAX_WORKLOAD_RULES} rules`);
  return v.map((r, i) => {
    if (!isObject(r)) fail(`rules[${i}] must be an object`);
    only(r, ['client', 'claims'], `rules[${i}]`);
    if (typeof r.client !== 'string' || !CLIENT_ID.test(r.client)) fail(`rules[${i}].client must be a client id`);
    if (!isObject(r.claims) || Object.keys(r.claims).length === 0) fail(`rules[${i}].claims must name at least one claim`);
    if (Object.keys(r.claims).length > MAX_RULE_CLAIMS) fail(`rules[${i}].claims: at most ${MAX_RULE_CLAIMS} claims`);
    // No prototype, and members defined, not assigned: a claim named __proto__ is refused, never dropped (a
    // dropped claim would leave a rule wider than written).
    const claims = Object.create(null) as Record<string, string>;
    for (const [name, pattern] of Object.entries(r.claims)) {
      claimName(name);
      if (typeof pattern !== 'string' || pattern === '' || pattern.length > MAX_PATTERN)
        fail(`rules[${i}].claims.${name} must be a pattern of 1 to ${MAX_PATTERN} characters`);
      if (/^\*+$/.test(pattern)) fail(`rules[${i}].claims.${name}: a pattern of only * matches anything; name a value`);
      Object.defineProperty(claims, name, { value: pattern, enumerable: true, writable: true, configurable: true });
    }
    if (Object.keys(claims).length === 0) fail(`rules[${i}].claims must name at least one claim`);
    return { client: r.client, claims };
  });
}

/** Checks the wire form of an issuer (admin API body, CLI, config file entry) and returns it as a record. */
export function parseWorkloadIssuer(input: unknown): WorkloadIssuerInput {
  if (!isObject(input)) fail('a workload issuer must be an object');
  only(
    input,
    ['name', 'issuer', 'keys', 'audience', 'algorithms', 'max_token_age', 'single_use', 'rules', 'created_at', 'updated_at'],
    'workload issuer',
  );
  const { name } = input;
  if (typeof name !== 'string' || !NAME.test(name)) fail('name must be 1 to 63 lowercase letters, digits or -');
  const issuer = issuerValue(input.issuer);
  const keys = keySource(input.keys, issuer);
  if (typeof input.audience !== 'string' || input.audience === '' || input.audience.length > 512)
    fail('audience is required (the aud the workload tokens carry for Tessera)');
  let algorithms = [...DEFAULT_WORKLOAD_ALGORITHMS];
  if (input.algorithms !== undefined) {
    if (!Array.isArray(input.algorithms) || input.algorithms.length === 0) fail('algorithms must be a non-empty list');
    for (const a of input.algorithms)
      if (!CLIENT_ASSERTION_ALGORITHMS.includes(a as Algorithm))
        fail(`algorithms: ${String(a)} is not one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`);
    algorithms = [...new Set(input.algorithms as Algorithm[])];
  }
  let maxTokenAge = DEFAULT_MAX_WORKLOAD_TOKEN_AGE;
  if (input.max_token_age !== undefined) {
    const m = input.max_token_age;
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 1 || m > MAX_WORKLOAD_TOKEN_AGE)
      fail(`max_token_age must be whole seconds from 1 to ${MAX_WORKLOAD_TOKEN_AGE}`);
    maxTokenAge = m;
  }
  if (input.single_use !== undefined && typeof input.single_use !== 'boolean') fail('single_use must be true or false');
  return {
    name,
    issuer,
    keys,
    audience: input.audience,
    algorithms,
    maxTokenAge,
    singleUse: input.single_use !== false,
    rules: rules(input.rules),
  };
}

/** The wire form of an issuer (what parseWorkloadIssuer reads back). */
export function workloadIssuerView(
  i: WorkloadIssuerInput & Partial<Pick<WorkloadIssuer, 'createdAt' | 'updatedAt'>>,
): WorkloadIssuerView {
  const k = i.keys;
  const keys: WorkloadIssuerView['keys'] =
    k.kind === 'discovery'
      ? { discovery: true }
      : k.kind === 'jwks_uri'
        ? { jwks_uri: k.url }
        : k.kind === 'spiffe_bundle'
          ? { spiffe_bundle_endpoint: k.url }
          : { jwks: k.jwks };
  return {
    name: i.name,
    issuer: i.issuer,
    keys,
    audience: i.audience,
    algorithms: [...i.algorithms],
    max_token_age: i.maxTokenAge,
    single_use: i.singleUse,
    rules: i.rules.map((r) => ({ client: r.client, claims: { ...r.claims } })),
    ...(i.createdAt !== undefined ? { created_at: Math.floor(i.createdAt / 1000) } : {}),
    ...(i.updatedAt !== undefined ? { updated_at: Math.floor(i.updatedAt / 1000) } : {}),
  };
}

const compiled = new WeakMap<WorkloadRule, [string, RegExp | string][]>();

function compile(rule: WorkloadRule): [string, RegExp | string][] {
  let c = compiled.get(rule);
  if (c === undefined) {
    c = Object.entries(rule.claims).map(([name, pattern]): [string, RegExp | string] => {
      if (!pattern.includes('*')) return [name, pattern];
      const source = pattern
        .split(/(\*\*|\*)/)
        .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return [name, new RegExp(`^${source}$`, 's')];
    });
    compiled.set(rule, c);
  }
  return c;
}

/** A claim by top-level name, or by JSON Pointer (RFC 6901) when the name starts with `/`. */
function claim(claims: Record<string, unknown>, name: string): unknown {
  if (!name.startsWith('/')) return Object.prototype.hasOwnProperty.call(claims, name) ? claims[name] : undefined;
  let at: unknown = claims;
  for (const raw of name.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(at) || !Object.prototype.hasOwnProperty.call(at, part)) return undefined;
    at = at[part];
  }
  return at;
}

/** The first rule whose every claim matches, or undefined: no match refuses. */
export function matchRule(issuer: Pick<WorkloadIssuer, 'rules'>, claims: Record<string, unknown>): WorkloadRule | undefined {
  for (const rule of issuer.rules) {
    const ok = compile(rule).every(([name, pattern]) => {
      const v = claim(claims, name);
      return typeof v === 'string' && (typeof pattern === 'string' ? v === pattern : pattern.test(v));
    });
    if (ok) return rule;
  }
  return undefined;
}

import type { DescService } from '@bufbuild/protobuf';
import { ConfigError, isScopeToken, type ScopeMode } from '@tessera/core';

/** A method anyone may call, with or without a token (the token is then not even read). */
export const PUBLIC: PublicRule = Object.freeze({ public: true });

export interface PublicRule {
  readonly public: true;
}

/**
 * A method that needs a valid token holding `scopes`: all of them (`mode: 'all'`, the default) or at least one
 * (`mode: 'any'`). `scopes: []` asks for a valid token and nothing more.
 */
export interface ScopeRule {
  readonly scopes: readonly string[];
  readonly mode?: ScopeMode;
}

export type MethodRule = PublicRule | ScopeRule;

/**
 * The rules of one service, by the methods' local names (`getStock` for `rpc GetStock`): with a generated
 * service descriptor, a name that is not a method of the service does not compile. A method left out is
 * refused at run time (deny by default), and `assertEveryMethodHasPolicy` / `tessera rpc check` list it.
 */
export type ServiceRules<S extends DescService> = { readonly [K in keyof S['method'] & string]?: MethodRule };

/** The policy of one service, as `definePolicy` returns it: plain data, so that `tessera rpc check` can read it. */
export interface ServicePolicy<S extends DescService = DescService> {
  readonly service: S;
  readonly rules: Readonly<Record<string, MethodRule>>;
}

/** One service policy, or those of several services: what the interceptor, the gate and the check take. */
export type Policy = ServicePolicy | readonly ServicePolicy[];

/**
 * Declares who may call each method of a service, in one place:
 *
 * ```ts
 * const policy = definePolicy(InventoryService, {
 *   getStock: { scopes: ['inventory:read'] },
 *   adjustStock: { scopes: ['inventory:write', 'inventory:admin'], mode: 'any' },
 *   health: PUBLIC,
 * });
 * ```
 *
 * Checked at once: an unknown method name, a rule that is neither PUBLIC nor `{ scopes }`, or a scope off the
 * RFC 6749 grammar throws ConfigError naming it.
 */
export function definePolicy<S extends DescService>(service: S, rules: ServiceRules<S>): ServicePolicy<S> {
  if (typeof service !== 'object' || service === null || service.kind !== 'service')
    throw new ConfigError('policy', 'the first argument must be a service descriptor (a generated GenService)');
  if (typeof rules !== 'object' || rules === null) throw new ConfigError(`policy.${service.typeName}`, 'rules must be an object');
  const checked: Record<string, MethodRule> = {};
  for (const [name, rule] of Object.entries(rules as Record<string, unknown>)) {
    const where = `policy.${service.typeName}.${name}`;
    if (!Object.hasOwn(service.method, name))
      throw new ConfigError(
        where,
        `${service.typeName} has no method "${name}" (methods: ${service.methods.map((m) => m.localName).join(', ')})`,
      );
    checked[name] = checkRule(where, rule);
  }
  return Object.freeze({ service, rules: Object.freeze(checked) });
}

function checkRule(where: string, rule: unknown): MethodRule {
  if (typeof rule !== 'object' || rule === null) throw new ConfigError(where, 'a rule is PUBLIC or { scopes, mode? }');
  const r = rule as Record<string, unknown>;
  if ('public' in r) {
    if (r.public !== true || Object.keys(r).length !== 1)
      throw new ConfigError(where, 'a public rule is exactly PUBLIC ({ public: true })');
    return PUBLIC;
  }
  if (!Array.isArray(r.scopes))
    throw new ConfigError(where, 'scopes must be an array of scope tokens (use PUBLIC for a public method)');
  const scopes = r.scopes as unknown[];
  for (const s of scopes) {
    if (typeof s !== 'string' || !isScopeToken(s)) throw new ConfigError(where, `"${String(s)}" is not a scope token`);
  }
  const mode = r.mode ?? 'all';
  if (mode !== 'all' && mode !== 'any') throw new ConfigError(where, "mode must be 'all' or 'any'");
  const extra = Object.keys(r).filter((k) => k !== 'scopes' && k !== 'mode');
  if (extra.length > 0) throw new ConfigError(where, `unknown member ${extra.join(', ')}`);
  return Object.freeze({ scopes: Object.freeze([...(scopes as string[])]), mode });
}

/** Whether a rule marks its method public. */
export function isPublic(rule: MethodRule): rule is PublicRule {
  return (rule as PublicRule).public === true;
}

/** The service policies of a Policy, as a list. */
export function policyList(policy: Policy): readonly ServicePolicy[] {
  return Array.isArray(policy) ? (policy as readonly ServicePolicy[]) : [policy as ServicePolicy];
}

/** What the interceptor and the gate know of one RPC. */
export interface MethodEntry {
  /** `inventory.v1.InventoryService/GetStock`. */
  readonly path: string;
  /** Undefined: the method has no policy and is refused. */
  readonly rule: MethodRule | undefined;
}

/**
 * The policy as a lookup by RPC path (`<service type name>/<method name>`), built once at start-up. Every
 * method of every service named in the policy has an entry; a method without a rule has `rule: undefined`.
 */
export class PolicyIndex {
  private readonly entries = new Map<string, MethodEntry>();

  constructor(policy: Policy) {
    const list = policyList(policy);
    if (list.length === 0) throw new ConfigError('policy', 'required: definePolicy(Service, { ... }) for each service');
    for (const p of list) {
      if (typeof p !== 'object' || p === null || typeof p.service !== 'object' || typeof p.rules !== 'object')
        throw new ConfigError('policy', 'each entry must come from definePolicy(Service, { ... })');
      for (const m of p.service.methods) {
        const path = `${p.service.typeName}/${m.name}`;
        if (this.entries.has(path))
          throw new ConfigError('policy', `${p.service.typeName} has two policies; give one per service`);
        this.entries.set(path, Object.freeze({ path, rule: p.rules[m.localName] }));
      }
    }
  }

  /** The entry of an RPC path; undefined when its service is not in the policy at all (refused as well). */
  get(path: string): MethodEntry | undefined {
    return this.entries.get(path);
  }
}

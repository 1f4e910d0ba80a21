import type { DescService } from '@bufbuild/protobuf';

import { PolicyMissingError } from './errors.js';
import { policyList, type Policy } from './policy.js';

/**
 * The methods of `services` that have no rule in `policy`, as RPC paths
 * (`inventory.v1.InventoryService/DeleteItem`), in declaration order. A service absent from the policy
 * contributes all its methods. Reads only plain data, so it also works on a policy built by another copy of
 * this package (as `tessera rpc check` meets it).
 */
export function missingPolicies(services: readonly DescService[], policy: Policy): string[] {
  const rules = new Map<string, Readonly<Record<string, unknown>>>();
  for (const p of policyList(policy)) rules.set(p.service.typeName, p.rules);
  const missing: string[] = [];
  for (const service of services) {
    const r = rules.get(service.typeName);
    for (const m of service.methods) {
      if (r === undefined || !Object.hasOwn(r, m.localName) || r[m.localName] === undefined)
        missing.push(`${service.typeName}/${m.name}`);
    }
  }
  return missing;
}

/**
 * Throws PolicyMissingError listing every method of `services` without a rule in `policy`. For a test (or a
 * start-up check) beside the service: a method added to the .proto then fails the build, not a caller.
 */
export function assertEveryMethodHasPolicy(services: DescService | readonly DescService[], policy: Policy): void {
  const list = Array.isArray(services) ? (services as readonly DescService[]) : [services as DescService];
  const missing = missingPolicies(list, policy);
  if (missing.length > 0) throw new PolicyMissingError(missing);
}

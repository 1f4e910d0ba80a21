import { TesseraError } from '@tessera/core';

/**
 * Methods of a service have no entry in the policy (`assertEveryMethodHasPolicy`, `tessera rpc check`).
 * `methods` lists them as RPC paths, e.g. `inventory.v1.InventoryService/DeleteItem`. At run time such a
 * method is refused (deny by default); this error is how a test or CI finds them first.
 */
export class PolicyMissingError extends TesseraError {
  static readonly code = 'ERR_RPC_POLICY_MISSING';
  readonly methods: readonly string[];
  constructor(methods: readonly string[]) {
    const n = methods.length;
    super(PolicyMissingError.code, `${n} method${n === 1 ? ' has' : 's have'} no policy: ${methods.join(', ')}`);
    this.methods = Object.freeze([...methods]);
  }
}

/** Every code thrown by @tessera/rpc (besides ConfigError of @tessera/core for bad options). */
export const RPC_ERROR_CODES: readonly string[] = Object.freeze([PolicyMissingError.code]);

import type { Code } from '@connectrpc/connect';
import { ConfigError } from '@tessera/core';
import type { Principal, RevocationList, Verifier } from '@tessera/verifier';

import { isPublic, PolicyIndex, type MethodEntry, type Policy } from './policy.js';
import { REFUSALS, refusalError, refusalReason, type RefusalReason } from './refusal.js';

export interface AuthOptions {
  /** The service's Verifier (@tessera/verifier), shared with its other adapters. */
  verifier: Verifier;
  /** `definePolicy(Service, { ... })`, or a list of them: every method of every service served needs a rule. */
  policy: Policy;
  /**
   * The verifier's revocation list, if it has one: a server stream whose token gets revoked then ends at once
   * (Unauthenticated), instead of at the token's expiry. Calls are checked against revocation either way.
   */
  revocations?: RevocationList;
  /** Called for each refused call with the internal reason (the verifier's error): for logs and metrics. */
  onRefusal?: (event: RefusalEvent) => void;
  /** Clock in ms, for ending streams at the token's expiry. Defaults to Date.now. */
  now?: () => number;
}

export interface RefusalEvent {
  /** The RPC path, `inventory.v1.InventoryService/GetStock`. */
  path: string;
  reason: RefusalReason;
  code: Code;
  /** What the verifier threw (or undefined for `no_policy`): never sent to the caller. */
  cause: unknown;
}

/** The options checked once, the policy indexed: what the interceptor and the gate share. */
export class Authorizer {
  readonly verifier: Verifier;
  readonly revocations: RevocationList | undefined;
  readonly now: () => number;
  private readonly index: PolicyIndex;
  private readonly onRefusal: ((event: RefusalEvent) => void) | undefined;

  constructor(options: AuthOptions) {
    if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'required');
    const v = options.verifier as Partial<Verifier> | undefined;
    if (typeof v?.authorize !== 'function' || typeof v.authorizeCached !== 'function')
      throw new ConfigError('verifier', 'required: a Verifier of @tessera/verifier');
    if (options.onRefusal !== undefined && typeof options.onRefusal !== 'function')
      throw new ConfigError('onRefusal', 'must be a function');
    const list = options.revocations as Partial<RevocationList> | undefined;
    if (list !== undefined && typeof list.onRevocation !== 'function')
      throw new ConfigError('revocations', 'must be a RevocationList');
    this.verifier = options.verifier;
    this.index = new PolicyIndex(options.policy);
    this.revocations = options.revocations;
    this.onRefusal = options.onRefusal;
    this.now = options.now ?? Date.now;
  }

  /** The method's entry, or undefined when no policy names its service. */
  entry(path: string): MethodEntry | undefined {
    return this.index.get(path);
  }

  /**
   * Authorizes a call to `path` with this Authorization header: the Principal, or undefined for a public
   * method. Throws the refusal as a ConnectError (fixed message, REFUSAL_HEADER set).
   */
  async authorize(path: string, authorization: string | null | undefined): Promise<Principal | undefined> {
    const rule = this.index.get(path)?.rule;
    if (rule === undefined) throw this.refuse(path, 'no_policy', undefined);
    if (isPublic(rule)) return undefined;
    try {
      // A ScopeRule is the verifier's AuthorizeOptions ({ scopes, mode }): no object per call.
      return this.verifier.authorizeCached(authorization, rule) ?? (await this.verifier.authorize(authorization, rule));
    } catch (err) {
      throw this.refuse(path, refusalReason(err), err);
    }
  }

  /** Reports a refusal to `onRefusal` and returns its ConnectError. */
  refuse(path: string, reason: RefusalReason, cause: unknown) {
    if (this.onRefusal !== undefined) {
      try {
        this.onRefusal({ path, reason, code: REFUSALS[reason].code, cause });
      } catch {
        // a logging hook must not change the answer
      }
    }
    return refusalError(reason);
  }
}

import { randomBytes } from 'node:crypto';

import type { Code } from '@connectrpc/connect';
import { ConfigError, requireScopes } from '@tessera/core';
import {
  TokenBindingError,
  type Principal,
  type RequestCredentials,
  type RevocationList,
  type Verifier,
} from '@tessera/verifier';

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

/**
 * What a call brings to be authorized: its Authorization header (`Bearer <token>` or `DPoP <token>`), its DPoP
 * proof, and the method and URL the proof must name (the RPC path on the server's origin as the client
 * addressed it, or the verifier's `externalOrigin` and the path); at the gate, the connection's client
 * certificate (RFC 8705).
 */
export type CallCredentials = RequestCredentials;

/** How long a call the gate let in with a DPoP proof or a client certificate waits for the interceptor behind it. */
const VOUCH_MS = 60_000;
/** Calls let in by a gate and not yet met by its interceptor, at most (the oldest forgotten first). */
const MAX_VOUCHED = 10_000;
/**
 * The request header a gate hands its word to the interceptor behind it in: a random value the gate sets on the very
 * request it let in (after removing any the client sent), never sent to a client, so no other call can present it.
 */
export const VOUCH_HEADER = 'x-tessera-gate-vouch';

/**
 * Calls a gate let in with a bound token, per verifier, by the random value the gate put on the request
 * (VOUCH_HEADER): the interceptor behind the gate takes the gate's word for that call once. A DPoP proof, since the
 * verifier uses each proof once (its jti) and would refuse it the second time; a client certificate (RFC 8705),
 * since Connect's interceptor sees no TLS connection. Bound to the request, its path and its credentials, and taken
 * out when met: a word left over by a call that never reached the interceptor is of no use to any other call.
 */
const vouched = new WeakMap<Verifier, Map<string, { principal: Principal; until: number; call: string }>>();

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
    if (typeof v?.authorizeRequest !== 'function' || typeof v.authorizeRequestCached !== 'function')
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
   * Authorizes a call to `path` with these credentials (a bearer token, or a DPoP-bound token and its proof for
   * the call's method and URL): the Principal, or undefined for a public method. Throws the refusal as a
   * ConnectError (fixed message, REFUSAL_HEADER set). `gate`: the call is let in before its body is read, and
   * the interceptor behind may take the gate's word for its proof or its client certificate (`takeVouched`).
   */
  async authorize(path: string, call: CallCredentials, gate = false, vouch?: string | null): Promise<Principal | undefined> {
    const rule = this.index.get(path)?.rule;
    if (rule === undefined) throw this.refuse(path, 'no_policy', undefined);
    if (isPublic(rule)) return undefined;
    let principal: Principal;
    try {
      if (!gate) {
        const taken = this.takeVouched(path, call, vouch, true);
        if (taken !== undefined) {
          if (rule.scopes && rule.scopes.length > 0) requireScopes(taken.scopes, rule.scopes, rule.mode ?? 'all');
          return taken;
        }
      }
      // A ScopeRule is the verifier's AuthorizeOptions ({ scopes, mode }): no object per call.
      principal = this.verifier.authorizeRequestCached(call, rule) ?? (await this.verifier.authorizeRequest(call, rule));
    } catch (err) {
      // A certificate-bound token without the connection's certificate (Connect's interceptor has none): a call
      // the gate in front checked with it.
      const taken =
        !gate && err instanceof TokenBindingError && err.reason === 'certificate'
          ? this.takeVouched(path, call, vouch)
          : undefined;
      if (taken === undefined) throw this.refuse(path, refusalReason(err), err, call.authorization);
      principal = taken;
      try {
        if (rule.scopes && rule.scopes.length > 0) requireScopes(principal.scopes, rule.scopes, rule.mode ?? 'all');
      } catch (scopeErr) {
        throw this.refuse(path, refusalReason(scopeErr), scopeErr, call.authorization);
      }
    }
    return principal;
  }

  /**
   * The gate's word for a call it let in with a bound token (a DPoP proof or a client certificate): a random value
   * for the gate to put on that request (VOUCH_HEADER), which the interceptor behind takes once. Undefined for an
   * unbound Principal: the interceptor checks that call itself.
   */
  vouchFor(path: string, call: CallCredentials, principal: Principal | undefined): string | undefined {
    if (principal === undefined || (principal.jkt === undefined && principal.x5t === undefined)) return undefined;
    let calls = vouched.get(this.verifier);
    if (calls === undefined) vouched.set(this.verifier, (calls = new Map()));
    const now = this.now();
    for (const [k, v] of calls) {
      if (v.until > now && calls.size < MAX_VOUCHED) break;
      calls.delete(k);
    }
    const value = randomBytes(18).toString('base64url');
    calls.set(value, { principal, until: now + VOUCH_MS, call: callKey(path, call) });
    return value;
  }

  /**
   * The gate's word for this call, taken once: a DPoP call's before it is checked (its proof, used by the gate,
   * would be refused), a certificate-bound call's when it is refused for want of the connection's certificate. Only
   * the word the gate put on this request (`vouch`), for this path and these credentials.
   */
  private takeVouched(
    path: string,
    call: CallCredentials,
    vouch: string | null | undefined,
    dpopOnly = false,
  ): Principal | undefined {
    if (typeof vouch !== 'string' || vouch === '') return undefined;
    if (dpopOnly && (call.dpop === undefined || call.dpop === null || call.dpop === '')) return undefined;
    const calls = vouched.get(this.verifier);
    const entry = calls?.get(vouch);
    if (entry === undefined || entry.call !== callKey(path, call)) return undefined;
    calls!.delete(vouch);
    return entry.until > this.now() ? entry.principal : undefined;
  }

  /** Reports a refusal to `onRefusal` and returns its ConnectError (with the nonce to use for `dpop_nonce`). */
  refuse(path: string, reason: RefusalReason, cause: unknown, authorization?: string | null) {
    if (this.onRefusal !== undefined) {
      try {
        this.onRefusal({ path, reason, code: REFUSALS[reason].code, cause });
      } catch {
        // a logging hook must not change the answer
      }
    }
    return refusalError(reason, reason === 'dpop_nonce' ? this.verifier.dpopChallenge(authorization)?.nonce : undefined);
  }
}

function callKey(path: string, call: CallCredentials): string {
  const dpop = typeof call.dpop === 'string' ? call.dpop : (call.dpop ?? []).join(',');
  return `${path}\n${call.method}\n${call.authorization ?? ''}\n${dpop}`;
}

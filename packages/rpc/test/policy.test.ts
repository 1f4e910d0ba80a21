/**
 * The policy: typed against the service descriptor (type tests, compiled by tsc), checked at start-up, and
 * the deny-by-default check (assertEveryMethodHasPolicy, missingPolicies).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Code, ConnectError, createContextValues } from '@connectrpc/connect';
import { ConfigError, TesseraError } from '@tessera/core';
import {
  assertEveryMethodHasPolicy,
  createAuthInterceptor,
  definePolicy,
  missingPolicies,
  principal,
  principalKey,
  PolicyMissingError,
  PUBLIC,
  withAuthGate,
  type MethodRule,
  type ServicePolicy,
} from '@tessera/rpc';
import { createVerifier, type Principal } from '@tessera/verifier';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { inventoryPolicy } from './helpers/inventory.js';

const verifier = createVerifier({
  issuer: 'https://auth.test',
  audience: 'inventory',
  algorithms: ['ES256'],
  jwks: { keys: [] },
});

describe('definePolicy', () => {
  it('keeps the rules by method, frozen', () => {
    assert.equal(inventoryPolicy.service, InventoryService);
    assert.deepEqual(Object.keys(inventoryPolicy.rules).sort(), ['adjustStock', 'getStock', 'health', 'watchStock']);
    assert.deepEqual(inventoryPolicy.rules.adjustStock, { scopes: ['inventory:write', 'inventory:admin'], mode: 'any' });
    assert.deepEqual(inventoryPolicy.rules.getStock, { scopes: ['inventory:read'], mode: 'all' });
    assert.equal(inventoryPolicy.rules.health, PUBLIC);
    assert.ok(Object.isFrozen(inventoryPolicy.rules));
  });

  it("a method name that is not the service's: a compile error, and ConfigError at run time", () => {
    assert.throws(
      () =>
        definePolicy(InventoryService, {
          // @ts-expect-error getStok is not a method of InventoryService
          getStok: { scopes: ['inventory:read'] },
        }),
      (e: ConfigError) =>
        e instanceof ConfigError &&
        e.option === 'policy.inventory.v1.InventoryService.getStok' &&
        /no method "getStok"/.test(e.message),
    );
  });

  it('rules are typed: a scope list, an all/any mode, or PUBLIC', () => {
    // @ts-expect-error mode is 'all' or 'any'
    assert.throws(() => definePolicy(InventoryService, { getStock: { scopes: ['a'], mode: 'some' } }), ConfigError);
    // @ts-expect-error scopes is a list
    assert.throws(() => definePolicy(InventoryService, { getStock: { scopes: 'inventory:read' } }), ConfigError);
    // @ts-expect-error public is `true` only
    assert.throws(() => definePolicy(InventoryService, { health: { public: false } }), ConfigError);
    // @ts-expect-error a rule is an object
    assert.throws(() => definePolicy(InventoryService, { health: true }), ConfigError);
    assert.throws(() => definePolicy(InventoryService, { getStock: { scopes: ['has space'] } }), /not a scope token/);
    assert.throws(
      () => definePolicy(InventoryService, { health: { public: true, scopes: [] } as unknown as MethodRule }),
      /exactly PUBLIC/,
    );
    assert.throws(() => definePolicy({} as typeof InventoryService, {}), /service descriptor/);
    const authenticatedOnly: ServicePolicy<typeof InventoryService> = definePolicy(InventoryService, {
      getStock: { scopes: [] },
    });
    assert.deepEqual(authenticatedOnly.rules.getStock, { scopes: [], mode: 'all' });
  });
});

describe('deny by default: the check', () => {
  it('missingPolicies lists every method without a rule, as RPC paths', () => {
    assert.deepEqual(missingPolicies([InventoryService], inventoryPolicy), ['inventory.v1.InventoryService/DeleteItem']);
    assert.deepEqual(
      missingPolicies([InventoryService], []),
      InventoryService.methods.map((m) => `inventory.v1.InventoryService/${m.name}`),
    );
  });

  it('assertEveryMethodHasPolicy throws PolicyMissingError naming them', () => {
    assert.throws(
      () => assertEveryMethodHasPolicy([InventoryService], inventoryPolicy),
      (e: PolicyMissingError) =>
        e instanceof PolicyMissingError &&
        e instanceof TesseraError &&
        e.code === 'ERR_RPC_POLICY_MISSING' &&
        e.message === '1 method has no policy: inventory.v1.InventoryService/DeleteItem' &&
        e.methods.length === 1,
    );
  });

  it('passes once every method has a rule', () => {
    const complete = definePolicy(InventoryService, { ...inventoryPolicy.rules, deleteItem: { scopes: ['inventory:admin'] } });
    assert.doesNotThrow(() => assertEveryMethodHasPolicy(InventoryService, complete));
    assert.doesNotThrow(() => assertEveryMethodHasPolicy([InventoryService], [complete]));
  });
});

describe('options are checked at start-up', () => {
  for (const [name, make] of [
    ['createAuthInterceptor', createAuthInterceptor],
    ['withAuthGate', (o: Parameters<typeof createAuthInterceptor>[0]) => withAuthGate(() => undefined, o)],
  ] as const) {
    it(`${name}: ConfigError naming the option`, () => {
      assert.throws(
        () => make({ verifier: undefined as unknown as typeof verifier, policy: inventoryPolicy }),
        /verifier: required/,
      );
      assert.throws(() => make({ verifier, policy: [] }), /policy: required/);
      assert.throws(() => make({ verifier, policy: [inventoryPolicy, inventoryPolicy] }), /two policies/);
      assert.throws(() => make({ verifier, policy: inventoryPolicy, onRefusal: 1 as unknown as () => void }), /onRefusal/);
      assert.doesNotThrow(() => make({ verifier, policy: inventoryPolicy }));
    });
  }
});

describe('principal(ctx)', () => {
  it('is the Principal the interceptor put in the context', () => {
    const values = createContextValues();
    const p = { sub: 'alice' } as Principal;
    values.set(principalKey, p);
    assert.equal(principal({ values }), p);
  });

  it('throws Unauthenticated when there is none (public method, or no interceptor)', () => {
    assert.throws(
      () => principal({ values: createContextValues() }),
      (e: ConnectError) => e instanceof ConnectError && e.code === Code.Unauthenticated,
    );
  });
});

/**
 * When the verifier cannot vouch for any token (no JWKS, or a revocation list that is not current), calls
 * fail closed with Unavailable and a fixed message; the internal cause goes to onRefusal only.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { Code } from '@connectrpc/connect';
import { REFUSALS, type RefusalEvent } from '@tessera/rpc';
import {
  createRevocationList,
  createVerifier,
  KeysUnavailableError,
  RevocationsUnavailableError,
  type RevocationList,
  type Verifier,
} from '@tessera/verifier';

import { AUDIENCE, startAuthServer, type AuthServer } from './helpers/auth-server.js';
import { connectH2, grpcJs, grpcTransport, type Caller } from './helpers/callers.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('fail closed: Unavailable', () => {
  let auth: AuthServer;
  let token: string;
  before(async () => {
    auth = await startAuthServer();
    token = await auth.token(await auth.client('reader', ['inventory:read']));
  });
  after(() => auth.close());

  const setups: {
    name: string;
    cause: new (...a: never[]) => Error;
    make: () => Promise<{ verifier: Verifier; list?: RevocationList }>;
  }[] = [
    {
      name: 'JWKS endpoint down (KeysUnavailableError)',
      cause: KeysUnavailableError,
      make: async () => ({
        verifier: createVerifier({
          issuer: auth.url,
          audience: AUDIENCE,
          algorithms: ['ES256'],
          jwksUri: `http://127.0.0.1:${await closedPort()}/jwks`,
        }),
      }),
    },
    {
      name: 'revocation list never loaded (RevocationsUnavailableError)',
      cause: RevocationsUnavailableError,
      make: async () => {
        const list = createRevocationList({
          issuer: `http://127.0.0.1:${await closedPort()}`,
          clientId: 'feed',
          clientSecret: 'secret',
        });
        const verifier = createVerifier({
          issuer: auth.url,
          audience: AUDIENCE,
          algorithms: ['ES256'],
          jwksUri: `${auth.url}/.well-known/jwks.json`,
          revocations: list,
        });
        return { verifier, list };
      },
    },
  ];

  for (const setup of setups) {
    describe(setup.name, () => {
      let inv: Inventory;
      let handle: { verifier: Verifier; list?: RevocationList };
      const events: RefusalEvent[] = [];
      before(async () => {
        handle = await setup.make();
        inv = await startInventory({ verifier: handle.verifier, gate: true, onRefusal: (e) => events.push(e) });
      });
      after(async () => {
        await inv.close();
        handle.verifier.close();
        handle.list?.close();
      });

      for (const make of [connectH2, grpcTransport, grpcJs]) {
        it(`${make.name}: Unavailable, fixed message`, async () => {
          const caller: Caller = make(inv);
          const outcome = await caller.unary('getStock', `Bearer ${token}`);
          caller.close();
          assert.equal(outcome.ok, false);
          if (outcome.ok) return;
          assert.equal(outcome.code, Code.Unavailable);
          assert.equal(outcome.message, REFUSALS.unavailable.message);
          assert.equal(outcome.reason, 'unavailable');
        });
      }

      it('the cause reached onRefusal, and nothing else', () => {
        assert.ok(events.length >= 3);
        for (const e of events) {
          assert.equal(e.reason, 'unavailable');
          assert.equal(e.path, 'inventory.v1.InventoryService/GetStock');
          assert.ok(e.cause instanceof setup.cause, String(e.cause));
        }
      });

      it('a public method still answers', async () => {
        const caller = connectH2(inv);
        assert.deepEqual(await caller.unary('health', undefined), { ok: true, status: 'ok' });
      });
    });
  }
});

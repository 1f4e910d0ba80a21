/**
 * Encrypted access tokens on RPC: the auth server issues the inventory service (a registered resource that
 * encrypts) nested JWTs, and the interceptor, with withAuthGate in front or alone, lets them through the service's
 * Verifier given its decryption key: the claims inside reach the handler's principal. The same signed token
 * encrypted to another key, or not encrypted at all, is refused with Unauthenticated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Code } from '@connectrpc/connect';
import { decryptJwe, encryptJwt, generateEncryptionKey, type EncryptionKey } from '@tessera/core';
import { REFUSALS } from '@tessera/rpc';
import { CLI_ACTOR } from '@tessera/server/internal';
import { createVerifier, type Verifier } from '@tessera/verifier';

import { AUDIENCE, startAuthServer, type AuthServer } from './helpers/auth-server.js';
import { connectH2, grpcJs, grpcTransport } from './helpers/callers.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

/** The signed token inside an encrypted one, and its jti (what the handler must see as the caller's token id). */
function inner(token: string, key: EncryptionKey): { jws: string; jti: string } {
  const { jws } = decryptJwe(token, key, { algorithms: [key.alg] });
  const claims = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { jti: string };
  return { jws, jti: claims.jti };
}

describe('encrypted access tokens through the RPC interceptor', () => {
  let auth: AuthServer;
  let verifier: Verifier;
  const key = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'inventory-enc-1' });
  let token: string;

  before(async () => {
    auth = await startAuthServer();
    await auth.server.admin.resources.add(CLI_ACTOR, {
      name: 'inventory',
      resource: AUDIENCE,
      encrypt_access_tokens: true,
      encryption_keys: [key.publicKey().toJwk()],
    });
    token = await auth.token(await auth.client('reader', ['inventory:read']), { resource: AUDIENCE });
    verifier = createVerifier({
      issuer: auth.url,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwksUri: `${auth.url}/.well-known/jwks.json`,
      decryptionKeys: [key],
    });
  });
  after(async () => {
    verifier.close();
    await auth.close();
  });

  it('the auth server issued a nested JWT encrypted to the inventory key', () => {
    assert.equal(token.split('.').length, 5);
    assert.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid, 'inventory-enc-1');
  });

  for (const gate of [false, true])
    describe(gate ? 'with withAuthGate' : 'interceptor alone', () => {
      let inv: Inventory;
      before(async () => {
        inv = await startInventory({ verifier, gate });
      });
      after(() => inv.close());

      for (const make of [connectH2, grpcTransport, grpcJs]) {
        it(`${make.name}: the encrypted token is accepted and its claims reach the handler`, async () => {
          const caller = make(inv);
          const before = inv.seen.calls.length;
          const outcome = await caller.unary('getStock', `Bearer ${token}`);
          caller.close();
          assert.equal(outcome.ok, true, JSON.stringify(outcome));
          assert.equal(outcome.ok && outcome.caller, 'reader');
          const seen = inv.seen.calls.slice(before);
          assert.deepEqual(seen, [{ method: 'getStock', tokenId: inner(token, key).jti, workload: undefined }]);
        });

        it(`${make.name}: the same signed token encrypted to another key, or not encrypted, is refused: Unauthenticated`, async () => {
          const { jws } = inner(token, key);
          const otherKid = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'inventory-enc-1' });
          const other = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'somebody-else' });
          const before = inv.seen.calls.length;
          for (const refused of [encryptJwt(jws, otherKid.publicKey()), encryptJwt(jws, other.publicKey()), jws]) {
            const caller = make(inv);
            const outcome = await caller.unary('getStock', `Bearer ${refused}`);
            caller.close();
            assert.equal(outcome.ok, false);
            if (outcome.ok) return;
            assert.equal(outcome.code, Code.Unauthenticated);
            assert.equal(outcome.reason, 'token_invalid');
            assert.equal(outcome.message, REFUSALS.token_invalid.message);
          }
          assert.equal(inv.seen.calls.length, before, 'no refused call reached a handler');
        });
      }
    });
});

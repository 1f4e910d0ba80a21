/**
 * Encrypted access tokens (nested JWTs: signed, then encrypted to the gateway) on the WebSocket: a gateway built
 * from a Verifier given the gateway's decryption key connects and refreshes with them, the claims inside being
 * the connection's user; the same signed token encrypted to another key, or sent unencrypted, is refused with the
 * protocol's invalid-token disconnect (3500).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { buildJwks, encryptJwt, generateEncryptionKey, generateKey, type Key } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';

import { AUDIENCE, ISSUER, startGateway, type Harness } from './helpers/gateway.js';
import { RawClients } from './helpers/raw.js';

const CHAT = ['chat:room:*:subscribe', 'chat:room:*:publish'];

describe('encrypted access tokens on the WebSocket', () => {
  let h: Harness;
  let signing: Key;
  const key = generateEncryptionKey('ECDH-ES', { kid: 'gateway-enc-1', crv: 'X25519' });
  const clients = new RawClients(() => h.wsUrl);
  const raw = () => clients.open();
  const encrypted = (jws: string) => encryptJwt(jws, key.publicKey());

  before(async () => {
    signing = await generateKey('EdDSA');
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      jwks: buildJwks([signing]),
      decryptionKeys: [key.toJwk({ private: true })],
    });
    h = await startGateway({ key: signing, verifier });
  });
  after(async () => {
    clients.terminate();
    await h.close();
  });

  it('connects with an encrypted token, as the user inside it, and refreshes with another', async () => {
    const r = await raw();
    r.send({ id: 1, connect: { token: encrypted(h.token('alice', CHAT, 60)) } });
    const { client } = (await r.reply(1)).connect as { client: string };
    assert.match(client, /^[0-9a-f-]{36}$/);
    r.send({ id: 2, subscribe: { channel: 'chat:room:sealed' } });
    assert.ok((await r.reply(2)).subscribe);
    const presence = await h.gateway.presence('chat:room:sealed');
    assert.equal((presence[client] as { user?: string } | undefined)?.user, 'alice');

    r.send({ id: 3, refresh: { token: encrypted(h.token('alice', CHAT, 120)) } });
    const refreshed = (await r.reply(3)).refresh as { client: string; ttl: number };
    assert.equal(refreshed.client, client);
    assert.ok(refreshed.ttl > 60);
  });

  it('refuses the same signed token encrypted to another key, or not encrypted: 3500 invalid token', async () => {
    const jws = h.token('alice', CHAT, 60);
    const sameKid = generateEncryptionKey('ECDH-ES', { kid: 'gateway-enc-1', crv: 'X25519' });
    const otherKid = generateEncryptionKey('ECDH-ES', { kid: 'another-service', crv: 'X25519' });
    for (const token of [encryptJwt(jws, sameKid.publicKey()), encryptJwt(jws, otherKid.publicKey()), jws]) {
      const r = await raw();
      r.send({ id: 1, connect: { token } });
      assert.deepEqual(await r.closed, { code: 3500, reason: 'invalid token' });
      assert.equal(
        r.messages.some((m) => m.connect !== undefined),
        false,
      );
    }
  });

  it('a connection refreshed with a token encrypted to another key is ended: 3500', async () => {
    const r = await raw();
    r.send({ id: 1, connect: { token: encrypted(h.token('bob', CHAT, 60)) } });
    assert.ok((await r.reply(1)).connect);
    const other = generateEncryptionKey('ECDH-ES', { kid: 'gateway-enc-1', crv: 'X25519' });
    r.send({ id: 2, refresh: { token: encryptJwt(h.token('bob', CHAT, 120), other.publicKey()) } });
    assert.equal((await r.closed).code, 3500);
  });
});

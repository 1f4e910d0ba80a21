/**
 * DPoP-bound access tokens (RFC 9449, `cnf.jkt`) on the WebSocket: the proof travels in the connect and refresh
 * commands' `data`, `{"dpop": "<proof>"}`, for `GET` of the WebSocket URL the client addressed (its http(s)
 * form). The holder of the key connects and refreshes; a copied token, a replayed proof or a proof for another
 * URL is refused with 3500, as an invalid token. A refresh may come without a proof (the centrifuge SDK sends
 * no refresh data) when its token is bound to the key the connection proved at connect; a token of another
 * key, an unbound token on a bound connection or a bound one on an unbound connection is refused (3500).
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { tmpdir } from 'node:os';

import { buildJwks, generateKey } from '@tessera/core';
import { parseGatewayConfig, runGateway, type RunningGateway } from '@tessera/realtime';
import { createVerifier } from '@tessera/verifier';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import { startAuthServer, type AuthServer } from './helpers/auth.js';
import { assertRefreshedInPlace, AUDIENCE, ISSUER, once, startGateway, type Harness } from './helpers/gateway.js';
import { Raw, RawClients } from './helpers/raw.js';

const CHAT = ['chat:room:*:subscribe', 'chat:room:*:publish'];

/** A client's DPoP key pair and the proofs it signs (jose, typ dpop+jwt, its public jwk in the header). */
interface Holder {
  privateKey: KeyLike;
  jwk: JWK;
  jkt: string;
}

async function holder(): Promise<Holder> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

/** A proof for `htm` of `htu`; with `token`, for that access token (`ath`). */
function proof(key: Holder, htu: string, token: string | undefined, htm = 'GET'): Promise<string> {
  const claims: Record<string, unknown> = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (token !== undefined) claims.ath = createHash('sha256').update(token).digest('base64url');
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk }).sign(key.privateKey);
}

/** The http(s) form of a ws(s) URL: the handshake's target, which a proof's htu names. */
const httpForm = (wsUrl: string) => wsUrl.replace(/^ws/, 'http');

describe('DPoP-bound tokens on the WebSocket', () => {
  let h: Harness;
  let htu: string;
  const clients = new RawClients(() => h.wsUrl);
  const raw = () => clients.open();
  before(async () => {
    h = await startGateway();
    htu = httpForm(h.wsUrl);
  });
  after(async () => {
    clients.terminate();
    await h.close();
  });

  it('the holder connects with a proof in the connect data and refreshes with a new token and proof', async () => {
    const key = await holder();
    const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
    const r = await raw();
    r.send({ id: 1, connect: { token, data: { dpop: await proof(key, htu, token) } } });
    const connected = (await r.reply(1)).connect as { client: string };
    assert.match(connected.client, /^[0-9a-f-]{36}$/);

    const next = h.token('alice', CHAT, 120, { cnf: { jkt: key.jkt } });
    r.send({ id: 2, refresh: { token: next, data: { dpop: await proof(key, htu, next) } } });
    const refreshed = (await r.reply(2)).refresh as { client: string; ttl: number };
    assert.equal(refreshed.client, connected.client);
    assert.ok(refreshed.ttl > 60, 'the new token is the connection’s');

    // The connection works on: a subscription after the refresh.
    r.send({ id: 3, subscribe: { channel: 'chat:room:dpop' } });
    assert.ok((await r.reply(3)).subscribe);
  });

  it('the token copied to another client: refused without a proof, and with a proof of its own key', async () => {
    const key = await holder();
    const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
    const bare = await raw();
    bare.send({ id: 1, connect: { token } });
    assert.equal((await bare.closed).code, 3500);

    const thief = await raw();
    thief.send({ id: 1, connect: { token, data: { dpop: await proof(await holder(), htu, token) } } });
    assert.equal((await thief.closed).code, 3500);
  });

  it('a proof seen before is refused (replay), on another connection as on the same', async () => {
    const key = await holder();
    const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
    const dpop = await proof(key, htu, token);
    const first = await raw();
    first.send({ id: 1, connect: { token, data: { dpop } } });
    assert.ok((await first.reply(1)).connect);

    const replay = await raw();
    replay.send({ id: 1, connect: { token, data: { dpop } } });
    assert.equal((await replay.closed).code, 3500);

    // Refreshing with the connect's proof again ends the rightful connection too.
    first.send({ id: 2, refresh: { token, data: { dpop } } });
    assert.equal((await first.closed).code, 3500);
  });

  it('a proof for another URL, or a proof of another token, is refused', async () => {
    const key = await holder();
    const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
    for (const other of [
      htu.replace('/connection/websocket', '/api/publish'),
      'https://elsewhere.example/connection/websocket',
    ]) {
      const r = await raw();
      r.send({ id: 1, connect: { token, data: { dpop: await proof(key, other, token) } } });
      assert.equal((await r.closed).code, 3500, other);
    }
    const r = await raw();
    r.send({ id: 1, connect: { token, data: { dpop: await proof(key, htu, h.token('alice', CHAT)) } } });
    assert.equal((await r.closed).code, 3500);
  });

  it('a bound connection refreshed without a proof, with a token bound to the key it proved: kept', async () => {
    const key = await holder();
    const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
    const r = await raw();
    r.send({ id: 1, connect: { token, data: { dpop: await proof(key, htu, token) } } });
    const connected = (await r.reply(1)).connect as { client: string };
    r.send({ id: 2, refresh: { token: h.token('alice', CHAT, 120, { cnf: { jkt: key.jkt } }) } });
    const refreshed = (await r.reply(2)).refresh as { client: string; ttl: number };
    assert.equal(refreshed.client, connected.client);
    assert.ok(refreshed.ttl > 60, 'the new token is the connection’s');
    // And again with a proof: checked in full, taken.
    const third = h.token('alice', CHAT, 180, { cnf: { jkt: key.jkt } });
    r.send({ id: 3, refresh: { token: third, data: { dpop: await proof(key, htu, third) } } });
    assert.ok(((await r.reply(3)).refresh as { ttl: number }).ttl > 120);
    // A proof that fails its checks (here: for another token) still ends the connection, though the
    // refresh would have been taken without it.
    const fourth = h.token('alice', CHAT, 240, { cnf: { jkt: key.jkt } });
    r.send({ id: 4, refresh: { token: fourth, data: { dpop: await proof(key, htu, third) } } });
    assert.equal((await r.closed).code, 3500);
  });

  it('a bound connection refreshed with a token bound to another key, with or without its proof: 3500', async () => {
    const key = await holder();
    const other = await holder();
    for (const withProof of [false, true]) {
      const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
      const r = await raw();
      r.send({ id: 1, connect: { token, data: { dpop: await proof(key, htu, token) } } });
      assert.ok((await r.reply(1)).connect);
      const next = h.token('alice', CHAT, 120, { cnf: { jkt: other.jkt } });
      const data = withProof ? { data: { dpop: await proof(other, htu, next) } } : {};
      r.send({ id: 2, refresh: { token: next, ...data } });
      assert.equal((await r.closed).code, 3500, withProof ? 'with the other key’s proof' : 'without a proof');
      assert.equal(
        r.messages.find((m) => m.id === 2),
        undefined,
        'no refresh reply',
      );
    }
  });

  it('a bound connection refreshed with an unbound token (a downgrade): 3500', async () => {
    const key = await holder();
    const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
    const r = await raw();
    r.send({ id: 1, connect: { token, data: { dpop: await proof(key, htu, token) } } });
    assert.ok((await r.reply(1)).connect);
    r.send({ id: 2, refresh: { token: h.token('alice', CHAT, 120) } });
    assert.equal((await r.closed).code, 3500);
  });

  it('a connection made with an unbound token refreshed with a bound one, with or without its proof: 3500', async () => {
    const key = await holder();
    for (const withProof of [false, true]) {
      const r = await raw();
      r.send({ id: 1, connect: { token: h.token('bob', CHAT) } });
      assert.ok((await r.reply(1)).connect);
      const next = h.token('bob', CHAT, 120, { cnf: { jkt: key.jkt } });
      const data = withProof ? { data: { dpop: await proof(key, htu, next) } } : {};
      r.send({ id: 2, refresh: { token: next, ...data } });
      assert.equal((await r.closed).code, 3500, withProof ? 'with its proof' : 'without a proof');
    }
  });

  it('an unbound token keeps working without data; with a proof it is refused (DPoP is for bound tokens)', async () => {
    const token = h.token('bob', CHAT);
    const plain = await raw();
    plain.send({ id: 1, connect: { token, data: { app: 'x' } } });
    assert.ok((await plain.reply(1)).connect);
    plain.send({ id: 2, refresh: { token: h.token('bob', CHAT, 120) } });
    assert.ok((await plain.reply(2)).refresh);

    const key = await holder();
    const withProof = await raw();
    withProof.send({ id: 1, connect: { token, data: { dpop: await proof(key, htu, token) } } });
    assert.equal((await withProof.closed).code, 3500);
  });

  it('a dpop member that is not a string is a bad request (3501)', async () => {
    const r = await raw();
    r.send({ id: 1, connect: { token: h.token('bob', CHAT), data: { dpop: 42 } } });
    assert.equal((await r.closed).code, 3501);
  });

  it('the centrifuge SDK sends the proof in its connect data (getData: a fresh proof for each attempt)', async () => {
    const key = await holder();
    const token = h.token('carol', CHAT, 60, { cnf: { jkt: key.jkt } });
    const c = h.client({ token, getData: async () => ({ dpop: await proof(key, htu, token) }) });
    c.connect();
    await once(c, 'connected');
    c.disconnect();

    // The same token without the key's proof: the SDK is refused and stays disconnected.
    const copy = h.client({ token });
    const refused = once<{ code: number }>(copy, 'disconnected');
    copy.connect();
    assert.equal((await refused).code, 3500);
  });

  it('the centrifuge SDK keeps a bound connection through its refreshes (no data on refresh) and receives on', async () => {
    const key = await holder();
    // Presence too: the gateway's member list tells that the connection is still the first one.
    const next = () => h.token('carol', [...CHAT, 'chat:room:*:presence'], 1.3, { cnf: { jkt: key.jkt } });
    const token = next();
    // Three refreshes, each with a token bound to the key, none with a proof: past the first token's expiry.
    await assertRefreshedInPlace(
      h,
      { token, getData: async () => ({ dpop: await proof(key, htu, token) }) },
      next,
      'chat:room:dpop-sdk',
      3,
      15_000,
    );
  });

  it('the centrifuge SDK refreshing a bound connection with a token of another key is disconnected (3500)', async () => {
    const key = await holder();
    const other = await holder();
    const token = h.token('carol', CHAT, 1.3, { cnf: { jkt: key.jkt } });
    const c = h.client({
      token,
      getData: async () => ({ dpop: await proof(key, htu, token) }),
      getToken: async () => h.token('carol', CHAT, 60, { cnf: { jkt: other.jkt } }),
    });
    c.connect();
    await once(c, 'connected');
    const { code } = await once<{ code: number }>(c, 'disconnected');
    assert.equal(code, 3500);
  });
});

describe('DPoP on the WebSocket behind a proxy: the verifier’s externalOrigin names the URL', () => {
  let h: Harness;
  before(async () => {
    const key = await generateKey('EdDSA');
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      jwks: buildJwks([key]),
      cache: false,
      externalOrigin: 'https://rt.example.com',
    });
    h = await startGateway({ key, verifier });
  });
  after(() => h.close());

  it('a proof for the external URL is accepted; one for the address the gateway listens on is not', async () => {
    const key = await holder();
    const token = h.token('alice', CHAT, 60, { cnf: { jkt: key.jkt } });
    const external = h.client({ token, data: { dpop: await proof(key, 'https://rt.example.com/connection/websocket', token) } });
    external.connect();
    await once(external, 'connected');
    external.disconnect();

    const local = h.client({ token, data: { dpop: await proof(key, httpForm(h.wsUrl), token) } });
    const refused = once<{ code: number }>(local, 'disconnected');
    local.connect();
    assert.equal((await refused).code, 3500);
  });
});

describe('tessera gateway: externalOrigin, and a token the auth server bound', () => {
  let auth: AuthServer;
  let running: RunningGateway;
  before(async () => {
    auth = await startAuthServer();
    await auth.user('dora');
    const config = parseGatewayConfig(
      {
        issuer: auth.url,
        externalOrigin: 'https://rt.example.com/',
        port: 0,
        channels: { namespaces: { chat: {} } },
        revocations: false,
      },
      tmpdir(),
      { env: {} },
    );
    running = await runGateway(config);
  });
  after(async () => {
    await running.close();
    await auth.close();
  });

  it('the holder of the key the token endpoint bound connects with a proof for the external URL', async () => {
    const key = await holder();
    const token = await auth.login('dora', (endpoint) => proof(key, endpoint, undefined, 'POST'));
    assert.deepEqual(decodeJwt(token).cnf, { jkt: key.jkt });
    const r = new Raw(running.wsUrl);
    await r.open();
    r.send({ id: 1, connect: { token, data: { dpop: await proof(key, 'https://rt.example.com/connection/websocket', token) } } });
    assert.ok((await r.reply(1)).connect);
    r.ws.close();

    const local = new Raw(running.wsUrl);
    await local.open();
    local.send({ id: 1, connect: { token, data: { dpop: await proof(key, httpForm(running.wsUrl), token) } } });
    assert.equal((await local.closed).code, 3500);
  });
});

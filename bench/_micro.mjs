import { buildJwks, generateKey, signAccessToken, requireScopes } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
const key = generateKey('ES256');
const token = signAccessToken({ iss: 'https://auth.bench', sub: 'alice', aud: 'orders', client_id: 'web', scope: 'orders:read', ttl: 3600 }, key);
const verifier = createVerifier({ issuer: 'https://auth.bench', audience: 'orders', algorithms: ['ES256'], jwks: buildJwks([key]) });
await verifier.authorize(`Bearer ${token}`);
const buf = Buffer.from(`Bearer ${token}`, 'latin1');
const N = 2_000_000;
function bench(name, f) {
  for (let i = 0; i < 200_000; i++) f(buf.toString('latin1'));
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f(buf.toString('latin1'));
  console.log(name, (Number(process.hrtime.bigint() - t) / N).toFixed(0), 'ns');
}
const opts = { scopes: ['orders:read'] };
const m = new Map([[token, 1]]);
const tail = new Map([[token.slice(-16), { token, v: 1 }]]);
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
bench('toString only', (h) => h.length);
bench('regex', (h) => BEARER.exec(h)[1].length);
bench('slice(7)', (h) => h.slice(7).length);
bench('map full key', (h) => m.get(h.slice(7)));
bench('map tail key', (h) => { const t = h.slice(7); const e = tail.get(t.slice(-16)); return e !== undefined && e.token === t; });
bench('requireScopes', (h) => requireScopes(['orders:read'], opts.scopes, 'all'));
bench('authorizeCached', (h) => verifier.authorizeCached(h, opts));

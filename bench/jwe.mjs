// Encrypted access tokens: decrypt + verify per second, Tessera against jose and the node:crypto floor.
//
//   npx tsc -b && node bench/jwe.mjs
//
// Environment: BENCH_ROUND_MS (default 500), BENCH_ROUNDS (default 5, at least 3), BENCH_WARMUP_MS (default 300),
// BENCH_CASES (default all: ECDH-ES+A256KW/P-256, ECDH-ES+A256KW/X25519, ECDH-ES/P-256, RSA-OAEP-256, dir).
// Prints a markdown table and writes bench/results/jwe.json.
//
// Method: one process. Per case, one token: an ES256 access token signed by Tessera (RFC 9068 header
// {alg, typ: "at+jwt", kid}), encrypted by Tessera's encryptJwt (A256GCM, cty JWT). Contestants, each taking
// the same token to verified claims:
//   - Tessera: EncryptedAccessTokenVerifier.verifyAccessToken (JweDecrypter, then AccessTokenVerifier);
//   - jose: compactDecrypt, then jwtVerify of the content (jwtDecrypt reads the content as a claims set and
//     refuses a nested JWT, so the nested form needs the two calls), awaited one call at a time;
//   - Verifier, cached: @tessera/verifier's Verifier with the service's decryption key, every call a hit of its
//     verified-token cache, against the same Verifier without decryption on the signed token inside;
//   - node:crypto (floor): the same key agreement (ECDH with the token's epk, imported per call) and Concat KDF,
//     AES key unwrap or RSA-OAEP, AES-256-GCM and the ES256 signature check, on segments decoded once outside
//     the loop: no parsing, no header or claim checks.
// Rounds of the contestants are interleaved; the figure is the median of the per-round ops/s.
import { Buffer } from 'node:buffer';
import {
  constants,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  privateDecrypt,
  verify as cryptoVerify,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

import { EncryptedAccessTokenVerifier, encryptJwt, generateEncryptionKey, generateKey, signAccessToken } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { compactDecrypt, jwtVerify } from 'jose';

const root = new URL('..', import.meta.url);
const ROUND_MS = positiveInt('BENCH_ROUND_MS', 500);
const ROUNDS = Math.max(3, positiveInt('BENCH_ROUNDS', 5));
const WARMUP_MS = positiveInt('BENCH_WARMUP_MS', 300);
const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'orders-api';

const CASES = [
  { id: 'ECDH-ES+A256KW/P-256', alg: 'ECDH-ES+A256KW', crv: 'P-256' },
  { id: 'ECDH-ES+A256KW/X25519', alg: 'ECDH-ES+A256KW', crv: 'X25519' },
  { id: 'ECDH-ES/P-256', alg: 'ECDH-ES', crv: 'P-256' },
  { id: 'RSA-OAEP-256', alg: 'RSA-OAEP-256' },
  { id: 'dir', alg: 'dir' },
].filter((c) => !process.env.BENCH_CASES || process.env.BENCH_CASES.split(',').includes(c.id));

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

let sink;

async function run(c, ms, batch) {
  let ops = 0;
  let t;
  const t0 = performance.now();
  const end = t0 + ms;
  do {
    for (let i = 0; i < batch; i++) sink = c.async ? await c.fn() : c.fn();
    ops += batch;
  } while ((t = performance.now()) < end);
  return (ops * 1000) / (t - t0);
}

async function measure(contestants) {
  for (const c of contestants) {
    c.batch = Math.max(1, Math.floor((await run(c, WARMUP_MS, 1)) / 2000));
    c.rounds = [];
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[(i + r) % contestants.length];
      c.rounds.push(await run(c, ROUND_MS, c.batch));
    }
  }
  return Object.fromEntries(contestants.map((c) => [c.id, { median: median(c.rounds), rounds: c.rounds }]));
}

const uint32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const withLength = (b) => Buffer.concat([uint32(b.length), b]);

/** The raw floor's content key, by the token's algorithm. */
function rawContentKey(c, key, header, encryptedKey) {
  if (c.alg === 'dir') return key.keyObject.export();
  if (c.alg === 'RSA-OAEP-256') {
    return privateDecrypt({ key: key.keyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, encryptedKey);
  }
  const epk = createPublicKey({ key: header.epk, format: 'jwk' });
  const z = diffieHellman({ privateKey: key.keyObject, publicKey: epk });
  const algId = c.alg === 'ECDH-ES' ? header.enc : c.alg;
  const other = Buffer.concat([
    withLength(Buffer.from(algId)),
    withLength(Buffer.alloc(0)),
    withLength(Buffer.alloc(0)),
    uint32(256),
  ]);
  const derived = createHash('sha256').update(uint32(1)).update(z).update(other).digest();
  if (c.alg === 'ECDH-ES') return derived;
  const unwrap = createDecipheriv('id-aes256-wrap', derived, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
  return Buffer.concat([unwrap.update(encryptedKey), unwrap.final()]);
}

async function setup(c, signingKey) {
  const key = generateEncryptionKey(c.alg, { crv: c.crv });
  const inner = signAccessToken(
    { iss: ISSUER, sub: 'user-8f14e45f', aud: AUDIENCE, client_id: 'web-checkout', scope: 'orders:read orders:write', ttl: 3600 },
    signingKey,
  );
  const token = encryptJwt(inner, key.publicKey());
  const pub = signingKey.publicKey();
  const tessera = new EncryptedAccessTokenVerifier({
    decryption: { algorithms: [c.alg], allowDir: c.alg === 'dir' },
    verification: { algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE },
  });
  const joseKey = c.alg === 'dir' ? key.keyObject.export() : key.keyObject;
  const decryptOptions = { keyManagementAlgorithms: [c.alg], contentEncryptionAlgorithms: ['A256GCM'] };
  const verifyOptions = { algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' };
  const [h, ek, iv, ct, tag] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const bytes = { ek: Buffer.from(ek, 'base64url'), iv: Buffer.from(iv, 'base64url'), ct: Buffer.from(ct, 'base64url') };
  bytes.tag = Buffer.from(tag, 'base64url');
  const aad = Buffer.from(h, 'latin1');
  const [ih, ip, is] = inner.split('.');
  const signingInput = Buffer.from(`${ih}.${ip}`, 'latin1');
  const signature = Buffer.from(is, 'base64url');
  const ecdsa = { key: pub.keyObject, dsaEncoding: 'ieee-p1363' };
  // The service's Verifier with its verified-token cache: the encrypted token against its signed inner token, each
  // verified once before the rounds, so every call is a cache hit (what a service pays per request after the first).
  const verifierOptions = { issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], publicKey: pub };
  const cachedEncrypted = createVerifier({
    ...verifierOptions,
    decryptionKeys: [key],
    ...(c.alg === 'dir' ? { decryption: { allowDir: true } } : {}),
  });
  const cachedSigned = createVerifier(verifierOptions);
  const contestants = [
    {
      id: 'raw',
      fn: () => {
        const cek = rawContentKey(c, key, header, bytes.ek);
        const d = createDecipheriv('aes-256-gcm', cek, bytes.iv, { authTagLength: 16 });
        d.setAAD(aad);
        d.setAuthTag(bytes.tag);
        const content = Buffer.concat([d.update(bytes.ct), d.final()]);
        return content.length > 0 && cryptoVerify('sha256', signingInput, ecdsa, signature);
      },
    },
    { id: 'tessera', fn: () => tessera.verifyAccessToken(token, key, pub) },
    {
      id: 'jose',
      async: true,
      fn: async () => {
        const { plaintext } = await compactDecrypt(token, joseKey, decryptOptions);
        return jwtVerify(new TextDecoder().decode(plaintext), pub.keyObject, verifyOptions);
      },
    },
    { id: 'cached-encrypted', async: true, fn: () => cachedEncrypted.verify(token) },
    { id: 'cached-signed', async: true, fn: () => cachedSigned.verify(inner) },
  ];
  if ((await cachedEncrypted.verify(token)).sub !== 'user-8f14e45f') throw new Error(`${c.id}: Verifier failed`);
  if ((await cachedSigned.verify(inner)).sub !== 'user-8f14e45f') throw new Error(`${c.id}: Verifier failed`);
  // Sanity: each gives the same subject (raw: the signature verifies).
  if (contestants[0].fn() !== true) throw new Error(`${c.id}: raw floor failed`);
  if (contestants[1].fn().claims.sub !== 'user-8f14e45f') throw new Error(`${c.id}: Tessera failed`);
  if ((await contestants[2].fn()).payload.sub !== 'user-8f14e45f') throw new Error(`${c.id}: jose failed`);
  return { contestants, tokenLength: token.length };
}

const load0 = os.loadavg();
const started = new Date().toISOString();
const signingKey = generateKey('ES256');
const results = {};
const rows = [];
for (const c of CASES) {
  const { contestants, tokenLength } = await setup(c, signingKey);
  const r = await measure(contestants);
  results[c.id] = { tokenLength, ...r };
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  rows.push(
    `| ${c.id} | ${tokenLength} | ${fmt(r.tessera.median)} | ${fmt(r.jose.median)} | ${fmt(r.raw.median)} | ${(r.tessera.median / r.jose.median).toFixed(2)}x | ${(r.tessera.median / r.raw.median).toFixed(2)} | ${fmt(r['cached-encrypted'].median)} / ${fmt(r['cached-signed'].median)} = ${(r['cached-encrypted'].median / r['cached-signed'].median).toFixed(2)} |`,
  );
}
const load1 = os.loadavg();
const joseVersion = JSON.parse(readFileSync(new URL('node_modules/jose/package.json', root), 'utf8')).version;
console.log(
  `decrypt + verify per second (median of ${ROUNDS} rounds of ${ROUND_MS} ms), load ${load0[0].toFixed(2)} -> ${load1[0].toFixed(2)}`,
);
console.log(
  `| case | token chars | Tessera | jose ${joseVersion} | node:crypto (floor) | Tessera / jose | Tessera / floor | Verifier, cached: encrypted / signed |`,
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
mkdirSync(new URL('bench/results/', root), { recursive: true });
writeFileSync(
  new URL('bench/results/jwe.json', root),
  `${JSON.stringify(
    {
      started,
      rounds: ROUNDS,
      roundMs: ROUND_MS,
      loadAverage: { start: load0, end: load1 },
      machine: {
        cpu: os.cpus()[0].model.trim(),
        cores: os.cpus().length,
        node: process.version,
        openssl: process.versions.openssl,
      },
      jose: joseVersion,
      results,
    },
    null,
    2,
  )}\n`,
);
void sink; // kept so that no call can be optimised away

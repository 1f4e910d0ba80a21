// Token endpoint benchmark: client_credentials requests/s and p99 of Tessera (@tessera/server on a temp SQLite
// folder, ES256) against node-oidc-provider (JWT access tokens, ES256), plus Tessera's password grant (one
// argon2id verification per request). Other modes (token-endpoint-server.mjs): tessera-workload and
// tessera-workload-spiffe (a workload token as client_assertion), tessera-dpop (each request with a fresh DPoP proof).
//
//   npx tsc -b && node bench/token-endpoint.mjs
//   env: ROUNDS=5 DURATION=10 WARMUP=5 CONNECTIONS=50 PASSWORD_CONNECTIONS=10 MODES=tessera,oidc-provider,tessera-password
//        DPOP_PROOF_RATE=8000 (proofs signed per second of run before the first DPoP run; later ones: 1.3x the best
//        req/s so far)
//
// Method: each server runs in its own process (bench/token-endpoint-server.mjs) pinned to core 0; autocannon
// runs pinned to core 1 (when taskset and two cores are there). Every request is POST with a Basic-authenticated
// client and the same form body (grant_type, scope, resource). Per round, each mode gets a fresh server, a
// WARMUP-second run that is discarded, then a DURATION-second measured run; modes alternate inside a round so
// that background load falls on all alike. Reported: the median over ROUNDS of requests/s, of p99 latency and
// of the server process's CPU time (user + system, all threads, from /proc) per request, which depends less
// on what else the machine is running than requests/s does. The password grant is bound by argon2id on the
// libuv pool, so it runs with PASSWORD_CONNECTIONS (more would only queue). Any non-2xx answer, socket error
// or timeout fails the run. The tessera-dpop mode's load (token-endpoint-dpop-load.mjs, on core 1 too) is autocannon
// with a new ES256 proof in each request, signed by the load process before the run (not while the server is
// measured); the server keeps each proof's jti for 66 s, at most 100,000 of them, so WARMUP + DURATION at the
// measured rate must stay under that (a full memory refuses proofs and fails the run). Modes that verify one more
// signature than the client_secret_basic one (tessera) are compared, in CPU per request, with one raw node:crypto
// verification of that algorithm measured in the same run. Writes bench/results/token-endpoint.json.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { dpopKey, proofMaker } from './dpop-proofs.mjs';
import { hasTaskset, pin } from './pin.mjs';
import { cpuMs } from './proc.mjs';
import { loadTokens, loadTokensWithProofs, startTokenServer, stopTokenServer } from './token-endpoint-run.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 10);
const WARMUP = Number(process.env.WARMUP ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const PASSWORD_CONNECTIONS = Number(process.env.PASSWORD_CONNECTIONS ?? 10);
const connectionsOf = (mode) => (mode === 'tessera-password' ? PASSWORD_CONNECTIONS : CONNECTIONS);
const TARGET = 2;
const MODES = (process.env.MODES ?? 'tessera,oidc-provider,tessera-password').split(',');
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const version = (pkg) => JSON.parse(readFileSync(here(`../node_modules/${pkg}/package.json`), 'utf8')).version;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = Object.fromEntries(MODES.map((m) => [m, []]));
const loadBefore = loadavg()[0];
/** Proofs to sign for a DPoP run of `seconds`: 1.3x the best req/s of a run so far (DPoP adds work), else DPOP_PROOF_RATE. */
const proofsFor = (seconds, connections) => {
  const best = Math.max(0, ...Object.values(runs).flatMap((rs) => rs.map((r) => r.rps)));
  return Math.ceil((best > 0 ? best * 1.3 : Number(process.env.DPOP_PROOF_RATE ?? 8000)) * seconds) + connections;
};
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    const server = await startTokenServer(mode, { wrap: (cmd, args) => pin(0, cmd, args) });
    const onCore1 = (cmd, args) => pin(1, cmd, args);
    const connections = connectionsOf(mode);
    const load = (seconds) =>
      server.request.dpop
        ? loadTokensWithProofs(server, connections, seconds, proofsFor(seconds, connections), onCore1)
        : loadTokens(server, connections, ['-d', String(seconds)], onCore1);
    try {
      if (WARMUP > 0) await load(WARMUP);
      const cpuBefore = cpuMs(server.child.pid);
      const r = await load(DURATION);
      const cpuAfter = cpuMs(server.child.pid);
      const cpuUsPerRequest =
        cpuBefore === undefined || cpuAfter === undefined ? undefined : Math.round(((cpuAfter - cpuBefore) * 1000) / r.requests);
      runs[mode].push({ ...r, cpuUsPerRequest });
      console.error(
        `round ${round + 1} ${mode}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, server CPU ${cpuUsPerRequest} µs/request` +
          (r.presigned === undefined
            ? ''
            : ` (proofs: ${r.presigned} signed before, ${r.signedLive} during the run; load process ${r.loadCpuUsPerRequest} µs CPU/request)`),
      );
    } finally {
      await stopTokenServer(server);
    }
  }
}

const figures = Object.fromEntries(
  MODES.map((m) => [
    m,
    {
      rps: Math.round(median(runs[m].map((r) => r.rps))),
      p99Ms: median(runs[m].map((r) => r.p99)),
      cpuUsPerRequest: median(runs[m].map((r) => r.cpuUsPerRequest ?? NaN)),
      rounds: runs[m],
    },
  ]),
);
/**
 * CPU of one raw signature verification with node:crypto (RS256: RSA 2048 with SHA-256; ES256: P-256 with SHA-256)
 * of a signing input of `bytes` (the workload token's size by default), in µs: what a workload assertion or a DPoP
 * proof may add to a request.
 */
function rawVerifyUs(alg, bytes = 900) {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = alg === 'RS256' ? publicKey : { key: publicKey, dsaEncoding: 'ieee-p1363' };
  const data = Buffer.alloc(bytes, 'a');
  const signature = sign('sha256', data, alg === 'RS256' ? privateKey : { key: privateKey, dsaEncoding: 'ieee-p1363' });
  for (let i = 0; i < 500; i++) verify('sha256', data, key, signature);
  const n = 5000;
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) verify('sha256', data, key, signature);
  const used = process.cpuUsage(before);
  return Number(((used.user + used.system) / n).toFixed(1));
}
/** A DPoP proof's signing input (header and payload) for the token endpoint, in bytes: what its verification hashes. */
const dpopSigningInput = () => {
  const proof = proofMaker(dpopKey(), undefined, 'http://127.0.0.1:65535/oauth/token')('POST');
  return proof.lastIndexOf('.');
};
/**
 * The modes that verify one signature more than tessera's (a workload assertion, a DPoP proof): its algorithm and
 * the size of what it signs.
 */
const EXTRA_VERIFICATION = {
  'tessera-workload': { alg: 'RS256', bytes: () => 900 },
  'tessera-workload-spiffe': { alg: 'ES256', bytes: () => 900 },
  'tessera-dpop': { alg: 'ES256', bytes: dpopSigningInput },
};
const workload = {};
for (const [m, { alg, bytes }] of Object.entries(EXTRA_VERIFICATION)) {
  if (!figures[m] || !figures.tessera) continue;
  const extra = figures[m].cpuUsPerRequest - figures.tessera.cpuUsPerRequest;
  const inputBytes = bytes();
  const raw = rawVerifyUs(alg, inputBytes);
  workload[m] = {
    alg,
    inputBytes,
    extraCpuUsPerRequest: extra,
    rawVerifyUs: raw,
    extraInVerifications: Number((extra / raw).toFixed(2)),
  };
}

const both = figures.tessera && figures['oidc-provider'];
const ratio = both ? Number((figures.tessera.rps / figures['oidc-provider'].rps).toFixed(2)) : undefined;
const cpuRatio = both
  ? Number((figures['oidc-provider'].cpuUsPerRequest / figures.tessera.cpuUsPerRequest).toFixed(2))
  : undefined;
const summary = {
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  pinned: hasTaskset,
  rounds: ROUNDS,
  durationS: DURATION,
  warmupS: WARMUP,
  connections: CONNECTIONS,
  passwordConnections: PASSWORD_CONNECTIONS,
  /** One-minute load average of the machine before and after the run (2 cores: above 2, others compete). */
  loadAverage: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
  versions: { 'oidc-provider': version('oidc-provider'), autocannon: version('autocannon') },
  figures,
  clientCredentialsRatio: ratio,
  /** oidc-provider's server CPU per request over Tessera's: the ratio with contention on the machine factored out. */
  clientCredentialsCpuRatio: cpuRatio,
  /**
   * Per mode with one more signature verification (workload assertions, DPoP): server CPU per request above the
   * secret mode's, and that in raw verifications of its alg.
   */
  workload,
  target: `Tessera client_credentials >= ${TARGET}x oidc-provider`,
  targetMet: ratio === undefined ? undefined : ratio >= TARGET,
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/token-endpoint.json'), JSON.stringify(summary, null, 2) + '\n');

const LABELS = {
  tessera: 'Tessera, client_credentials',
  'oidc-provider': `oidc-provider ${summary.versions['oidc-provider']}, client_credentials`,
  'tessera-password': 'Tessera, password (argon2id)',
  'tessera-workload': 'Tessera, client_credentials, Kubernetes workload token (RS256)',
  'tessera-workload-spiffe': 'Tessera, client_credentials, SPIFFE JWT-SVID (ES256)',
  'tessera-dpop': 'Tessera, client_credentials with a DPoP proof (ES256)',
};
console.log(
  `| server, grant | req/s (median of ${ROUNDS}) | p99 ms (median) | server CPU µs/request (median) |\n| --- | ---: | ---: | ---: |`,
);
for (const m of MODES) console.log(`| ${LABELS[m]} | ${figures[m].rps} | ${figures[m].p99Ms} | ${figures[m].cpuUsPerRequest} |`);
for (const [m, w] of Object.entries(workload)) {
  console.log(
    `\n${LABELS[m]}: +${w.extraCpuUsPerRequest} µs of server CPU per request over ${LABELS.tessera}; one raw ${w.alg} verification (node:crypto, ${w.inputBytes} bytes) ${w.rawVerifyUs} µs: ${w.extraInVerifications}x`,
  );
}
if (ratio !== undefined) {
  console.log(
    `\nclient_credentials, Tessera / oidc-provider: ${ratio}x req/s, ${cpuRatio}x less CPU per request (target >= ${TARGET}x req/s: ${summary.targetMet ? 'met' : 'missed'})`,
  );
}
console.log(
  `${summary.machine}, node ${summary.node}, ${CONNECTIONS} connections (password: ${PASSWORD_CONNECTIONS}), ${DURATION} s runs; ` +
    `server on core 0, load on core 1: ${hasTaskset}; load average ${summary.loadAverage.join(' -> ')}`,
);

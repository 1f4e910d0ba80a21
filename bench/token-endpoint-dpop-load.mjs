// Load generator of bench/token-endpoint.mjs's tessera-dpop mode: autocannon (its programmatic API, the engine the
// other modes drive from its CLI) sending the server's token request, each with its own DPoP proof (RFC 9449) of a
// key of this process: POST of the request's `dpop.htu`, a unique jti, no ath. A proof is single use, so autocannon's
// one repeated request will not do: `setupRequest` puts the next proof in each request. The proofs are signed
// before the run starts (`proofs` of them, so that signing is not the generator's work while the server is
// measured) and have their iat then: the run must end within the server's `dpopProofMaxAge` (60 s by default) of
// it, else the server refuses them (as it should) and the run fails. A run that needs more proofs than were
// signed signs the rest as it goes, and says how many. Any non-2xx answer, socket error or timeout fails the run.
// Prints `{ rps, p99, requests, presigned, signedLive, loadCpuUsPerRequest }` as JSON (the last: this process's CPU
// time per request during the run, the signing before it left out: near 1e6 / rps, the generator was the limit).
//   node bench/token-endpoint-dpop-load.mjs <port> <request JSON> <connections> <seconds> <proofs>
import autocannon from 'autocannon';

import { dpopKey, proofMaker } from './dpop-proofs.mjs';

const [port, requestJson, connections, seconds, proofs] = process.argv.slice(2);
const request = JSON.parse(requestJson);
const make = proofMaker(dpopKey(), undefined, request.dpop.htu);
const pool = Array.from({ length: Number(proofs) }, () => make('POST'));
let next = 0;
let signedLive = 0;
const proof = () => {
  if (next < pool.length) return pool[next++];
  signedLive++;
  return make('POST');
};

const cpu0 = process.cpuUsage();
const r = await autocannon({
  url: `http://127.0.0.1:${port}${request.path}`,
  connections: Number(connections),
  duration: Number(seconds),
  method: 'POST',
  headers: request.headers,
  body: request.body,
  requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, dpop: proof() } }) }],
});
const cpu = process.cpuUsage(cpu0);
if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
  throw new Error(`non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`);
console.log(
  JSON.stringify({
    rps: r.requests.average,
    p99: r.latency.p99,
    requests: r['2xx'],
    presigned: pool.length,
    signedLive,
    loadCpuUsPerRequest: Math.round((cpu.user + cpu.system) / r['2xx']),
  }),
);

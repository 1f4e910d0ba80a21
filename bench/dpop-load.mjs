// Load generator of bench/dpop.mjs: `connections` keep-alive connections, each sending one request after another
// to `GET /orders` for `seconds`, with `Authorization: Bearer <token>` or, in dpop mode, `Authorization: DPoP
// <token>` and a freshly signed proof per request (the client's work: one ES256 signature). Any answer but 200
// fails the run. Prints `{ requests, rps, p99 }` as JSON.
//   node bench/dpop-load.mjs <port> <bearer|dpop> <token> <seconds> <connections> [private JWK of the DPoP key]
import { Agent, request } from 'node:http';

import { dpopKey, proofMaker } from './dpop-proofs.mjs';

const [port, mode, token, seconds, connections, jwk] = process.argv.slice(2);
const url = `http://127.0.0.1:${port}/orders`;
const proof = mode === 'dpop' ? proofMaker(dpopKey(JSON.parse(jwk)), token, url) : undefined;
const authorization = mode === 'dpop' ? `DPoP ${token}` : `Bearer ${token}`;
const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
const end = Date.now() + Number(seconds) * 1000;
const latencies = [];

function once() {
  return new Promise((resolve, reject) => {
    const headers = proof === undefined ? { authorization } : { authorization, dpop: proof() };
    const t0 = process.hrtime.bigint();
    const req = request(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`answered ${res.statusCode} (${res.headers['www-authenticate']})`));
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        resolve();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function loop() {
  while (Date.now() < end) await once();
}

const t0 = Date.now();
await Promise.all(Array.from({ length: Number(connections) }, loop));
const elapsed = (Date.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
agent.destroy();
console.log(
  JSON.stringify({
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  }),
);

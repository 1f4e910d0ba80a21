// The load generator of bench/code-exchange.mjs: exchanges every code of a file at the token endpoint, with
// CONNECTIONS keep-alive connections, each sending its next request when the last is answered (closed loop, like
// autocannon; autocannon cannot send a different body per request). Any answer but 200 with an access token
// and a refresh token fails the run. Prints JSON: requests, seconds, rps, p50 and p99 in ms.
//   node bench/code-exchange-load.mjs <port> <exchange JSON> <codes file> <connections>
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const [port, exchangeJson, codesFile, connections] = process.argv.slice(2);
const exchange = JSON.parse(exchangeJson);
const codes = readFileSync(codesFile, 'utf8').split('\n').filter(Boolean);
const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
const latencies = [];

function post(code) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: exchange.redirect_uri,
    code_verifier: exchange.code_verifier,
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: exchange.path,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          authorization: exchange.authorization,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const ok = res.statusCode === 200 && /"access_token"/.test(text) && /"refresh_token"/.test(text);
          if (ok) resolve();
          else reject(new Error(`answered ${res.statusCode}: ${text.slice(0, 200)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let next = 0;
async function worker() {
  while (next < codes.length) {
    const code = codes[next++];
    const t = performance.now();
    await post(code);
    latencies.push(performance.now() - t);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: Number(connections) }, worker));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 100) / 100;
console.log(JSON.stringify({ requests: codes.length, seconds, rps: codes.length / seconds, p50: at(0.5), p99: at(0.99) }));

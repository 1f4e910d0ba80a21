// A small h2c load generator for bench/rpc.mjs (autocannon speaks HTTP/1.1 only): SESSIONS HTTP/2
// connections, STREAMS requests in flight on each, for DURATION seconds. Every request is the same unary
// Connect call (POST, JSON). Prints { requests, rps, p99, errors } as JSON.
//   node bench/rpc-h2load.mjs URL AUTHORIZATION DURATION SESSIONS STREAMS
import { connect } from 'node:http2';

const [url, authorization, duration = '10', sessions = '2', streams = '25'] = process.argv.slice(2);
const { origin, pathname } = new URL(url);
const body = Buffer.from(JSON.stringify({ sku: 'sku-1' }));
const headers = {
  ':method': 'POST',
  ':path': pathname,
  'content-type': 'application/json',
  'content-length': String(body.length),
  authorization,
};
const latencies = [];
let errors = 0;
let stopping = false;
const end = Date.now() + Number(duration) * 1000;

function one(session) {
  return new Promise((resolve) => {
    const start = performance.now();
    const req = session.request(headers);
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', () => {});
    req.on('end', () => {
      if (status === 200) latencies.push(performance.now() - start);
      else errors++;
      resolve();
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(body);
  });
}

async function worker(session) {
  while (!stopping && Date.now() < end) await one(session);
}

const opened = Array.from({ length: Number(sessions) }, () => connect(origin));
await Promise.all(opened.map((s) => new Promise((r, j) => (s.once('connect', r), s.once('error', j)))));
const started = performance.now();
await Promise.all(opened.flatMap((s) => Array.from({ length: Number(streams) }, () => worker(s))));
stopping = true;
const seconds = (performance.now() - started) / 1000;
for (const s of opened) s.close();
latencies.sort((a, b) => a - b);
const p99 = latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] : NaN;
console.log(JSON.stringify({ requests: latencies.length, rps: latencies.length / seconds, p99: Number(p99.toFixed(2)), errors }));

// The load generator of bench/sign-in.mjs: full sign-in flows, as a browser and a public single-page app do them,
// by CONCURRENCY workers in a closed loop (each starts its next flow when the last one is done) for SECONDS.
// A flow, with a fresh cookie jar (no browser session, so every flow verifies a password):
//   1. GET /authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge (S256): 200, the login
//      page; its form's hidden fields (the request reference and the anti-forgery token) and the login cookie kept
//   2. POST /login with them, the cookie, a username (user i of the round robin) and the password: 303 to the
//      redirect URI with the code, the same state and iss
//   3. POST /oauth/token (authorization_code, client_id, redirect_uri, code, code_verifier): 200 with a Bearer
//      access token
// Anything else fails the run. Prints JSON: flows, seconds, rps, p50 and p99 of a flow in ms, and the mean ms of
// each step.
//   node bench/sign-in-load.mjs <port> <flow JSON> <concurrency> <seconds>
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

const [port, flowJson, concurrency, seconds] = process.argv.slice(2);
const flow = JSON.parse(flowJson);
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const LOGIN_COOKIE = '__Host-tessera-login';

/** One request; resolves with status, headers and body text. */
function send(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: Number(port),
        method,
        path,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const form = (params) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(params).toString(),
});
const fail = (step, a) => new Error(`${step} answered ${a.status}: ${a.text.slice(0, 300)}`);
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"' };
const unescapeHtml = (s) =>
  s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) =>
    e[0] === '#' ? String.fromCodePoint(Number(e[1] === 'x' ? `0${e.slice(1)}` : e.slice(1))) : (ENTITIES[e] ?? m),
  );
function hidden(html, name) {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  if (!m) throw new Error(`the login page has no hidden ${name} field:\n${html.slice(0, 600)}`);
  return unescapeHtml(m[1]);
}

let nextUser = 0;
const steps = { authorize: 0, login: 0, token: 0 };

async function signIn() {
  const username = `${flow.usernamePrefix}${nextUser++ % flow.users}`;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: flow.clientId,
    redirect_uri: flow.redirectUri,
    scope: flow.scope,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const t0 = performance.now();
  const page = await send('GET', `/authorize?${query}`);
  if (page.status !== 200) throw fail('GET /authorize', page);
  const cookie = (page.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .find((pair) => pair.startsWith(`${LOGIN_COOKIE}=`));
  if (!cookie) throw new Error(`GET /authorize set no ${LOGIN_COOKIE} cookie`);
  const t1 = performance.now();

  const login = form({
    request: hidden(page.text, 'request'),
    csrf: hidden(page.text, 'csrf'),
    username,
    password: flow.password,
  });
  const done = await send('POST', '/login', { headers: { ...login.headers, cookie }, body: login.body });
  if (done.status !== 303) throw fail(`POST /login (${username})`, done);
  const location = done.headers.location ?? '';
  if (!location.startsWith(`${flow.redirectUri}?`)) throw new Error(`POST /login redirected to ${location}`);
  const params = new URL(location).searchParams;
  if (params.get('state') !== state) throw new Error(`POST /login redirected with state ${params.get('state')}, not ${state}`);
  const code = params.get('code');
  if (!code || !params.get('iss')) throw new Error(`POST /login redirected without a code or iss: ${location}`);
  const t2 = performance.now();

  const exchange = form({
    grant_type: 'authorization_code',
    client_id: flow.clientId,
    redirect_uri: flow.redirectUri,
    code,
    code_verifier: verifier,
  });
  const tokens = await send('POST', '/oauth/token', exchange);
  if (tokens.status !== 200) throw fail('POST /oauth/token', tokens);
  const body = JSON.parse(tokens.text);
  if (typeof body.access_token !== 'string' || body.token_type !== 'Bearer' || body.scope !== flow.scope)
    throw fail('POST /oauth/token', tokens);
  const t3 = performance.now();
  steps.authorize += t1 - t0;
  steps.login += t2 - t1;
  steps.token += t3 - t2;
  return t3 - t0;
}

const latencies = [];
const started = performance.now();
const end = started + Number(seconds) * 1000;
async function worker() {
  while (performance.now() < end) latencies.push(await signIn());
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const elapsed = (performance.now() - started) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const round2 = (x) => Math.round(x * 100) / 100;
const at = (q) => round2(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
const n = latencies.length;
console.log(
  JSON.stringify({
    flows: n,
    seconds: elapsed,
    rps: n / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    stepMeanMs: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, round2(v / n)])),
  }),
);

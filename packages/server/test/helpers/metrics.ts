import assert from 'node:assert/strict';

import { METRICS_SCOPE, metricsAudience } from '@tessera/server/internal';

import type { ClientCreds } from './oauth.js';
import { basic, type TestServer } from './server.js';

/** The value of one Prometheus sample, e.g. `tessera_signing_keys{state="active"}`; undefined when absent. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const scrapers = new WeakMap<TestServer, Promise<ClientCreds>>();
const tokens = new WeakMap<TestServer, Promise<string>>();

/** An access token for `/metrics` (scope tessera:metrics, audience <issuer>/metrics), from a client registered once. */
export function metricsToken(t: TestServer, fresh = false): Promise<string> {
  let scraper = scrapers.get(t);
  if (!scraper) {
    scraper = t.client({
      id: 'metrics-scraper',
      grantTypes: ['client_credentials'],
      scopes: [METRICS_SCOPE],
      audiences: [metricsAudience(t.url)],
    });
    scrapers.set(t, scraper);
  }
  let token = tokens.get(t);
  if (!token || fresh) {
    token = scraper.then(async (c) => {
      const r = await t.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret!) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.access_token as string;
    });
    tokens.set(t, token);
  }
  return token;
}

/** GET /metrics with the metrics token (a new one if the server's clock has moved past it): the Prometheus text. */
export async function scrape(t: TestServer): Promise<string> {
  const get = async (token: string) => fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  let res = await get(await metricsToken(t));
  if (res.status === 401) res = await get(await metricsToken(t, true));
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

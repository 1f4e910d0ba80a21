/**
 * docs/grafana/tessera-dashboard.json against a real server's /metrics: every metric a panel queries exists (a
 * histogram by its _bucket, _sum or _count series), every label a query selects or groups by is one the metric
 * carries (Prometheus adds job and instance; histograms le), and the panels are a well-formed dashboard.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import { scrape } from './helpers/metrics.js';
import { clientCredentials, login } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const DASHBOARD = new URL('../../../docs/grafana/tessera-dashboard.json', import.meta.url);
const SCRAPER_LABELS = new Set(['job', 'instance']);

interface Panel {
  id: number;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; expr: string }[];
}

/** Metric -> the label names its samples carry, and its TYPE. */
function catalogue(text: string): Map<string, { type: string; labels: Set<string> }> {
  const metrics = new Map<string, { type: string; labels: Set<string> }>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) metrics.set(type[1]!, { type: type[2]!, labels: new Set() });
  }
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!m) continue;
    const base = metrics.has(m[1]!) ? m[1]! : m[1]!.replace(/_(bucket|sum|count)$/, '');
    const entry = metrics.get(base);
    if (entry === undefined) continue;
    for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) entry.labels.add(l[1]!);
  }
  return metrics;
}

describe('the Grafana dashboard in docs/', () => {
  let t: TestServer;
  let metrics: Map<string, { type: string; labels: Set<string> }>;
  let panels: Panel[];

  before(async () => {
    t = await startServer();
    // Give every labelled series a sample: a token issued, a token refused, a failed login.
    const c = await t.client({
      id: 'svc',
      grantTypes: ['client_credentials', 'password'],
      scopes: [],
      audiences: ['api'],
      firstParty: true,
    });
    assert.equal((await clientCredentials(t, c)).status, 200);
    assert.equal((await clientCredentials(t, { id: 'svc', secret: 'wrong' })).status, 401);
    await login(t, c, 'nobody', 'not the password');
    metrics = catalogue(await scrape(t));
    panels = (JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] }).panels;
  });
  after(() => t.close());

  it('queries only metrics the server exports, by labels they carry', () => {
    let queried = 0;
    for (const panel of panels)
      for (const target of panel.targets) {
        const names = [...target.expr.matchAll(/\b(tessera_[a-z0-9_]+)(\{[^}]*\})?/g)];
        assert.ok(names.length > 0, `${panel.title}: no tessera metric in ${target.expr}`);
        for (const [, name, selector] of names) {
          const histogram = name!.replace(/_(bucket|sum|count)$/, '');
          const metric =
            metrics.get(name!) ?? (metrics.get(histogram)?.type === 'histogram' ? metrics.get(histogram) : undefined);
          assert.ok(metric, `${panel.title}: ${name} is not exported`);
          const used = [...(selector ?? '').matchAll(/(\w+)\s*(=~|!=|=)/g)].map((m) => m[1]!);
          for (const by of target.expr.matchAll(/\bby \(([^)]*)\)/g)) used.push(...by[1]!.split(',').map((s) => s.trim()));
          for (const label of used) {
            if (SCRAPER_LABELS.has(label) || (label === 'le' && metric.type === 'histogram')) continue;
            assert.ok(metric.labels.has(label), `${panel.title}: ${name} has no label ${label}`);
          }
          queried++;
        }
      }
    assert.ok(queried >= 12, `${queried} metric references`);
  });

  it('is a well-formed dashboard: unique panel ids and refIds, panels on the 24-column grid without overlap', () => {
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      assert.equal(new Set(p.targets.map((x) => x.refId)).size, p.targets.length, p.title);
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${p.title}: off the grid`);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          assert.ok(!cells.has(`${i},${j}`), `${p.title} overlaps another panel at ${i},${j}`);
          cells.add(`${i},${j}`);
        }
    }
  });
});

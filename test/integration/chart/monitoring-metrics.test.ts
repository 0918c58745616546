// Every metric the shipped Grafana dashboard and Prometheus alert rules use exists in the
// /metrics output of a real `metallb-ts standalone` process (BGP, allocator, configuration, BFD
// and Layer 2 metrics), so no panel or alert silently watches nothing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { missing, runnable } from '../lib/prereq.ts';
import { REPO_ROOT, StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { advertisementsYaml, peerYaml, poolsYaml, serviceYaml } from '../lib/interop.ts';

const CHART = join(REPO_ROOT, 'charts', 'metallb-ts');
const why = missing(['ip']);
let dir = '';
let sa: StandaloneProcess | undefined;

/** metallb_* names in PromQL expressions. */
function metricsIn(exprs: string[]): Set<string> {
  const out = new Set<string>();
  for (const e of exprs) for (const m of e.matchAll(/\bmetallb_[a-z0-9_]+/g)) out.add(m[0]);
  return out;
}

function alertExprs(): string[] {
  const rules = parse(readFileSync(join(CHART, 'files', 'prometheus-rules.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

function dashboardExprs(): string[] {
  const d = JSON.parse(readFileSync(join(CHART, 'files', 'grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  return d.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

before(async () => {
  if (why) return;
  dir = mkdtempSync(join(tmpdir(), 'mlbt-metrics-'));
  const manifests = join(dir, 'manifests');
  writeManifest(manifests, 'pools.yaml', poolsYaml());
  writeManifest(manifests, 'advertisements.yaml', advertisementsYaml());
  // a peer nobody answers on loopback: the session metrics exist with session_up 0
  writeManifest(manifests, 'peer.yaml', peerYaml({ name: 'nobody', myASN: 64700, peerASN: 64600, peerAddress: '127.0.0.1', peerPort: 1 }));
  writeManifest(manifests, 'svc.yaml', serviceYaml('web'));
  sa = new StandaloneProcess({
    manifests,
    statePath: join(dir, 'state.json'),
    node: 'n1',
    nodeAddress: '127.0.0.1',
    httpPort: 20000 + Math.floor(Math.random() * 20000),
    logFile: join(dir, 'standalone.log'),
  });
  sa.start();
  await sa.waitReady();
});

after(async () => {
  await sa?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('every metric of the dashboard and the alert rules is in /metrics', async (t) => {
  if (!runnable(t, why) || !sa) return;
  const r = await sa.get('/metrics');
  assert.equal(r.status, 200);
  const exported = new Set([...r.body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const alerts = metricsIn(alertExprs());
  const dashboard = metricsIn(dashboardExprs());
  assert.ok(alerts.size >= 8, `alert rules use ${alerts.size} metrics`);
  assert.ok(dashboard.size >= 20, `dashboard uses ${dashboard.size} metrics`);
  const absent = [...new Set([...alerts, ...dashboard])].filter((m) => !exported.has(m)).sort();
  assert.deepEqual(absent, [], `used by the dashboard/alerts but not exported: ${absent.join(', ')}`);
  // the alerts cover what the chart promises
  const names = (parse(readFileSync(join(CHART, 'files', 'prometheus-rules.yaml'), 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) => g.rules.map((x) => x.alert));
  for (const a of ['MetalLBBGPSessionDown', 'MetalLBConfigStale', 'MetalLBAddressPoolExhaustion', 'MetalLBBFDSessionFlapping', 'MetalLBLayer2OwnershipChurn']) assert.ok(names.includes(a), a);
});

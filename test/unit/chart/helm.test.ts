// The Helm chart rendered by the real Helm binary (v3.17.3, from the npm package that ships it:
// scripts/get-helm.mjs puts it at .cache/helm/helm; no Debian package provides Helm). Covers:
// `helm lint`; `helm template` with default values renders exactly the plain manifest (minus the
// Namespace); the values MetalLB users set reach the objects; the monitoring objects render with
// the shipped alert rules and dashboard. Skips on a machine without the binary, fails under CI.

import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const HELM = join(ROOT, '.cache', 'helm', 'helm');
const CHART = join(ROOT, 'charts', 'metallb-ts');
type Obj = Record<string, unknown>;

function haveHelm(t: TestContext): boolean {
  if (existsSync(HELM)) return true;
  const why = `no Helm binary at ${HELM} (run: node scripts/get-helm.mjs)`;
  if (process.env.CI === 'true') throw new Error(`prerequisite missing under CI: ${why}`);
  t.skip(why);
  return false;
}

function helm(...args: string[]): string {
  const r = spawnSync(HELM, args, { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: join(ROOT, '.cache', 'helm', 'home'), HELM_CONFIG_HOME: join(ROOT, '.cache', 'helm', 'home') } });
  assert.equal(r.status, 0, `helm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const docs = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
const key = (o: Obj): string => `${String(o['kind'])}/${String((o['metadata'] as Obj)['name'])}`;
const sort = (l: Obj[]): Obj[] => [...l].sort((a, b) => key(a).localeCompare(key(b)));
const render = (...set: string[]): Obj[] => docs(helm('template', 'metallb-ts', CHART, '--namespace', 'metallb-system', '--include-crds', ...set.flatMap((s) => ['--set', s])));

test('helm lint passes', (t) => {
  if (!haveHelm(t)) return;
  assert.match(helm('lint', CHART, '--strict'), /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('helm template with default values renders exactly the plain manifest (minus the Namespace)', (t) => {
  if (!haveHelm(t)) return;
  const plain = docs(readFileSync(join(ROOT, 'config', 'manifests', 'metallb-ts.yaml'), 'utf8'));
  assert.equal(plain[0]?.['kind'], 'Namespace');
  assert.deepEqual(sort(render()), sort(plain.slice(1)));
});

test('the values users set reach the objects', (t) => {
  if (!haveHelm(t)) return;
  const out = render(
    'image.repository=registry.example/mlb',
    'image.tag=v9',
    'logLevel=debug',
    'speaker.tolerations[0].key=dedicated',
    'speaker.tolerations[0].operator=Exists',
    'speaker.nodeSelector.rack=r1',
    'speaker.priorityClassName=system-node-critical',
    'speaker.resources.limits.memory=200Mi',
    'speaker.extraArgs[0]=--router-id=10.0.0.1',
    'controller.tolerations[0].key=infra',
    'controller.tolerations[0].operator=Exists',
    'controller.resources.requests.cpu=50m',
    'controller.priorityClassName=high',
    'controller.extraArgs[0]=--lease-name=x',
    'webhook.certManager=true',
  );
  type Pod = { priorityClassName?: string; nodeSelector: Obj; tolerations?: Obj[]; containers: { image: string; args: string[]; resources?: Obj }[] };
  const pod = (kind: string): Pod => (out.find((o) => o['kind'] === kind) as { spec: { template: { spec: Pod } } }).spec.template.spec;
  const ds = pod('DaemonSet');
  assert.equal(ds.priorityClassName, 'system-node-critical');
  assert.deepEqual(ds.nodeSelector, { 'kubernetes.io/os': 'linux', rack: 'r1' });
  assert.deepEqual(ds.tolerations?.map((x) => x['key']), ['node-role.kubernetes.io/master', 'node-role.kubernetes.io/control-plane', 'dedicated']);
  assert.deepEqual(ds.containers[0]?.resources, { limits: { memory: '200Mi' } });
  assert.equal(ds.containers[0]?.image, 'registry.example/mlb:v9');
  assert.ok(ds.containers[0]?.args.includes('--log-level=debug'));
  assert.equal(ds.containers[0]?.args.at(-1), '--router-id=10.0.0.1');
  const dep = pod('Deployment');
  assert.equal(dep.priorityClassName, 'high');
  assert.deepEqual(dep.tolerations, [{ key: 'infra', operator: 'Exists' }]);
  assert.deepEqual(dep.containers[0]?.resources, { requests: { cpu: '50m' } });
  assert.equal(dep.containers[0]?.args.at(-1), '--lease-name=x');
  // webhook.certManager: the objects of config/webhook/cert-manager.yaml (Issuer, Certificate,
  // the configuration with cert-manager's inject-ca-from annotation)
  const certManager = docs(readFileSync(join(ROOT, 'config', 'webhook', 'cert-manager.yaml'), 'utf8'));
  assert.equal(certManager.length, 3);
  for (const w of certManager) assert.deepEqual(out.find((o) => key(o) === key(w)), w, key(w));
  // by default the webhook is on without cert-manager (the controller keeps the certificate)
  const plain = render();
  const vwc = plain.find((o) => o['kind'] === 'ValidatingWebhookConfiguration');
  assert.ok(vwc, 'webhook on by default');
  assert.equal((vwc['metadata'] as Obj)['annotations'], undefined, 'no cert-manager annotation by default');
  assert.equal(plain.some((o) => o['kind'] === 'Certificate' || o['kind'] === 'Issuer'), false, 'no cert-manager objects by default');
  const off = render('webhook.enabled=false');
  assert.equal(off.some((o) => o['kind'] === 'ValidatingWebhookConfiguration' || key(o) === 'Service/metallb-ts-webhook'), false, 'webhook.enabled=false');
});

test('ServiceMonitor / PodMonitor / PrometheusRule / dashboard ConfigMap render from the shipped files', (t) => {
  if (!haveHelm(t)) return;
  const base = render().length;
  assert.equal(render('prometheus.serviceMonitor.enabled=true').length, base + 4, 'a Service and a ServiceMonitor per component');
  const out = render('prometheus.podMonitor.enabled=true', 'prometheus.prometheusRule.enabled=true', 'prometheus.prometheusRule.labels.release=kps', 'grafanaDashboard.enabled=true');
  const pm = out.find((o) => o['kind'] === 'PodMonitor') as { spec: { podMetricsEndpoints: { port: string }[] } };
  assert.equal(pm.spec.podMetricsEndpoints[0]?.port, 'monitoring');
  const rule = out.find((o) => o['kind'] === 'PrometheusRule') as { metadata: { labels: Obj }; spec: Obj };
  assert.equal(rule.metadata.labels['release'], 'kps');
  assert.deepEqual(rule.spec, parse(readFileSync(join(CHART, 'files', 'prometheus-rules.yaml'), 'utf8')));
  const cm = out.find((o) => key(o) === 'ConfigMap/metallb-ts-grafana-dashboard') as { data: Record<string, string> };
  assert.deepEqual(JSON.parse(cm.data['metallb-ts.json'] ?? ''), JSON.parse(readFileSync(join(CHART, 'files', 'grafana-dashboard.json'), 'utf8')));
});

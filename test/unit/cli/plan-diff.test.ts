// `plan --diff` in process: current state from a folder or from the test API server (through
// a kubeconfig, as against a live cluster), proposed change from -f files; and doctor on the
// same cluster.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import type { PlanDiff } from '../../../src/planner/diff.ts';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';

const SEEDS = join(import.meta.dirname, '../../fixtures/seeds');
const dir = mkdtempSync(join(tmpdir(), 'plan-diff-'));

async function capture(cmd: 'plan' | 'doctor', argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runCli(cmd, ...argv);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

function file(sub: string, name: string, text: string): string {
  const d = join(dir, sub);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, name), text);
  return d;
}

const service = (name: string, extra = ''): string => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
${extra}spec:
  type: LoadBalancer
  ports:
  - port: 80
`;

test('seed 000 all-iBGP folder: a new Service adds exactly one /32 on the router session', async () => {
  const proposed = file('new-svc', 'svc.yaml', service('web'));
  const r = await capture('plan', ['--diff', '--current', join(SEEDS, '000-all-ibgp'), '-f', proposed]);
  assert.equal(r.code, 0, r.err);
  assert.equal(
    r.out,
    [
      'router legacy-peer-0 127.0.0.1 from node local: 1 added, 0 removed, 0 changed',
      '  + 198.51.100.0/32  next hop 127.0.0.1, localPref 0',
      '',
      'Services whose IPs change:',
      '  default/web: none -> 198.51.100.0',
      '',
    ].join('\n'),
  );
  const j = await capture('plan', ['--diff', '--current', join(SEEDS, '000-all-ibgp'), '-f', proposed, '-o', 'json']);
  const d = JSON.parse(j.out) as PlanDiff;
  assert.deepEqual(d.sessions.map((s) => [s.peer, s.added.map((x) => x.prefix), s.removed.length, s.changed.length]), [['legacy-peer-0', ['198.51.100.0/32'], 0, 0]]);
});

test('changed attributes, Services moving to another IP, removals with --full', async () => {
  const pool = (range: string): string => `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: p, namespace: metallb-system }
spec: { addresses: ["${range}"] }
`;
  const peer = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 64700, peerASN: 64600, peerAddress: 10.0.0.1 }
`;
  const adv = (communities: string): string => `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: a, namespace: metallb-system }
spec: { ipAddressPools: [p], communities: [${communities}] }
`;
  const cur = join(dir, 'cur');
  file('cur', 'pool.yaml', pool('198.51.100.0/30'));
  file('cur', 'peer.yaml', peer);
  file('cur', 'adv.yaml', adv('"64512:1"'));
  file('cur', 'svc.yaml', service('a') + '---\n' + service('b'));
  // the proposal: other communities, and a smaller pool where b's address no longer fits
  const prop = file('prop', 'adv.yaml', adv('"64512:2"'));
  file('prop', 'pool.yaml', pool('198.51.100.0/31'));
  const r = await capture('plan', ['--diff', '--current', cur, '-f', prop]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^router tor 10\.0\.0\.1 from node local: 0 added, 0 removed, 2 changed$/m);
  assert.match(r.out, /^ {2}~ 198\.51\.100\.0\/32 {2}communities 64512:1 -> 64512:2$/m);
  assert.match(r.out, /^ {2}~ 198\.51\.100\.1\/32 {2}communities 64512:1 -> 64512:2$/m);
  // b held 198.51.100.1 before (a got .0); with a /31 both still fit: no Service moves
  assert.doesNotMatch(r.out, /Services whose IPs change/);
  const smaller = file('prop2', 'pool.yaml', pool('198.51.100.1/32'));
  const r2 = await capture('plan', ['--diff', '--current', cur, '-f', smaller, '-o', 'json']);
  const d = JSON.parse(r2.out) as PlanDiff;
  assert.deepEqual(d.services.map((s) => [s.service, s.before, s.after]), [['default/a', ['198.51.100.0'], []]]);
  assert.ok(d.services[0]?.error);
  assert.deepEqual(d.sessions[0]?.removed.map((x) => x.prefix), ['198.51.100.0/32']);
  // --full: the proposal is everything; the Services are gone
  const full = await capture('plan', ['--diff', '--full', '--current', cur, '-f', join(dir, 'cur', 'pool.yaml'), '-f', join(dir, 'cur', 'peer.yaml'), '-f', join(dir, 'cur', 'adv.yaml')]);
  assert.match(full.out, /^ {2}- 198\.51\.100\.0\/32/m);
  assert.match(full.out, /default\/b: 198\.51\.100\.1 -> none/);
  // usage
  assert.equal((await capture('plan', ['--diff', '-f', prop])).code, 2);
  assert.equal((await capture('plan', ['--current', cur, '-f', prop])).code, 2);
});

let server: FakeApiServer | undefined;
let kubeconfig = '';
before(async () => {
  server = await FakeApiServer.start();
  kubeconfig = server.writeKubeconfig(join(dir, 'kubeconfig'));
  const c = KubeClient.fromOptions({ kubeconfig });
  await c.create(R.namespaces, { metadata: { name: 'metallb-system' } });
  await c.create(R.ipaddresspools, { metadata: { name: 'p', namespace: 'metallb-system' }, spec: { addresses: ['203.0.113.0/30'] } });
  await c.create(R.bgppeers, { metadata: { name: 'tor', namespace: 'metallb-system' }, spec: { myASN: 64700, peerASN: 64600, peerAddress: '10.0.0.1' } });
  await c.create(R.bgpadvertisements, { metadata: { name: 'a', namespace: 'metallb-system' }, spec: { ipAddressPools: ['p'] } });
  await c.create(R.ipaddresspools, { metadata: { name: 'orphan', namespace: 'metallb-system' }, spec: { addresses: ['203.0.113.64/30'], autoAssign: false } });
  await c.create(R.nodes, { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.11' }], conditions: [{ type: 'Ready', status: 'True' }] } });
  const s = await c.create(R.services, { metadata: { name: 'old', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
  await c.patch(R.services, 'default', s.metadata.name, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.2' }] } } }, { status: true });
});
after(async () => {
  await server?.close();
});

test('--kubeconfig: the live cluster is the current state (the running Service keeps its IP); doctor reads it too', async () => {
  const proposed = file('kube-new', 'svc.yaml', service('new'));
  const r = await capture('plan', ['--diff', '--kubeconfig', kubeconfig, '-f', proposed]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^router tor 10\.0\.0\.1 from node n1: 1 added, 0 removed, 0 changed$/m);
  assert.match(r.out, /^ {2}\+ 203\.0\.113\.0\/32 {2}next hop 10\.0\.0\.11$/m);
  assert.match(r.out, /^ {2}default\/new: none -> 203\.0\.113\.0$/m);
  assert.doesNotMatch(r.out, /default\/old/);
  const d = await capture('doctor', ['--kubeconfig', kubeconfig]);
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(d.out, /^WARNING \[pool-unadvertised\] IPAddressPool\/orphan$/m);
  assert.equal((await capture('doctor', ['--kubeconfig', kubeconfig, '--fail-on', 'warning'])).code, 1);
});

test('--kubeconfig: frr-k8s FRRConfigurations are part of the live state once their CRD is installed (absent CRD: none)', async () => {
  const { crd, frrCrdDef } = await import('../../../scripts/gen-manifests.ts');
  const c = KubeClient.fromOptions({ kubeconfig });
  const crds = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
  await c.create(crds, crd(frrCrdDef()) as KubeObject);
  try {
    await c.create(R.frrconfigurations, {
      apiVersion: 'frrk8s.metallb.io/v1beta1',
      kind: 'FRRConfiguration',
      metadata: { name: 'second-tor', namespace: 'metallb-system' },
      spec: { bgp: { routers: [{ asn: 64700, neighbors: [{ address: '10.0.0.2', asn: 64601, toReceive: { allowed: { mode: 'all' } } }] }] } },
    });
    const proposed = file('kube-frr', 'svc.yaml', service('new2'));
    const r = await capture('plan', ['--diff', '--kubeconfig', kubeconfig, '-f', proposed]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /10\.0\.0\.2/, r.out);
  } finally {
    await c.delete(R.frrconfigurations, 'metallb-system', 'second-tor').catch(() => undefined);
    await c.delete(crds, undefined, 'frrconfigurations.frrk8s.metallb.io');
  }
});

// doctor's checks on configurations built from YAML through the real config builder, the real
// allocator and planner; and the CLI (in process) on the seed fixtures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseInputs } from '../../../src/config/load.ts';
import { diagnose, exitCode } from '../../../src/doctor/checks.ts';
import { clusterState } from '../../../src/doctor/state.ts';
import { parseRouterConfig } from '../../../src/doctor/routerconf.ts';
import type { Finding, Observed } from '../../../src/doctor/types.ts';
import { runCli } from '../helpers/cli.ts';

const SEEDS = join(import.meta.dirname, '../../fixtures/seeds');

function doctor(yaml: string, extra: { observed?: Observed; routers?: string } = {}): Finding[] {
  const inputs = parseInputs([{ file: 'in.yaml', text: yaml }]);
  assert.deepEqual(inputs.errors, []);
  assert.ok(inputs.config);
  const st = clusterState(inputs, inputs.config);
  return diagnose({
    config: st.config,
    nodes: st.nodes,
    nodesKnown: st.nodesKnown,
    plan: st.plan,
    pools: st.pools,
    ...(extra.observed ? { observed: extra.observed } : {}),
    ...(extra.routers ? { routers: parseRouterConfig('r.conf', extra.routers) } : {}),
  });
}

const codes = (f: Finding[]): string[] => f.map((x) => `${x.severity}:${x.code}:${x.subject}`);

const pool = (name: string, addr: string, autoAssign = true): string => `---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: ${name}, namespace: metallb-system }
spec: { addresses: ["${addr}"], autoAssign: ${autoAssign} }
`;
const peer = (name: string, my: number, peerAsn: number, addr: string, extra = ''): string => `---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: ${name}, namespace: metallb-system }
spec:
  myASN: ${my}
  peerASN: ${peerAsn}
  peerAddress: ${addr}
${extra}`;
const adv = (name: string, pools: string[], extra = ''): string => `---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: ${name}, namespace: metallb-system }
spec:
  ipAddressPools: [${pools.join(', ')}]
${extra}`;
const svc = (name: string): string => `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
`;
const node = (name: string, addr: string, labels = ''): string => `---
apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels: { kubernetes.io/hostname: ${name}${labels} }
status:
  addresses: [{ type: InternalIP, address: ${addr} }]
  conditions: [{ type: Ready, status: "True" }]
`;

test('seed 000: iBGP to the local route publisher - error with its config, warning without, nothing when one hop is eBGP', () => {
  const base = pool('p', '198.51.100.0/28') + peer('romana', 1234, 1234, '127.0.0.1', '  routerID: 127.0.0.1\n') + adv('a', ['p']);
  const allIbgp = 'protocol bgp metallb { local as 1234; neighbor 127.0.0.1 as 1234; multihop; passive; }\nprotocol bgp up { local as 1234; neighbor 192.0.2.1 as 1234; }\n';
  assert.deepEqual(codes(doctor(base, { routers: allIbgp })), ['error:ibgp-chain:BGPPeer/romana (node local)']);
  assert.deepEqual(codes(doctor(base)), ['warning:ibgp-chain:BGPPeer/romana (node local)']);
  const ebgpUp = 'protocol bgp metallb { local as 1234; neighbor 127.0.0.1 as 1234; }\nprotocol bgp up { local as 1234; neighbor 192.0.2.1 as 65000; }\n';
  assert.deepEqual(codes(doctor(base, { routers: ebgpUp })), []);
  const reflects = 'protocol bgp metallb { local as 1234; neighbor 127.0.0.1 as 1234; rr client; }\nprotocol bgp up { local as 1234; neighbor 192.0.2.1 as 1234; }\n';
  assert.deepEqual(codes(doctor(base, { routers: reflects })), []);
  // FRR syntax too
  const frr = 'router bgp 1234\n neighbor 127.0.0.1 remote-as 1234\n neighbor 192.0.2.1 remote-as internal\n';
  assert.deepEqual(codes(doctor(base, { routers: frr })), ['error:ibgp-chain:BGPPeer/romana (node local)']);
  // the eBGP variant of the seed: nothing to say
  assert.deepEqual(codes(doctor(pool('p', '198.51.100.0/28') + peer('romana', 2345, 1234, '127.0.0.1', '  routerID: 127.0.0.1\n') + adv('a', ['p']))), []);
});

test('router ID clashes: the peer shows ours; a local daemon with the node address; two nodes with one ID', () => {
  const y = pool('p', '198.51.100.0/28') + adv('a', ['p']) + node('n1', '10.0.0.11') + node('n2', '10.0.0.12');
  const seen: Observed = { sessions: [{ node: 'n1', peer: 'r', state: 'OpenSent', lastError: 'x', peerRouterId: '10.0.0.11' }] };
  assert.ok(codes(doctor(y + peer('r', 64700, 64600, '10.0.0.1'), { observed: seen })).includes('error:router-id-clash:BGPPeer/r (node n1)'));
  assert.deepEqual(codes(doctor(y + peer('local', 64700, 64600, '127.0.0.1'))), [
    'warning:router-id-clash:BGPPeer/local (node n1)',
    'warning:router-id-clash:BGPPeer/local (node n2)',
  ]);
  assert.deepEqual(codes(doctor(y + peer('r', 64700, 64600, '10.0.0.1', '  routerID: 10.9.9.9\n'))), ['warning:router-id-clash:BGPPeer/r (nodes n1, n2)']);
  assert.deepEqual(codes(doctor(y + peer('r', 64700, 64600, '10.0.0.1'))), []);
});

test('seed 004: a collision Cease and another process on port 179', () => {
  const y = pool('p', '198.51.100.0/28') + adv('a', ['p']) + peer('tor', 64512, 64600, '10.0.0.1');
  const listeners = [{ address: '10.0.0.11', port: 179, pid: 4242, process: 'bird' }];
  const collided: Observed = {
    listeners,
    sessions: [{ node: 'local', peer: 'tor', state: 'Active', lastError: 'peer sent NOTIFICATION 6/7 (Cease: connection collision resolution)', peerRouterId: null }],
  };
  const f = doctor(y, { observed: collided });
  assert.deepEqual(codes(f), ['error:duplicate-session:BGPPeer/tor (node local)']);
  assert.match(f[0]?.message ?? '', /bird \(pid 4242\) on 10\.0\.0\.11:179/);
  assert.match(f[0]?.fix ?? '', /spine/);
  assert.deepEqual(codes(doctor(y, { observed: { listeners } })), ['warning:duplicate-session:this node']);
  // BIRD just closes the connection: with another speaker on port 179 that is the duplicate session
  const dropped: Observed = { listeners, sessions: [{ node: 'local', peer: 'tor', state: 'Idle', lastError: 'connection lost: connection closed by peer', peerRouterId: null }] };
  assert.deepEqual(codes(doctor(y, { observed: dropped })), ['error:duplicate-session:BGPPeer/tor (node local)']);
  assert.deepEqual(codes(doctor(y, { observed: { sessions: dropped.sessions ?? [] } })), ['warning:session-not-established:BGPPeer/tor (node local)']);
  const down: Observed = { sessions: [{ node: 'local', peer: 'tor', state: 'Active', lastError: 'connect ECONNREFUSED 10.0.0.1:179', peerRouterId: null }] };
  assert.deepEqual(codes(doctor(y, { observed: down })), ['warning:session-not-established:BGPPeer/tor (node local)']);
});

test('selectors selecting no node, unused pools, advertisements reaching no peer, v6 without a v6 session, full pools', () => {
  const y =
    node('n1', '10.0.0.11', ', rack: a') +
    pool('v4', '198.51.100.0/30') +
    pool('v6', '2001:db8::/126', false) +
    pool('unused', '203.0.113.0/28', false) +
    peer('r', 64700, 64600, '10.0.0.1', '  nodeSelectors: [{ matchLabels: { rack: b } }]\n') +
    peer('ok', 64700, 64600, '10.0.0.2') +
    adv('to-r', ['v4'], '  peers: [r]\n') +
    adv('v6adv', ['v6'], '  peers: [ok]\n') +
    svc('s1') + svc('s2') + svc('s3') + svc('s4');
  const f = codes(doctor(y));
  assert.deepEqual(f, [
    'error:pool-usage-high:IPAddressPool/v4',
    'warning:advertisement-no-peer:BGPAdvertisement/to-r',
    'warning:pool-unadvertised:IPAddressPool/unused',
    'warning:selector-no-node:BGPPeer/r',
    'warning:v6-no-session:BGPAdvertisement/v6adv',
  ]);
  assert.equal(exitCode(doctor(y)), 1);
  assert.equal(exitCode([]), 0);
});

test('the CLI: seed 000 all-iBGP folder exits 1 with ibgp-chain; seed 001/002 correct setups are clean', async () => {
  const capture = async (argv: string[]): Promise<{ code: number | null; text: string }> => {
    const r = await runCli('doctor', ...argv);
    return { code: r.code, text: r.stdout };
  };
  const bad = await capture(['-f', join(SEEDS, '000-all-ibgp')]);
  assert.equal(bad.code, 1, bad.text);
  assert.match(bad.text, /^ERROR \[ibgp-chain\] BGPPeer\/legacy-peer-0/m);
  const json = await capture(['-f', join(SEEDS, '000-all-ibgp'), '-o', 'json']);
  assert.equal((JSON.parse(json.text) as { findings: Finding[] }).findings[0]?.code, 'ibgp-chain');
  // seed 002 (legacy ConfigMap + the Service) and the seed 001 setups that are complete
  const d = mkdtempSync(join(tmpdir(), 'doctor-002-'));
  for (const f of ['002-microk8s-configmap.yaml', '002-service.yaml']) cpSync(join(SEEDS, f), join(d, f));
  for (const argv of [['-f', d], ['-f', join(SEEDS, '001-adv-peers.yaml')], ['-f', join(SEEDS, '001-peer-node-selectors.yaml')], ['-f', join(SEEDS, '001-source-address.yaml')], ['-f', join(SEEDS, '000-romana-configmap.yaml')]]) {
    const r = await capture([...argv, '--fail-on', 'warning']);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.text}`);
    assert.doesNotMatch(r.text, /^(ERROR|WARNING)/m);
  }
  // a router config beside the manifests is read: the seed 002 router's session is iBGP and single hop (info only)
  writeFileSync(join(d, 'router.conf'), 'protocol bgp k8s { local as 64512; neighbor 10.0.0.11 as 64512; }\n');
  assert.equal((await capture(['-f', d])).code, 0);
});

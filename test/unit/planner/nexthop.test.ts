// The next hop `plan` prints is the one the router receives: with the facts of the host plan runs
// on (plan --this-host), the session's local address is the kernel's choice for the peer (a
// second uplink's address), and a sourceAddress that is not configured on the node is not used
// (the speaker connects unbound, src/bgp/transport), with a warning. The facts are plain data
// here; src/cli/plan-host.ts reads them from the kernel (test/integration/bgp/plan-nexthop.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseInputs } from '../../../src/config/load.ts';
import { allocate } from '../../../src/allocator/index.ts';
import { applyHostFacts, planAll, planToJSON, formatPlanTable } from '../../../src/planner/index.ts';
import type { HostFacts, PlanJSON } from '../../../src/planner/index.ts';
import { formatIP, tryParseIP } from '../../../src/ip/index.ts';
import type { IP } from '../../../src/ip/index.ts';
import { runCli } from '../helpers/cli.ts';

const FOLDER = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec: { addresses: [203.0.113.10/32] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: uplink2, namespace: metallb-system }
spec: { myASN: 64700, peerASN: 64600, peerAddress: 10.202.0.1 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: away, namespace: metallb-system }
spec: { myASN: 64700, peerASN: 64600, peerAddress: 10.201.0.1, sourceAddress: 10.9.9.9, nodeSelectors: [{ matchLabels: { kubernetes.io/hostname: dut } }] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: bound, namespace: metallb-system }
spec: { myASN: 64700, peerASN: 64600, peerAddress: 10.203.0.1, sourceAddress: 10.203.0.101, nodeSelectors: [{ matchLabels: { kubernetes.io/hostname: dut } }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
`;

function plan(): ReturnType<typeof planAll> {
  const set = parseInputs([{ file: 'f.yaml', text: FOLDER }]);
  assert.deepEqual(set.errors, []);
  const config = set.config;
  assert.ok(config);
  const nodes = [{ metadata: { name: 'dut', labels: { 'kubernetes.io/hostname': 'dut' } }, status: { addresses: [{ type: 'InternalIP', address: '10.201.0.101' }] } }];
  const alloc = allocate({ config, services: set.services, previous: {} });
  return planAll({ config, services: set.services, assignments: alloc.assignments, nodes, endpointSlices: [], assumeEndpoints: true });
}

const ip = (s: string): IP => {
  const v = tryParseIP(s);
  assert.ok(v);
  return v;
};

/** This host: node address on uplink 1, 10.202.0.101 on uplink 2, 10.203.0.101 on uplink 3. */
const host: HostFacts = {
  node: 'dut',
  isLocal: (a) => ['10.201.0.101', '10.202.0.101', '10.203.0.101', '127.0.0.1'].includes(formatIP(a)),
  sourceFor: (peer) => ({ '10.201.0.1': ip('10.201.0.101'), '10.202.0.1': ip('10.202.0.101'), '10.203.0.1': ip('10.203.0.101') })[formatIP(peer)],
};

test('without host facts: the node address (or sourceAddress) is the next hop, no warning', () => {
  const j = planToJSON(plan());
  assert.deepEqual(j.bgp.map((s) => [s.peer, s.routes[0]?.nextHop, s.warnings]), [
    ['away', '10.9.9.9', undefined],
    ['bound', '10.203.0.101', undefined],
    ['uplink2', '10.201.0.101', undefined],
  ]);
});

test('with host facts: second uplink -> its interface address; non-local sourceAddress -> the kernel choice, with a warning; local sourceAddress -> bound', () => {
  const p = plan();
  applyHostFacts(p.bgp, host);
  const j = planToJSON(p);
  assert.deepEqual(j.bgp.map((s) => [s.peer, s.localAddress, s.routes[0]?.nextHop]), [
    ['away', '10.201.0.101', '10.201.0.101'],
    ['bound', '10.203.0.101', '10.203.0.101'],
    ['uplink2', '10.202.0.101', '10.202.0.101'],
  ]);
  assert.deepEqual(j.bgp.find((s) => s.peer === 'away')?.warnings, [
    'sourceAddress 10.9.9.9 is not configured on node dut: the speaker lets the kernel choose the source address (10.201.0.101), which the router receives as next hop',
  ]);
  assert.equal(j.bgp.find((s) => s.peer === 'uplink2')?.warnings, undefined);
  const table = formatPlanTable(p);
  assert.match(table, /node dut -> peer uplink2 \(10\.202\.0\.1.*\n {4}local address 10\.202\.0\.101 \(this host\)\n {4}Network +Next Hop.*\n {4}203\.0\.113\.10\/32 +10\.202\.0\.101/);
  assert.match(table, /\n {4}warning: sourceAddress 10\.9\.9\.9 is not configured on node dut/);
});

test('with host facts: no route to the peer is a warning, the next hop stays unknown rather than guessed', () => {
  const p = plan();
  applyHostFacts(p.bgp, { ...host, sourceFor: () => undefined });
  const j = planToJSON(p);
  const s = j.bgp.find((x) => x.peer === 'uplink2');
  assert.deepEqual(s?.warnings, ['no route to 10.202.0.1 from this host: the session cannot come up']);
  assert.equal(s?.localAddress, undefined);
});

test('plan --this-host (CLI, this machine kernel): a loopback peer with a sourceAddress not on this host', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-nh-'));
  try {
    writeFileSync(join(d, 'all.yaml'), FOLDER.replace(/---\napiVersion: metallb.io\/v1beta2\nkind: BGPPeer[^]*?(?=---\napiVersion: v1)/, `---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: lo, namespace: metallb-system }
spec: { myASN: 64700, peerASN: 64600, peerAddress: 127.0.0.1, sourceAddress: 192.0.2.77 }
`));
    const plain = await runCli('plan', '-f', d, '-o', 'json');
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((JSON.parse(plain.stdout) as PlanJSON).bgp[0]?.routes[0]?.nextHop, '192.0.2.77');
    const r = await runCli('plan', '-f', d, '-o', 'json', '--this-host');
    assert.equal(r.code, 0, r.stderr);
    const s = (JSON.parse(r.stdout) as PlanJSON).bgp[0];
    assert.equal(s?.localAddress, '127.0.0.1');
    assert.equal(s?.routes[0]?.nextHop, '127.0.0.1');
    assert.deepEqual(s?.warnings, ['sourceAddress 192.0.2.77 is not configured on node local: the speaker lets the kernel choose the source address (127.0.0.1), which the router receives as next hop']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

// `plan --this-host` prints the next hop BIRD really receives (issue 15 item 12). The DUT has two
// uplinks to the router namespace: eth0 10.201.0.101 (the node address) and eth1 10.202.0.101.
// BGPPeer "uplink2" (10.202.0.1, no sourceAddress) is reached through eth1: the session's local
// address, hence the next hop, is 10.202.0.101, not the node address. BGPPeer "away" (10.201.0.1)
// names a sourceAddress that is not configured on the DUT: the speaker connects unbound and the
// kernel's choice (10.201.0.101) is the next hop; plan warns. plan runs inside the DUT namespace.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Bird } from '../lib/routers.ts';
import { REPO_ROOT, StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { runAsync, stopAll } from '../lib/proc.ts';
import { peerYaml, routesOf, serviceYaml } from '../lib/interop.ts';
import type { PlanJSON } from '../../../src/planner/index.ts';

const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');

const POOL = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec: { addresses: [203.0.113.10/32] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
`;

describe('plan --this-host next hop = what BIRD receives (second uplink, non-local sourceAddress)', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']);
  let lab: Lab | undefined;
  let bird: Bird | undefined;
  let sa: StandaloneProcess | undefined;
  let manifests = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && bird && sa, 'setup failed (see before hook)');
    return true;
  };

  before(async () => {
    if (why) return;
    lab = new Lab('nexthop').setup();
    const rtr = lab.nsRtr;
    const dut = lab.nsDut;
    // the second uplink
    lab.exec(rtr, 'ip', ['link', 'add', 'up2', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', dut]);
    lab.exec(rtr, 'ip', ['addr', 'add', '10.202.0.1/24', 'dev', 'up2']);
    lab.exec(rtr, 'ip', ['link', 'set', 'up2', 'up']);
    lab.exec(dut, 'ip', ['addr', 'add', '10.202.0.101/24', 'dev', 'eth1']);
    lab.exec(dut, 'ip', ['link', 'set', 'eth1', 'up']);
    bird = new Bird({
      ns: rtr,
      dir: join(lab.dir, 'bird'),
      asn: 64600,
      routerId: '10.201.0.1',
      listen4: ['10.201.0.1', '10.202.0.1'],
      listen6: [],
      neighbors: [
        { name: 'up1', address: '10.201.0.101', asn: 64700, localAddress: '10.201.0.1' },
        { name: 'up2', address: '10.202.0.101', asn: 64700, localAddress: '10.202.0.1' },
      ],
    });
    await bird.start();
    manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'pool.yaml', POOL);
    writeManifest(manifests, 'uplink2.yaml', peerYaml({ name: 'uplink2', myASN: 64700, peerASN: 64600, peerAddress: '10.202.0.1' }));
    writeManifest(manifests, 'away.yaml', peerYaml({ name: 'away', myASN: 64700, peerASN: 64600, peerAddress: '10.201.0.1', sourceAddress: '10.9.9.9', node: 'dut' }));
    writeManifest(manifests, 'svc.yaml', serviceYaml('web'));
    sa = new StandaloneProcess({
      ns: dut,
      manifests,
      statePath: join(lab.dir, 'state.json'),
      node: 'dut',
      nodeAddress: '10.201.0.101',
      httpPort: 7472,
      logFile: join(lab.dir, 'standalone.log'),
    });
    sa.start();
    await sa.waitReady();
  });

  after(() => stopAll([sa, bird], () => lab?.destroy()));

  const plan = async (...extra: string[]): Promise<PlanJSON> => {
    assert.ok(lab);
    const r = await runAsync('ip', ['netns', 'exec', lab.nsDut, 'env', 'METALLB_TS_FROM_SOURCE=1', process.execPath, BIN, 'plan', '-f', manifests, '--node', 'dut', '--node-address', '10.201.0.101', '-o', 'json', ...extra], 60000);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as PlanJSON;
  };

  it('the next hop plan --this-host prints for each session is the one BIRD holds', async (t) => {
    if (!need(t) || !bird) return;
    const j = await plan('--this-host');
    const nextHop = (peer: string): string | null | undefined => j.bgp.find((s) => s.peer === peer)?.routes[0]?.nextHop;
    assert.equal(nextHop('uplink2'), '10.202.0.101');
    assert.equal(nextHop('away'), '10.201.0.101');
    assert.deepEqual(j.bgp.find((s) => s.peer === 'away')?.warnings, [
      'sourceAddress 10.9.9.9 is not configured on node dut: the speaker lets the kernel choose the source address (10.201.0.101), which the router receives as next hop',
    ]);
    // what BIRD received, per session (BIRD names the peer by the DUT address of the session)
    const all = await bird.waitRoutes('the /32 on both sessions', (r) => routesOf(r, '10.202.0.101').length === 1 && routesOf(r, '10.201.0.101').length === 1, 60000);
    assert.equal(routesOf(all, '10.202.0.101')[0]?.nextHop, nextHop('uplink2'));
    assert.equal(routesOf(all, '10.201.0.101')[0]?.nextHop, nextHop('away'));
    // without host facts plan can only show the node address / sourceAddress (what it said before)
    const plain = await plan();
    assert.equal(plain.bgp.find((s) => s.peer === 'uplink2')?.routes[0]?.nextHop, '10.201.0.101');
    assert.equal(plain.bgp.find((s) => s.peer === 'away')?.routes[0]?.nextHop, '10.9.9.9');
  });
});

// Next-hop resolution for routes from a multi-hop peer (issue 13), against FRR and the kernel:
// FRR (AS 64600) speaks BGP from its loopback 10.99.0.1 (ebgp-multihop); the node reaches that
// loopback only through an intermediate route (10.99.0.0/28 via 10.201.0.1 — not a connected
// network). FRR announces 10.77.0.0/24 with next hop 10.99.0.1 (its session address) and
// 10.78.0.0/24 with next hop 10.99.0.2 (a route-map), another non-connected address.
// `metallb-ts standalone` (BGPPeer ebgpMultiHop + FRRConfiguration toReceive all) must install
// both via the resolved gateway 10.201.0.1, as zebra does; when 10.99.0.2 becomes unresolvable
// (its /32 goes to a blackhole) 10.78.0.0/24 leaves the kernel with the reason in /status
// (no error loop), and comes back when the route to it is fixed.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { must, stopAll, waitFor } from '../lib/proc.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { bgpRouteLines } from '../lib/kernelroutes.ts';

const why = missing(['ip', 'bgpd', 'vtysh']);
let lab: Lab | undefined;
let frr: Frr | undefined;
let sa: StandaloneProcess | undefined;

const MANIFEST = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec:
  addresses: [192.168.10.0/24]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: frr-loopback, namespace: metallb-system }
spec:
  myASN: 64700
  peerASN: 64600
  peerAddress: 10.99.0.1
  ebgpMultiHop: true
---
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: { name: receive, namespace: metallb-system }
spec:
  bgp:
    routers:
    - asn: 64700
      neighbors:
      - address: 10.99.0.1
        asn: 64600
        ebgpMultiHop: true
        toReceive:
          allowed:
            mode: all
`;

interface ReceivedView {
  extensions?: { receivedRoutes?: { failed: { prefix: string; error: string }[]; recursive: number; routes: { prefix: string; nexthops: string[]; bgpNexthops?: string[] }[] } };
}

function bgpRoutes(): string[] {
  return bgpRouteLines(lab!.nsDut);
}

const waitKernel = (what: string, want: string[]): Promise<unknown> =>
  waitFor(what, () => (JSON.stringify(bgpRoutes()) === JSON.stringify([...want].sort()) ? true : undefined), 40000, 100).catch(async (e: unknown) => {
    throw new Error(`${(e as Error).message}\nkernel: ${JSON.stringify(bgpRoutes())}\n/status receivedRoutes: ${JSON.stringify(((await sa?.status()) as unknown as ReceivedView | undefined)?.extensions?.receivedRoutes)}`);
  });

before(async () => {
  if (why) return;
  lab = new Lab('mhopnh').setup();
  for (const a of ['10.99.0.1/32', '10.99.0.2/32']) must('ip', ['-n', lab.nsRtr, 'addr', 'add', a, 'dev', 'lo']);
  // the intermediate route: the loopbacks are one gateway away, not on a connected network
  must('ip', ['-n', lab.nsDut, 'route', 'add', '10.99.0.0/28', 'via', lab.addr.rtr4[0]!, 'proto', 'static']);
  frr = new Frr({
    ns: lab.nsRtr,
    dir: join(lab.dir, 'frr'),
    asn: 64600,
    routerId: '10.99.0.1',
    listen4: ['10.99.0.1'],
    listen6: [],
    neighbors: [{ name: 'node', address: lab.addr.dut4[0]!, asn: 64700, families: [4], multihop: true }],
  });
  await frr.start();
  const manifests = join(lab.dir, 'manifests');
  writeManifest(manifests, 'config.yaml', MANIFEST);
  sa = new StandaloneProcess({
    ns: lab.nsDut,
    manifests,
    statePath: join(lab.dir, 'state.json'),
    node: 'node-0',
    nodeAddress: lab.addr.dut4[0]!,
    httpPort: 7472,
    logFile: join(lab.dir, 'standalone.log'),
  });
  sa.start();
  await sa.waitReady(60000);
});

after(() => stopAll([sa, frr], () => lab?.destroy()));

test('multi-hop peer: next hops resolved through the kernel (recursive), unresolvable ones reported and not installed, installed again when resolvable', { timeout: 180000 }, async (t) => {
  if (!runnable(t, why)) return;
  const gw = lab!.addr.rtr4[0]!;
  await frr!.waitEstablished([lab!.addr.dut4[0]!], 60000);
  await frr!.configure([
    'ip prefix-list NH2 seq 5 permit 10.78.0.0/24',
    'route-map SETNH permit 10',
    'match ip address prefix-list NH2',
    'set ip next-hop 10.99.0.2',
    'exit',
    'route-map SETNH permit 20',
    'exit',
    'router bgp 64600',
    'address-family ipv4 unicast',
    `neighbor ${lab!.addr.dut4[0]!} route-map SETNH out`,
  ]);
  await frr!.network(['10.77.0.0/24', '10.78.0.0/24']);
  const via = `via ${gw} dev eth0 proto bgp metric 20`;
  await waitKernel('both prefixes via the resolved gateway', [`10.77.0.0/24 ${via}`, `10.78.0.0/24 ${via}`]);
  const st = (await sa!.status()) as unknown as ReceivedView;
  const rr = st.extensions?.receivedRoutes;
  assert.equal(rr?.recursive, 2);
  assert.deepEqual(rr?.failed, []);
  assert.deepEqual(
    rr?.routes.map((r) => [r.prefix, r.nexthops.join(','), (r.bgpNexthops ?? []).join(',')]).sort(),
    [
      ['10.77.0.0/24', gw, '10.99.0.1'],
      ['10.78.0.0/24', gw, '10.99.0.2'],
    ],
  );

  // 10.99.0.2 becomes unreachable (a blackhole): its route leaves the kernel, with the reason
  must('ip', ['-n', lab!.nsDut, 'route', 'add', 'blackhole', '10.99.0.2/32']);
  await waitKernel('the unresolvable route removed', [`10.77.0.0/24 ${via}`]);
  const failed = await waitFor('the reason in /status', async () => {
    const f = ((await sa!.status()) as unknown as ReceivedView).extensions?.receivedRoutes?.failed ?? [];
    return f.length === 1 ? f : undefined;
  }, 20000, 200);
  assert.equal(failed[0]?.prefix, '10.78.0.0/24');
  assert.match(failed[0]?.error ?? '', /next hop 10\.99\.0\.2 is unreachable: a blackhole route covers it/);
  // no rtnetlink error loop: re-resolution (every 5 s) logs the same reason once
  await new Promise((r) => setTimeout(r, 11000));
  const log = readFileSync(join(lab!.dir, 'standalone.log'), 'utf8');
  assert.equal(log.split('\n').filter((l) => l.includes('10.78.0.0/24') && l.includes('not installed')).length, 1, 'one warning, not one per re-check');
  assert.doesNotMatch(log, /cannot install received route/);

  // fixed again: the route comes back without any BGP change
  must('ip', ['-n', lab!.nsDut, 'route', 'del', 'blackhole', '10.99.0.2/32']);
  await waitKernel('the route back once its next hop resolves', [`10.77.0.0/24 ${via}`, `10.78.0.0/24 ${via}`]);
  await waitFor('no failure left', async () => ((((await sa!.status()) as unknown as ReceivedView).extensions?.receivedRoutes?.failed ?? []).length === 0 ? true : undefined), 20000, 200);
});

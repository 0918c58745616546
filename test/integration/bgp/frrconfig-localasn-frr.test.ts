// An FRRConfiguration neighbor with frr-k8s's `localASN` (FRR: `local-as N no-prepend
// replace-as`), against FRR: FRR expects AS 65100 from the node, the FRRConfiguration's router
// is AS 64700 with `localASN: 65100` for this neighbor. The session comes up only if metallb-ts
// presents 65100 in its OPEN, and the Service route FRR learns carries AS_PATH [65100] (the router
// ASN neither presented nor prepended). An `addressFamilies: [evpn]` neighbor in the same object
// opens no session (FRR's second neighbor stays down), as the validate warning says.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { stopAll } from '../lib/proc.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';

const why = missing(['ip', 'bgpd', 'vtysh']);
let lab: Lab | undefined;
let frr: Frr | undefined;
let sa: StandaloneProcess | undefined;

const manifest = (rtr: string, rtr2: string): string => `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec:
  addresses: [192.168.10.0/24]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
---
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: { name: tor, namespace: metallb-system }
spec:
  bgp:
    routers:
    - asn: 64700
      neighbors:
      - address: ${rtr}
        asn: 64600
        localASN: 65100
      - address: ${rtr2}
        asn: 64600
        addressFamilies: [evpn]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: LoadBalancer
  loadBalancerIP: 192.168.10.7
  ports: [{ port: 80 }]
`;

before(async () => {
  if (why) return;
  lab = new Lab('frrlocalas').setup();
  frr = new Frr({
    ns: lab.nsRtr,
    dir: join(lab.dir, 'frr'),
    asn: 64600,
    routerId: '10.255.0.1',
    listen4: [lab.addr.rtr4[0]!],
    listen6: [],
    neighbors: [{ name: 'node', address: lab.addr.dut4[0]!, asn: 65100, families: [4] }],
  });
  await frr.start();
  const manifests = join(lab.dir, 'manifests');
  writeManifest(manifests, 'config.yaml', manifest(lab.addr.rtr4[0]!, '10.255.9.9'));
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

test('FRRConfiguration localASN: the session presents that AS to FRR and the route carries it alone; an EVPN-only neighbor opens no session', { timeout: 120000 }, async (t) => {
  if (!runnable(t, why)) return;
  await frr!.waitEstablished([lab!.addr.dut4[0]!], 60000);
  const routes = await frr!.waitRoutes('the Service route at FRR', (r) => r.some((x) => x.prefix === '192.168.10.7/32'), 30000);
  const r = routes.find((x) => x.prefix === '192.168.10.7/32');
  assert.deepEqual(r?.asPath, [65100], 'AS_PATH is the local AS only (no-prepend replace-as)');
  const st = (await sa!.status()) as unknown as { sessions?: { peer: string; peerAddress?: string }[]; bgp?: unknown };
  const text = JSON.stringify(st);
  assert.ok(!text.includes('10.255.9.9'), 'no session to the EVPN-only neighbor');
});

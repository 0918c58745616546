// Weighted ECMP against real FRR (bgpd + zebra, routes installed in the router namespace's
// kernel): two `metallb-ts standalone` processes, one per node namespace (--node dut-a / dut-b),
// share one manifest folder with an externalTrafficPolicy: Local Service whose EndpointSlice has
// 1 ready endpoint on dut-a and 3 on dut-b. With the BGPAdvertisement annotation
// `metallb-ts.io/weighted-ecmp: endpoints` each node sends the link-bandwidth extended community
// for its endpoints, and FRR (`bgp bestpath bandwidth skip-missing`, `maximum-paths 4`) installs
// one route with both next hops weighted 1:3 (`show ip route json` and `ip route`). Moving
// endpoints moves the weights; without the annotation the two next hops are equal.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { must, stopAll, waitFor } from '../lib/proc.ts';
import { Frr, ROUTER_BINS } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { peerYaml } from '../lib/interop.ts';
import { join } from 'node:path';

const IP = '198.51.100.77';
const RTR_ASN = 64620;
const DUT_ASN = 64720;
const NODES = ['dut-a', 'dut-b'] as const;

function advertisement(weighted: boolean): string {
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool
  namespace: metallb-system
spec:
  addresses: [198.51.100.64/26]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: adv
  namespace: metallb-system
${weighted ? '  annotations:\n    metallb-ts.io/weighted-ecmp: endpoints\n' : ''}spec:
  ipAddressPools: [pool]
`;
}

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
  annotations:
    metallb.io/loadBalancerIPs: ${IP}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ports:
  - port: 80
`;

/** An EndpointSlice with `counts[i]` ready endpoints on NODES[i]. */
function endpoints(counts: readonly number[]): string {
  const eps: string[] = [];
  let k = 1;
  counts.forEach((n, i) => {
    for (let j = 0; j < n; j++) eps.push(`- addresses: [10.244.${i}.${k++}]\n  nodeName: ${NODES[i]}\n  conditions:\n    ready: true\n`);
  });
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: default
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
endpoints:
${eps.join('')}`;
}

interface Hop {
  ip: string;
  weight: number;
}

describe('weighted ECMP: link bandwidth from endpoint counts, FRR installs weighted next hops', { concurrency: false }, () => {
  const why = missing(['ip', ...ROUTER_BINS.frr]);
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  const speakers: StandaloneProcess[] = [];
  let manifests = '';

  /** FRR's installed route for the Service IP: next hops with weights (zebra's view). */
  const frrHops = async (): Promise<Hop[] | undefined> => {
    const doc = JSON.parse(await (frr as Frr).zebraVtysh(`show ip route ${IP}/32 json`)) as Record<string, { installed?: boolean; nexthops?: { ip?: string; weight?: number; active?: boolean }[] }[]>;
    const r = doc[`${IP}/32`]?.find((x) => x.installed);
    if (!r) return undefined;
    return (r.nexthops ?? []).filter((h) => h.active && h.ip).map((h) => ({ ip: h.ip ?? '', weight: h.weight ?? 1 })).sort((a, b) => a.ip.localeCompare(b.ip));
  };
  /** The kernel's route in the router namespace: `nexthop via X dev Y weight W` per hop. */
  const kernelHops = (): Hop[] => {
    const out = must('ip', ['-n', lab?.nsRtr ?? '', 'route', 'show', `${IP}/32`]);
    return [...out.matchAll(/nexthop via (\S+) dev \S+ weight (\d+)/g)].map((m) => ({ ip: m[1] ?? '', weight: Number(m[2]) })).sort((a, b) => a.ip.localeCompare(b.ip));
  };
  const waitHops = (what: string, ok: (h: Hop[]) => boolean): Promise<Hop[]> =>
    waitFor(what, async () => {
      const h = await frrHops();
      return h && h.length === 2 && ok(h) ? h : undefined;
    }, 30000, 200);

  before(async () => {
    if (why) return;
    lab = new Lab('wecmp', { duts: 2 }).setup();
    frr = new Frr({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'frr'),
      asn: RTR_ASN,
      routerId: lab.addr.rtr4[0] ?? '',
      listen4: [...lab.addr.rtr4],
      listen6: [],
      neighbors: NODES.map((n, i) => ({ name: n, address: lab?.addr.dut4[i] ?? '', asn: DUT_ASN, localAddress: lab?.addr.rtr4[i] ?? '' })),
      zebra: true,
      kernelFib: true,
      frrRouterLines: ['bgp bestpath bandwidth skip-missing'],
      frrAddressFamilyLines: ['maximum-paths 4'],
    });
    await frr.start();
    manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'pool.yaml', advertisement(true));
    writeManifest(
      manifests,
      'peers.yaml',
      NODES.map((n, i) => peerYaml({ name: `rtr-${n}`, myASN: DUT_ASN, peerASN: RTR_ASN, peerAddress: lab?.addr.rtr4[i] ?? '', node: n })).join('---\n'),
    );
    writeManifest(manifests, 'svc.yaml', SERVICE);
    writeManifest(manifests, 'endpoints.yaml', endpoints([1, 3]));
    NODES.forEach((n, i) => {
      const sa = new StandaloneProcess({
        ns: lab?.duts[i] ?? '',
        manifests,
        statePath: join(lab?.dir ?? '', `state-${n}.json`),
        node: n,
        nodeAddress: lab?.addr.dut4[i] ?? '',
        httpPort: 7472,
        logFile: join(lab?.dir ?? '', `standalone-${n}.log`),
      });
      speakers.push(sa);
      sa.start();
    });
    for (const sa of speakers) await sa.waitReady();
  });

  after(() => stopAll([...speakers, frr], () => lab?.destroy()));

  it('1 endpoint on dut-a, 3 on dut-b: one route, both next hops, weights 1:3 in FRR and in the kernel', async (t) => {
    if (!runnable(t, why) || !lab) return;
    await (frr as Frr).waitEstablished([...lab.addr.dut4], 30000);
    const hops = await waitHops('two weighted next hops at FRR', (h) => h[0]?.weight !== h[1]?.weight);
    assert.deepEqual(hops.map((h) => h.ip), [lab.addr.dut4[0], lab.addr.dut4[1]]);
    t.diagnostic(`FRR weights: ${JSON.stringify(hops)}`);
    assert.ok(Math.abs((hops[0]?.weight ?? 0) * 3 - (hops[1]?.weight ?? 0)) <= 3, `weights ${JSON.stringify(hops)} are not 1:3 (±1)`);
    const k = await waitFor('the weighted route in the router kernel', () => {
      const h = kernelHops();
      return h.length === 2 ? h : undefined;
    }, 10000);
    t.diagnostic(`kernel weights: ${JSON.stringify(k)}`);
    assert.deepEqual(k.map((h) => h.ip), [lab.addr.dut4[0], lab.addr.dut4[1]]);
    assert.ok(Math.abs((k[0]?.weight ?? 0) * 3 - (k[1]?.weight ?? 0)) <= 3, `kernel weights ${JSON.stringify(k)} are not 1:3 (±1)`);
    // FRR received the link-bandwidth community from each node
    const detail = await (frr as Frr).vtysh(`show bgp ipv4 unicast ${IP}/32`);
    assert.match(detail, /LB:64720:125000 /);
    assert.match(detail, /LB:64720:375000 /);
    // /status shows each node's weight
    const st = await speakers[1]?.status();
    const route = (st?.sessions[0]?.routes ?? []).find((r) => r.prefix === `${IP}/32`) as { weight?: number } | undefined;
    assert.equal(route?.weight, 3);
  });

  it('endpoints move (3 on dut-a, 1 on dut-b): the weights follow', async (t) => {
    if (!runnable(t, why) || !lab) return;
    writeManifest(manifests, 'endpoints.yaml', endpoints([3, 1]));
    const hops = await waitHops('weights 3:1', (h) => (h[0]?.weight ?? 0) > (h[1]?.weight ?? 0));
    t.diagnostic(`FRR weights: ${JSON.stringify(hops)}`);
    assert.ok(Math.abs((hops[0]?.weight ?? 0) - 3 * (hops[1]?.weight ?? 0)) <= 3, `weights ${JSON.stringify(hops)} are not 3:1 (±1)`);
  });

  it('without the annotation: no link-bandwidth community, equal next hops', async (t) => {
    if (!runnable(t, why) || !lab) return;
    writeManifest(manifests, 'pool.yaml', advertisement(false));
    const hops = await waitHops('equal next hops', (h) => h[0]?.weight === h[1]?.weight);
    assert.equal(hops.length, 2);
    const detail = await waitFor('no LB community at FRR', async () => {
      const d = await (frr as Frr).vtysh(`show bgp ipv4 unicast ${IP}/32`);
      return /LB:/.test(d) ? undefined : d;
    }, 15000);
    assert.doesNotMatch(detail, /Extended Community/);
  });
});

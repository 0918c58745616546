// Weighted ECMP against real FRR (bgpd + zebra, routes installed in the router namespace's
// kernel): two `metallb-ts standalone` processes, one per node namespace (--node dut-a / dut-b),
// share one manifest folder with an externalTrafficPolicy: Local Service whose EndpointSlice has
// 1 ready endpoint on dut-a and 3 on dut-b. With the BGPAdvertisement annotation
// `metallb-ts.io/weighted-ecmp: endpoints` each node sends the link-bandwidth extended community
// for its endpoints, and FRR (`bgp bestpath bandwidth skip-missing`, `maximum-paths 4`) installs
// one route with both next hops weighted 1:3 (`show ip route json` and `ip route`). Moving
// endpoints moves the weights; without the annotation the two next hops are equal. The lab is
// test/integration/lib/weightlab.ts (shared with weighted-ecmp-churn.test.ts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missing, runnable } from '../lib/prereq.ts';
import { waitFor } from '../lib/proc.ts';
import { ROUTER_BINS } from '../lib/routers.ts';
import { WeightLab, advertisementYaml, endpointSlicesYaml, localServiceYaml, ratio } from '../lib/weightlab.ts';

const IP = '198.51.100.77';
const PREFIX = `${IP}/32`;
const NODES = ['dut-a', 'dut-b'] as const;

describe('weighted ECMP: link bandwidth from endpoint counts, FRR installs weighted next hops', { concurrency: false }, () => {
  const why = missing(['ip', ...ROUTER_BINS.frr]);
  let w: WeightLab | undefined;

  before(async () => {
    if (why) return;
    w = await WeightLab.start({
      label: 'wecmp',
      nodes: NODES,
      manifests: {
        'pool.yaml': advertisementYaml({ weighted: true, addresses: ['198.51.100.64/26'] }),
        'svc.yaml': localServiceYaml('web', [IP]),
        'endpoints.yaml': endpointSlicesYaml('web', NODES, [1, 3]),
      },
    });
  });

  after(() => w?.stop());

  it('1 endpoint on dut-a, 3 on dut-b: one route, both next hops, weights 1:3 in FRR and in the kernel', async (t) => {
    if (!runnable(t, why) || !w) return;
    const a = w.lab.addr;
    const hops = await w.waitHops(PREFIX, 'two weighted next hops at FRR', (h) => h[0]?.weight !== h[1]?.weight);
    assert.deepEqual(hops.map((h) => h.ip), [a.dut4[0], a.dut4[1]]);
    t.diagnostic(`FRR weights: ${JSON.stringify(hops)}`);
    assert.ok(ratio(hops, 1, 3), `weights ${JSON.stringify(hops)} are not 1:3 (±1)`);
    const k = await waitFor('the weighted route in the router kernel', () => {
      const h = w?.kernelHops(PREFIX) ?? [];
      return h.length === 2 ? h : undefined;
    }, 10000);
    t.diagnostic(`kernel weights: ${JSON.stringify(k)}`);
    assert.deepEqual(k.map((h) => h.ip), [a.dut4[0], a.dut4[1]]);
    assert.ok(ratio(k, 1, 3), `kernel weights ${JSON.stringify(k)} are not 1:3 (±1)`);
    // FRR received the link-bandwidth community from each node
    const detail = await w.frr.vtysh(`show bgp ipv4 unicast ${PREFIX}`);
    assert.match(detail, /LB:64720:125000 /);
    assert.match(detail, /LB:64720:375000 /);
    // /status shows each node's weight
    const st = await w.speakers[1]?.status();
    const route = (st?.sessions[0]?.routes ?? []).find((r) => r.prefix === PREFIX) as { weight?: number } | undefined;
    assert.equal(route?.weight, 3);
  });

  it('endpoints move (3 on dut-a, 1 on dut-b): the weights follow', async (t) => {
    if (!runnable(t, why) || !w) return;
    w.write('endpoints.yaml', endpointSlicesYaml('web', NODES, [3, 1]));
    const hops = await w.waitHops(PREFIX, 'weights 3:1', (h) => (h[0]?.weight ?? 0) > (h[1]?.weight ?? 0));
    t.diagnostic(`FRR weights: ${JSON.stringify(hops)}`);
    assert.ok(ratio(hops, 3, 1), `weights ${JSON.stringify(hops)} are not 3:1 (±1)`);
  });

  it('without the annotation: no link-bandwidth community, equal next hops', async (t) => {
    if (!runnable(t, why) || !w) return;
    w.write('pool.yaml', advertisementYaml({ weighted: false, addresses: ['198.51.100.64/26'] }));
    const hops = await w.waitHops(PREFIX, 'equal next hops', (h) => h[0]?.weight === h[1]?.weight);
    assert.equal(hops.length, 2);
    const detail = await waitFor('no LB community at FRR', async () => {
      const d = await w?.frr.vtysh(`show bgp ipv4 unicast ${PREFIX}`);
      return d === undefined || /LB:/.test(d) ? undefined : d;
    }, 15000);
    assert.doesNotMatch(detail, /Extended Community/);
  });
});

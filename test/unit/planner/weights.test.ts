// Planner: weighted ECMP per address family (a dual-stack pod counted once per family), the
// weight-update interval on the route, and the local fallback (MetalLB #148): no ready endpoint
// anywhere -> every eligible node announces, with the low fallback weight when weighted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate } from '../../../src/allocator/index.ts';
import { FALLBACK_WEIGHT, planAll, planToJSON, formatPlanTable } from '../../../src/planner/index.ts';
import type { PlanJSON } from '../../../src/planner/index.ts';
import type { BGPAdvertisement } from '../../../src/config/types.ts';
import type { EndpointSlice, Service } from '../../../src/model/objects.ts';
import { bgpAd, config, node, peer, pool, slice, svc } from '../allocator/helpers.ts';

const NODES = [node('n1', {}, { addresses: ['10.0.0.11', 'fd00::11'] }), node('n2', {}, { addresses: ['10.0.0.12', 'fd00::12'] }), node('n3', {}, { addresses: ['10.0.0.13', 'fd00::13'] })];

function run(ad: Partial<BGPAdvertisement>, services: Service[], slices: EndpointSlice[]): ReturnType<typeof planAll> {
  const cfg = config({
    pools: [pool('p', ['198.51.100.0/24', '2001:db8:100::/120'])],
    bgpAdvertisements: [bgpAd('a', ['p'], ad)],
    peers: [peer('r4', '10.0.0.1', 64512, 64513), peer('r6', 'fd00::1', 64512, 64513)],
  });
  const a = allocate({ config: cfg, services, previous: {} });
  return planAll({ config: cfg, services, assignments: a.assignments, nodes: NODES, endpointSlices: slices });
}

/** node -> prefix -> weight (null: no weight) [+ ' fallback'], over both sessions. */
function weights(p: PlanJSON): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of p.bgp) {
    const m = (out[s.node] ??= {});
    for (const r of s.routes) m[r.prefix] = `${r.weight ?? 'null'}${r.fallback ? ' fallback' : ''}`;
  }
  return out;
}

const dual = (): Service => svc('web', { etp: 'Local', ips: '198.51.100.5,2001:db8:100::5', families: ['IPv4', 'IPv6'], policy: 'RequireDualStack' });
const v6slice = (s: EndpointSlice, name: string): EndpointSlice => ({ ...s, metadata: { ...s.metadata, name }, addressType: 'IPv6' });

test('dual-stack: a pod is in an IPv4 and an IPv6 slice and counts once per family; the /128 weight comes from the IPv6 slices', () => {
  const v4 = slice('web', [{ node: 'n1' }, { node: 'n2' }, { node: 'n2' }, { node: 'n2' }], 'default', 'web-v4');
  // IPv6: one pod on n2 is not ready yet over IPv6
  const v6 = v6slice(slice('web', [{ node: 'n1' }, { node: 'n2' }, { node: 'n2' }, { node: 'n2', ready: false }], 'default', 'web-v6'), 'web-v6');
  const p = planToJSON(run({ weightedECMP: 'endpoints' }, [dual()], [v4, v6]));
  assert.deepEqual(weights(p), {
    n1: { '198.51.100.5/32': '1', '2001:db8:100::5/128': '1' },
    n2: { '198.51.100.5/32': '3', '2001:db8:100::5/128': '2' },
    n3: {},
  });
});

test('the weight-update interval annotation is carried on weighted routes only', () => {
  const s = slice('web', [{ node: 'n1' }]);
  const on = run({ weightedECMP: 'endpoints', weightIntervalMs: 250 }, [svc('web', { etp: 'Local', ips: '198.51.100.5' })], [s]);
  assert.deepEqual(on.bgp.filter((x) => x.node === 'n1').flatMap((x) => x.routes.map((r) => r.weightIntervalMs)), [250]);
  const off = run({ weightIntervalMs: 250 }, [svc('web', { etp: 'Local', ips: '198.51.100.5' })], [s]);
  assert.deepEqual(off.bgp.filter((x) => x.node === 'n1').flatMap((x) => x.routes.map((r) => r.weightIntervalMs)), [undefined]);
});

test('local fallback: no ready endpoint anywhere -> every eligible node announces with the fallback weight; one ready endpoint -> normal', () => {
  const web = svc('web', { etp: 'Local', ips: '198.51.100.5' });
  const none = slice('web', [{ node: 'n1', ready: false }, { node: 'n2', ready: false }]);
  // without the annotation: black hole (nobody announces), as MetalLB does
  assert.deepEqual(weights(planToJSON(run({ weightedECMP: 'endpoints' }, [web], [none]))), { n1: {}, n2: {}, n3: {} });
  const fb = planToJSON(run({ weightedECMP: 'endpoints', localFallback: 'all-nodes' }, [web], [none]));
  const f = `${FALLBACK_WEIGHT} fallback`;
  assert.deepEqual(weights(fb), { n1: { '198.51.100.5/32': f }, n2: { '198.51.100.5/32': f }, n3: { '198.51.100.5/32': f } });
  assert.equal(fb.bgp.find((s) => s.node === 'n3')?.routes[0]?.linkBandwidth, 'LB:64512:1250');
  assert.match(formatPlanTable(run({ weightedECMP: 'endpoints', localFallback: 'all-nodes' }, [web], [none])), /198\.51\.100\.5\/32 .*weight 0\.01 \(LB:64512:1250\) local fallback \(no ready endpoint\)/);
  // no EndpointSlice at all: the same
  assert.deepEqual(Object.keys(weights(planToJSON(run({ localFallback: 'all-nodes' }, [web], [])))).length, 3);
  // fallback without weighted ECMP: plain routes from every node, marked fallback
  assert.deepEqual(weights(planToJSON(run({ localFallback: 'all-nodes' }, [web], [none]))), {
    n1: { '198.51.100.5/32': 'null fallback' },
    n2: { '198.51.100.5/32': 'null fallback' },
    n3: { '198.51.100.5/32': 'null fallback' },
  });
  // one endpoint ready on n2: only n2, weight 1, no fallback
  const one = slice('web', [{ node: 'n1', ready: false }, { node: 'n2' }]);
  assert.deepEqual(weights(planToJSON(run({ weightedECMP: 'endpoints', localFallback: 'all-nodes' }, [web], [one]))), { n1: {}, n2: { '198.51.100.5/32': '1' }, n3: {} });
  // Cluster Services never fall back
  const cl = svc('web', { ips: '198.51.100.5' });
  assert.deepEqual(weights(planToJSON(run({ localFallback: 'all-nodes' }, [cl], [none]))), { n1: {}, n2: {}, n3: {} });
});

test('aggregated routes (aggregationLength < 32) carry no weight: an aggregate covers other Services too', () => {
  const p = planToJSON(run({ weightedECMP: 'endpoints', aggregationLength: 24 }, [svc('web', { etp: 'Local', ips: '198.51.100.5' })], [slice('web', [{ node: 'n1' }])]));
  assert.deepEqual(weights(p), { n1: { '198.51.100.0/24': 'null' }, n2: {}, n3: {} });
});

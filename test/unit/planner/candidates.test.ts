// Layer2Plan.candidates / preferred (for the Layer 2 agent's re-election over live speakers) and
// planNode().layer2Candidates: which nodes are eligible for each Layer 2 address.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate } from '../../../src/allocator/index.ts';
import { electL2Owner, planAll, planNode } from '../../../src/planner/index.ts';
import type { PlanInput } from '../../../src/planner/index.ts';
import type { Config } from '../../../src/config/types.ts';
import type { EndpointSlice, Node, Service } from '../../../src/model/objects.ts';
import { config, l2Ad, node, pool, sel, slice, svc } from '../allocator/helpers.ts';

function input(cfg: Config, services: Service[], nodes: Node[], slices: EndpointSlice[] = [], assume = true): PlanInput {
  const a = allocate({ config: cfg, services, previous: {} });
  return { config: cfg, services, assignments: a.assignments, nodes, endpointSlices: slices, assumeEndpoints: assume };
}

const names = (c: { name: string }[] | undefined): string[] => (c ?? []).map((x) => x.name);

test('candidates: Ready nodes matching the nodeSelectors, with their labels; excluded / NetworkUnavailable / NotReady left out', () => {
  const cfg = config({
    pools: [pool('p', ['192.168.10.0/30'])],
    l2Advertisements: [l2Ad('l2', ['p'], { nodeSelectors: [sel({ l2: 'yes' })] })],
  });
  const notReady = node('d', { l2: 'yes' });
  notReady.status = { conditions: [{ type: 'Ready', status: 'False' }], addresses: [] };
  const unknown = node('f', { l2: 'yes' });
  unknown.status = { conditions: [{ type: 'Ready', status: 'Unknown' }], addresses: [] };
  const nodes = [
    node('b', { l2: 'yes', zone: 'z2' }),
    node('a', { l2: 'yes', zone: 'z1' }),
    node('c'), // no l2 label
    notReady,
    node('e', { l2: 'yes', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }),
    unknown,
    node('g', { l2: 'yes' }, { networkUnavailable: true }),
  ];
  const out = planAll(input(cfg, [svc('web')], nodes));
  assert.equal(out.layer2.length, 1);
  const l = out.layer2[0];
  assert.ok(l);
  assert.deepEqual(l.candidates, [
    { name: 'a', labels: { 'kubernetes.io/hostname': 'a', l2: 'yes', zone: 'z1' } },
    { name: 'b', labels: { 'kubernetes.io/hostname': 'b', l2: 'yes', zone: 'z2' } },
  ]);
  assert.deepEqual(l.preferred, []);
  // the planned owner is the election over exactly these candidates
  assert.equal(l.node, electL2Owner(l.ip, l.candidates ?? [], []));
});

test('candidates under externalTrafficPolicy Local: only nodes with a ready endpoint', () => {
  const cfg = config({ pools: [pool('p', ['192.168.10.0/30'])], l2Advertisements: [l2Ad('l2', ['p'])] });
  const nodes = [node('a'), node('b'), node('c')];
  const slices = [slice('web', [{ node: 'a' }, { node: 'c' }, { node: 'b', ready: false }])];
  const out = planAll(input(cfg, [svc('web', { etp: 'Local' })], nodes, slices, false));
  assert.deepEqual(names(out.layer2[0]?.candidates), ['a', 'c']);
  const none = planAll(input(cfg, [svc('web', { etp: 'Local' })], nodes, [slice('web', [{ node: 'b', ready: false }])], false));
  assert.deepEqual(none.layer2[0]?.candidates, []);
  assert.equal(none.layer2[0]?.node, null);
});

test('preferred: the preferredNodeSelectors of every matching L2Advertisement; they steer the owner', () => {
  const pref = [{ weight: 50, selector: sel({ zone: 'z2' }) }];
  const cfg = config({
    pools: [pool('p', ['192.168.10.0/28'])],
    l2Advertisements: [l2Ad('l2', ['p'], { preferredNodeSelectors: pref })],
  });
  const nodes = [node('a', { zone: 'z1' }), node('b', { zone: 'z2' }), node('c', { zone: 'z1' })];
  const services = Array.from({ length: 8 }, (_, i) => svc(`s${i}`));
  const out = planAll(input(cfg, services, nodes));
  assert.equal(out.layer2.length, 8);
  for (const l of out.layer2) {
    assert.deepEqual(l.preferred, pref);
    assert.deepEqual(names(l.candidates), ['a', 'b', 'c']);
    assert.equal(l.node, 'b');
  }
});

test('planNode.layer2Candidates: every address this node may take over, with its own interfaces', () => {
  const cfg = config({
    pools: [pool('p', ['192.168.10.0/28'])],
    l2Advertisements: [
      l2Ad('l2-a', ['p'], { nodeSelectors: [sel({ 'kubernetes.io/hostname': 'a' })], interfaces: ['eth0'] }),
      l2Ad('l2-b', ['p'], { nodeSelectors: [sel({ 'kubernetes.io/hostname': 'b' })], interfaces: ['bond0'] }),
    ],
  });
  const nodes = [node('a'), node('b'), node('c')];
  const services = Array.from({ length: 10 }, (_, i) => svc(`s${i}`));
  const inp = input(cfg, services, nodes);
  const all = planAll(inp);
  const pa = planNode(inp, 'a');
  const pb = planNode(inp, 'b');
  const pc = planNode(inp, 'c');
  assert.equal(all.layer2.length, 10);
  // a and b are candidates for every address; c matches no advertisement
  assert.deepEqual(pa.layer2Candidates.map((l) => l.ip), all.layer2.map((l) => l.ip));
  assert.deepEqual(pb.layer2Candidates.map((l) => l.ip), all.layer2.map((l) => l.ip));
  assert.deepEqual(pc.layer2Candidates, []);
  for (const l of pa.layer2Candidates) {
    assert.deepEqual(names(l.candidates), ['a', 'b']);
    assert.deepEqual(l.interfaces, ['eth0'], 'interfaces as node a would use them');
  }
  for (const l of pb.layer2Candidates) assert.deepEqual(l.interfaces, ['bond0']);
  // owned = the candidate entries this node was elected for; both nodes together own everything once
  assert.deepEqual(pa.layer2, pa.layer2Candidates.filter((l) => l.node === 'a'));
  assert.equal(pa.layer2.length + pb.layer2.length, 10);
  assert.ok(pa.layer2.length > 0 && pb.layer2.length > 0);
  // planAll keeps the owner's interfaces
  for (const l of all.layer2) assert.deepEqual(l.interfaces, l.node === 'a' ? ['eth0'] : ['bond0']);
});

// Planner: sessions per node, exact routes per session (aggregation, dedup, LOCAL_PREF only on
// iBGP, communities), endpoint readiness, node eligibility, address families, Layer 2 election.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate } from '../../../src/allocator/index.ts';
import type { Assignment } from '../../../src/allocator/index.ts';
import { electL2Owner, planAll, planNode, planToJSON, formatPlanTable } from '../../../src/planner/index.ts';
import type { L2Candidate, PlanInput, PlanJSON } from '../../../src/planner/index.ts';
import type { Config } from '../../../src/config/types.ts';
import type { EndpointSlice, Node, Service } from '../../../src/model/objects.ts';
import { bgpAd, config, l2Ad, node, peer, pool, sel, slice, std, svc } from '../allocator/helpers.ts';

function plan(
  cfg: Config,
  services: Service[],
  o: { nodes?: Node[]; slices?: EndpointSlice[]; assume?: boolean; previous?: Record<string, Assignment> } = {},
): PlanJSON {
  const a = allocate({ config: cfg, services, previous: o.previous ?? {} });
  const input: PlanInput = {
    config: cfg,
    services,
    assignments: a.assignments,
    nodes: o.nodes ?? [node('n1', {}, { addresses: ['10.0.0.11'] })],
    endpointSlices: o.slices ?? [],
    assumeEndpoints: o.assume ?? true,
  };
  return planToJSON(planAll(input));
}

const seed001 = (): Config =>
  config({
    pools: [pool('first-pool', ['198.51.100.10/24'])],
    bgpAdvertisements: [
      bgpAd('local', ['first-pool'], { aggregationLength: 32, localPref: 100, communities: [std('65535:65282')] }),
      bgpAd('external', ['first-pool'], { aggregationLength: 24 }),
    ],
    peers: [peer('router', '172.30.0.3', 64512, 64512)],
  });

test('seed 001: a service at 198.51.100.10 yields exactly the /32 (localpref 100, no-advertise) and the bare /24', () => {
  const out = plan(seed001(), [svc('web', { ip: '198.51.100.10' })]);
  assert.equal(out.bgp.length, 1);
  const s = out.bgp[0];
  assert.ok(s);
  assert.equal(s.ebgp, false);
  assert.deepEqual(s.routes, [
    { prefix: '198.51.100.0/24', nextHop: '10.0.0.11', localPref: 0, communities: [], largeCommunities: [] },
    { prefix: '198.51.100.10/32', nextHop: '10.0.0.11', localPref: 100, communities: ['65535:65282'], largeCommunities: [] },
  ]);
});

test('seed 001: a second service adds one /32 and no second /24', () => {
  const out = plan(seed001(), [svc('web', { ip: '198.51.100.10' }), svc('api', { ip: '198.51.100.20' })]);
  const routes = out.bgp[0]?.routes ?? [];
  assert.deepEqual(
    routes.map((r) => r.prefix),
    ['198.51.100.0/24', '198.51.100.10/32', '198.51.100.20/32'],
  );
  assert.equal(routes.filter((r) => r.prefix.endsWith('/24')).length, 1);
});

test('eBGP session carries no LOCAL_PREF even when the advertisement sets one', () => {
  const cfg = seed001();
  cfg.peers = [peer('transit', '172.30.0.9', 64512, 65000)];
  const out = plan(cfg, [svc('web', { ip: '198.51.100.10' })]);
  const s = out.bgp[0];
  assert.equal(s?.ebgp, true);
  assert.deepEqual(
    s?.routes.map((r) => [r.prefix, r.localPref, r.communities]),
    [
      ['198.51.100.0/24', null, []],
      ['198.51.100.10/32', null, ['65535:65282']],
    ],
  );
});

test('dynamicASN internal is iBGP, external is eBGP', () => {
  const cfg = seed001();
  cfg.peers = [
    peer('dyn-ext', '172.30.0.8', 64512, 0, { dynamicASN: 'external' }),
    peer('dyn-int', '172.30.0.7', 64512, 0, { dynamicASN: 'internal' }),
  ];
  const out = plan(cfg, [svc('web', { ip: '198.51.100.10' })]);
  assert.deepEqual(
    out.bgp.map((s) => [s.peer, s.ebgp, s.peerASN, s.routes.find((r) => r.prefix.endsWith('/32'))?.localPref]),
    [
      ['dyn-ext', true, null, null],
      ['dyn-int', false, 64512, 100],
    ],
  );
});

test('default advertisement: one /32 per service IP, no attributes', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.0/24'])], bgpAdvertisements: [bgpAd('all', ['p'])], peers: [peer('r', '10.0.0.1', 64512, 64513)] });
  const out = plan(cfg, [svc('a'), svc('b')]);
  assert.deepEqual(out.bgp[0]?.routes, [
    { prefix: '10.1.0.0/32', nextHop: '10.0.0.11', localPref: null, communities: [], largeCommunities: [] },
    { prefix: '10.1.0.1/32', nextHop: '10.0.0.11', localPref: null, communities: [], largeCommunities: [] },
  ]);
});

test('a pool without any advertisement is not announced', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.0/24'])], peers: [peer('r', '10.0.0.1', 64512, 64513)] });
  const out = plan(cfg, [svc('a')]);
  assert.equal(out.services[0]?.ips[0], '10.1.0.0');
  assert.deepEqual(out.bgp[0]?.routes, []);
});

test('communities and large communities merged when two advertisements give the same prefix', () => {
  const cfg = config({
    pools: [pool('p', ['10.1.0.0/24'])],
    bgpAdvertisements: [
      bgpAd('a', ['p'], { localPref: 50, communities: [std('65000:1'), { kind: 'large', global: 1, local1: 2, local2: 3 }] }),
      bgpAd('b', ['p'], { localPref: 200, communities: [std('65000:2'), std('65000:1')] }),
    ],
    peers: [peer('r', '10.0.0.1', 64512, 64512)],
  });
  const out = plan(cfg, [svc('a')]);
  assert.deepEqual(out.bgp[0]?.routes, [
    { prefix: '10.1.0.0/32', nextHop: '10.0.0.11', localPref: 200, communities: ['65000:1', '65000:2'], largeCommunities: ['1:2:3'] },
  ]);
});

test('peer nodeSelectors: sessions only on matching nodes; sessions sorted by node then peer', () => {
  const cfg = config({
    pools: [pool('p', ['10.1.0.0/24'])],
    bgpAdvertisements: [bgpAd('all', ['p'])],
    peers: [peer('tor-a', '10.0.0.1', 64512, 64513, { nodeSelectors: [sel({ rack: 'a' })] }), peer('spine', '10.0.9.1', 64512, 64514)],
  });
  const nodes = [node('n2', { rack: 'b' }), node('n1', { rack: 'a' })];
  const out = plan(cfg, [svc('a')], { nodes });
  assert.deepEqual(
    out.bgp.map((s) => `${s.node}/${s.peer}`),
    ['n1/spine', 'n1/tor-a', 'n2/spine'],
  );
  for (const s of out.bgp) assert.equal(s.routes.length, 1);
});

test('advertisement peers restrict which sessions get the routes', () => {
  const cfg = config({
    pools: [pool('pa', ['10.1.0.0/24']), pool('pb', ['10.2.0.0/24'])],
    bgpAdvertisements: [bgpAd('ad-a', ['pa'], { peers: ['peerA', 'peerB'] }), bgpAd('ad-b', ['pb'], { peers: ['peerB', 'peerC'] })],
    peers: [peer('peerA', '10.0.0.1', 1, 2), peer('peerB', '10.0.0.2', 1, 2), peer('peerC', '10.0.0.3', 1, 2)],
  });
  const out = plan(cfg, [svc('a', { pool: 'pa' }), svc('b', { pool: 'pb' })]);
  const got = Object.fromEntries(out.bgp.map((s) => [s.peer, s.routes.map((r) => r.prefix)]));
  assert.deepEqual(got, {
    peerA: ['10.1.0.0/32'],
    peerB: ['10.1.0.0/32', '10.2.0.0/32'],
    peerC: ['10.2.0.0/32'],
  });
});

test('advertisement nodeSelectors: only selected nodes announce', () => {
  const cfg = config({
    pools: [pool('p', ['10.1.0.0/24'])],
    bgpAdvertisements: [bgpAd('ad', ['p'], { nodeSelectors: [sel({ 'kubernetes.io/hostname': 'NodeA' }), sel({ 'kubernetes.io/hostname': 'NodeB' })] })],
    peers: [peer('r', '10.0.0.1', 1, 2)],
  });
  const out = plan(cfg, [svc('a')], { nodes: [node('NodeA'), node('NodeB'), node('NodeC')] });
  assert.deepEqual(
    out.bgp.map((s) => [s.node, s.routes.length]),
    [
      ['NodeA', 1],
      ['NodeB', 1],
      ['NodeC', 0],
    ],
  );
});

test('advertisement serviceSelectors', () => {
  const cfg = config({
    pools: [pool('p', ['10.1.0.0/24'])],
    bgpAdvertisements: [bgpAd('ad', ['p'], { serviceSelectors: [sel({ expose: 'bgp' })] })],
    peers: [peer('r', '10.0.0.1', 1, 2)],
  });
  const out = plan(cfg, [svc('a', { labels: { expose: 'bgp' } }), svc('b')]);
  assert.deepEqual(
    out.bgp[0]?.routes.map((r) => r.prefix),
    ['10.1.0.0/32'],
  );
});

test('excluded and NetworkUnavailable nodes open sessions but announce nothing', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.0/24'])], bgpAdvertisements: [bgpAd('ad', ['p'])], peers: [peer('r', '10.0.0.1', 1, 2)] });
  const nodes = [
    node('ok'),
    node('excluded', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }),
    node('down', {}, { networkUnavailable: true }),
  ];
  const out = plan(cfg, [svc('a')], { nodes });
  assert.deepEqual(
    out.bgp.map((s) => [s.node, s.routes.length]),
    [
      ['down', 0],
      ['excluded', 0],
      ['ok', 1],
    ],
  );
});

test('externalTrafficPolicy Local: only nodes with a serving local endpoint', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.0/24'])], bgpAdvertisements: [bgpAd('ad', ['p'])], peers: [peer('r', '10.0.0.1', 1, 2)] });
  const nodes = [node('n1'), node('n2'), node('n3'), node('n4')];
  const slices = [
    slice('web', [
      { node: 'n1' }, // ready unset: serves
      { node: 'n2', ready: false, serving: true }, // terminating but serving
      { node: 'n3', ready: false, serving: false },
      { node: 'n4', ready: false },
    ]),
  ];
  const out = plan(cfg, [svc('web', { etp: 'Local' })], { nodes, slices });
  assert.deepEqual(
    out.bgp.map((s) => [s.node, s.routes.length]),
    [
      ['n1', 1],
      ['n2', 1],
      ['n3', 0],
      ['n4', 0],
    ],
  );
  assert.equal(out.services[0]?.endpointsAssumed, false);
});

test('externalTrafficPolicy Cluster: every eligible node when any endpoint is ready, none otherwise', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.0/24'])], bgpAdvertisements: [bgpAd('ad', ['p'])], peers: [peer('r', '10.0.0.1', 1, 2)] });
  const nodes = [node('n1'), node('n2')];
  const ready = plan(cfg, [svc('web')], { nodes, slices: [slice('web', [{ node: 'n2', ready: true }])] });
  assert.deepEqual(
    ready.bgp.map((s) => s.routes.length),
    [1, 1],
  );
  const none = plan(cfg, [svc('web')], { nodes, slices: [slice('web', [{ node: 'n2', ready: false }])] });
  assert.deepEqual(
    none.bgp.map((s) => s.routes.length),
    [0, 0],
  );
});

test('no EndpointSlice: assumed ready when assumeEndpoints, otherwise not announced', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.0/24'])], bgpAdvertisements: [bgpAd('ad', ['p'])], peers: [peer('r', '10.0.0.1', 1, 2)] });
  const assumed = plan(cfg, [svc('web')], { assume: true });
  assert.equal(assumed.services[0]?.endpointsAssumed, true);
  assert.equal(assumed.bgp[0]?.routes.length, 1);
  const strict = plan(cfg, [svc('web')], { assume: false });
  assert.equal(strict.services[0]?.endpointsAssumed, false);
  assert.equal(strict.bgp[0]?.routes.length, 0);
});

test('address families: IPv6 routes only to IPv6 peers unless dualStackAddressFamily', () => {
  const cfg = config({
    pools: [pool('d', ['10.1.0.0/24', '2001:db8:1::/64'])],
    bgpAdvertisements: [bgpAd('ad', ['d'], { aggregationLengthV6: 64 })],
    peers: [
      peer('v4', '10.0.0.1', 1, 2),
      peer('v4dual', '10.0.0.2', 1, 2, { dualStackAddressFamily: true }),
      peer('v6', '2001:db8::1', 1, 2),
    ],
  });
  const out = plan(cfg, [svc('a', { policy: 'RequireDualStack' })], { nodes: [node('n1', {}, { addresses: ['10.0.0.11', '2001:db8::11'] })] });
  const got = Object.fromEntries(out.bgp.map((s) => [s.peer, s.routes.map((r) => `${r.prefix} via ${r.nextHop}`)]));
  assert.deepEqual(got, {
    v4: ['10.1.0.0/32 via 10.0.0.11'],
    v4dual: ['10.1.0.0/32 via 10.0.0.11', '2001:db8:1::/64 via 2001:db8::11'],
    v6: ['2001:db8:1::/64 via 2001:db8::11'],
  });
});

test('sourceAddress is the next hop shown for its family', () => {
  const cfg = config({
    pools: [pool('p', ['10.1.0.0/24'])],
    bgpAdvertisements: [bgpAd('ad', ['p'])],
    peers: [peer('r', '172.30.0.3', 64512, 64512, { sourceAddress: { family: 4, value: 0xac1e0002n } })],
  });
  const out = plan(cfg, [svc('a')]);
  assert.equal(out.bgp[0]?.routes[0]?.nextHop, '172.30.0.2');
});

test('routes sorted numerically (not as text)', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.0/24'])], bgpAdvertisements: [bgpAd('ad', ['p'])], peers: [peer('r', '10.0.0.1', 1, 2)] });
  const out = plan(cfg, [svc('a', { ip: '10.1.0.100' }), svc('b', { ip: '10.1.0.9' }), svc('c', { ip: '10.1.0.20' })]);
  assert.deepEqual(
    out.bgp[0]?.routes.map((r) => r.prefix),
    ['10.1.0.9/32', '10.1.0.20/32', '10.1.0.100/32'],
  );
});

test('services list: sorted by namespace/name, with allocation errors and ignored services left out', () => {
  const cfg = config({ pools: [pool('p', ['10.1.0.1/32'])] });
  const services = [svc('b'), svc('a'), svc('c', { type: 'ClusterIP' }), svc('z', { ns: 'aaa' })];
  const a = allocate({ config: cfg, services, previous: {} });
  const errors = Object.fromEntries(a.results.filter((r) => r.error).map((r) => [r.key, r.error as string]));
  const out = planToJSON(planAll({ config: cfg, services, assignments: a.assignments, nodes: [], endpointSlices: [], errors }));
  assert.deepEqual(out.services, [
    { namespace: 'aaa', name: 'z', ips: ['10.1.0.1'], pool: 'p', endpointsAssumed: false, error: null },
    { namespace: 'default', name: 'a', ips: [], pool: null, endpointsAssumed: false, error: 'pool p exhausted' },
    { namespace: 'default', name: 'b', ips: [], pool: null, endpointsAssumed: false, error: 'pool p exhausted' },
  ]);
});

// --- Layer 2 --------------------------------------------------------------------------------

test('electL2Owner is independent of candidate order and spreads addresses', () => {
  const cands = ['n1', 'n2', 'n3', 'n4'].map((name) => ({ name, labels: {} }));
  const owners = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const ip = `192.168.0.${i}`;
    const a = electL2Owner(ip, cands, []);
    const b = electL2Owner(ip, [...cands].reverse(), []);
    assert.equal(a, b);
    assert.ok(a);
    owners.set(a, (owners.get(a) ?? 0) + 1);
  }
  assert.equal(owners.size, 4, 'every node owns some addresses');
  assert.equal(electL2Owner('192.168.0.1', [], []), null);
});

test('electL2Owner: preferredNodeSelectors weight wins over the hash, weights add up', () => {
  const cands: L2Candidate[] = [
    { name: 'n1', labels: { zone: 'a' } },
    { name: 'n2', labels: { zone: 'b', ssd: 'yes' } },
    { name: 'n3', labels: { zone: 'b' } },
  ];
  const prefs = [
    { weight: 10, selector: sel({ zone: 'b' }) },
    { weight: 5, selector: sel({ ssd: 'yes' }) },
  ];
  for (let i = 0; i < 50; i++) assert.equal(electL2Owner(`10.0.0.${i}`, cands, prefs), 'n2');
  const zoneB = new Set<string | null>();
  for (let i = 0; i < 50; i++) zoneB.add(electL2Owner(`10.0.0.${i}`, cands, [{ weight: 10, selector: sel({ zone: 'b' }) }]));
  assert.deepEqual([...zoneB].sort(), ['n2', 'n3']);
});

test('layer2: owner among nodes matching the L2Advertisement, interfaces, shared IPs', () => {
  const cfg = config({
    pools: [pool('p', ['192.168.10.0/24'])],
    l2Advertisements: [l2Ad('l2', ['p'], { nodeSelectors: [sel({ l2: 'yes' })], interfaces: ['eth1', 'eth0'] })],
  });
  const nodes = [node('a', { l2: 'yes' }), node('b', { l2: 'yes' }), node('c')];
  const services = [svc('s1', { share: 'k', ports: [80] }), svc('s2', { share: 'k', ports: [443] }), svc('s3')];
  const out = plan(cfg, services, { nodes });
  assert.equal(out.layer2.length, 2);
  const first = out.layer2[0];
  assert.deepEqual(first?.services, ['default/s1', 'default/s2']);
  assert.equal(first?.ip, '192.168.10.0');
  for (const l of out.layer2) {
    assert.ok(l.node === 'a' || l.node === 'b', `owner ${l.node} must match the nodeSelectors`);
    assert.deepEqual(l.interfaces, ['eth0', 'eth1']);
    assert.equal(l.node, electL2Owner(l.ip, [{ name: 'a', labels: {} }, { name: 'b', labels: {} }], []));
  }
});

test('layer2 Local: only nodes with a local endpoint are candidates; none -> null owner', () => {
  const cfg = config({ pools: [pool('p', ['192.168.10.0/24'])], l2Advertisements: [l2Ad('l2', ['p'])] });
  const nodes = [node('a'), node('b'), node('c')];
  for (const n of ['a', 'b', 'c']) {
    const out = plan(cfg, [svc('web', { etp: 'Local' })], { nodes, slices: [slice('web', [{ node: n }])] });
    assert.equal(out.layer2[0]?.node, n);
  }
  const none = plan(cfg, [svc('web', { etp: 'Local' })], { nodes, slices: [slice('web', [{ node: 'a', ready: false }])] });
  assert.equal(none.layer2[0]?.node, null);
});

test('planNode: one speaker sees its sessions and the layer2 addresses it owns', () => {
  const cfg = config({
    pools: [pool('p', ['192.168.10.0/24'])],
    l2Advertisements: [l2Ad('l2', ['p'])],
    bgpAdvertisements: [bgpAd('b', ['p'])],
    peers: [peer('r', '10.0.0.1', 1, 2)],
  });
  const services = Array.from({ length: 20 }, (_, i) => svc(`s${i}`));
  const a = allocate({ config: cfg, services, previous: {} });
  const input: PlanInput = { config: cfg, services, assignments: a.assignments, nodes: [node('a'), node('b')], endpointSlices: [], assumeEndpoints: true };
  const all = planAll(input);
  const pa = planNode(input, 'a');
  const pb = planNode(input, 'b');
  assert.deepEqual(
    pa.sessions.map((s) => s.node),
    ['a'],
  );
  assert.equal(pa.sessions[0]?.routes.length, 20);
  assert.equal(pa.layer2.length + pb.layer2.length, 20);
  assert.deepEqual([...pa.layer2, ...pb.layer2].map((l) => l.ip).sort(), all.layer2.map((l) => l.ip).sort());
  assert.ok(pa.layer2.length > 0 && pb.layer2.length > 0);
});

test('table output shows one block per session with Network / Next Hop / LocPrf / Communities', () => {
  const a = allocate({ config: seed001(), services: [svc('web', { ip: '198.51.100.10' })], previous: {} });
  const text = formatPlanTable(
    planAll({ config: seed001(), services: [svc('web', { ip: '198.51.100.10' })], assignments: a.assignments, nodes: [node('n1', {}, { addresses: ['10.0.0.11'] })], endpointSlices: [], assumeEndpoints: true }),
  );
  assert.match(text, /node n1 -> peer router \(172\.30\.0\.3, AS 64512, local AS 64512, iBGP\)/);
  assert.match(text, /Network\s+Next Hop\s+LocPrf\s+Communities/);
  assert.match(text, /198\.51\.100\.10\/32\s+10\.0\.0\.11\s+100\s+65535:65282/);
  assert.match(text, /198\.51\.100\.0\/24\s+10\.0\.0\.11\s+0\n/);
  assert.match(text, /Total number of prefixes 2/);
});

test('sessions of a node with the same route policy share one route list; a differing policy gets its own', () => {
  const cfg = config({
    pools: [pool('p', ['192.0.2.0/28'])],
    bgpAdvertisements: [bgpAd('all', ['p']), bgpAd('only-c', ['p'], { peers: ['c'], communities: [std('64512:9')] })],
    peers: [
      peer('a', '172.30.0.1', 64512, 65001),
      peer('b', '172.30.0.2', 64512, 65002),
      peer('c', '172.30.0.3', 64512, 65003), // named by an advertisement: its own routes
      peer('d', '172.30.0.4', 64512, 64512), // iBGP: LOCAL_PREF, its own routes
    ],
  });
  const services = [svc('web'), svc('api')];
  const a = allocate({ config: cfg, services, previous: {} });
  const out = planAll({ config: cfg, services, assignments: a.assignments, nodes: [node('n1', {}, { addresses: ['10.0.0.11'] })], endpointSlices: [], assumeEndpoints: true });
  const by = new Map(out.bgp.map((s) => [s.peer, s.routes]));
  assert.equal(by.get('a')?.length, 2);
  assert.equal(by.get('a'), by.get('b'), 'a and b: one array');
  assert.notEqual(by.get('c'), by.get('a'));
  assert.deepEqual(by.get('c')?.map((r) => r.communities), [[64512 * 65536 + 9], [64512 * 65536 + 9]]);
  assert.deepEqual(by.get('a')?.map((r) => r.communities), [[], []], 'the shared list is not touched by c’s advertisement');
  assert.notEqual(by.get('d'), by.get('a'));
  assert.deepEqual(by.get('d')?.map((r) => r.localPref), [0, 0]);
  assert.deepEqual(by.get('a')?.map((r) => r.localPref), [undefined, undefined]);
});

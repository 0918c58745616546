// Table of valid configurations, each with assertions on the resolved Config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInputs } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';
import type { InputSet } from '../../../src/config/load.ts';
import { formatIP, formatPrefix, formatRange } from '../../../src/ip/index.ts';
import { bfd, bgpAdv, community, configMap, ebgpPeer, l2Adv, load, peer, pool } from './helpers.ts';

interface Case {
  t: string;
  docs: string[];
  check: (c: Config, set: InputSet) => void;
}

const P = pool('p', ['10.0.0.0/24']);

const cases: Case[] = [
  { t: 'IPv4 CIDR pool with defaults', docs: [P], check: (c) => {
    const p = c.pools[0]!;
    assert.deepEqual([p.name, p.autoAssign, p.avoidBuggyIPs, p.serviceAllocation], ['p', true, false, undefined]);
    assert.deepEqual(p.ranges.map(formatRange), ['10.0.0.0-10.0.0.255']);
  } },
  { t: 'IPv6 CIDR pool', docs: [pool('v6', ['2001:db8:0:0::/64'])], check: (c) => {
    assert.deepEqual(c.pools[0]!.cidrs.map(formatPrefix), ['2001:db8::/64']);
  } },
  { t: 'dual-stack pool', docs: [pool('ds', ['192.0.2.0/28', 'fd00:1::/120'])], check: (c) => {
    assert.deepEqual(c.pools[0]!.cidrs.map(formatPrefix), ['192.0.2.0/28', 'fd00:1::/120']);
    assert.deepEqual(c.pools[0]!.ranges.map((r) => r.family), [4, 6]);
  } },
  { t: 'IPv4 range decomposed into CIDRs', docs: [pool('r', ['192.168.0.50-192.168.0.100'])], check: (c) => {
    assert.deepEqual(c.pools[0]!.cidrs.map(formatPrefix), ['192.168.0.50/31', '192.168.0.52/30', '192.168.0.56/29', '192.168.0.64/27', '192.168.0.96/30', '192.168.0.100/32']);
  } },
  { t: 'IPv6 range', docs: [pool('r6', ['fd00::10-fd00::1f'])], check: (c) => {
    assert.deepEqual(c.pools[0]!.cidrs.map(formatPrefix), ['fd00::10/124']);
  } },
  { t: 'dual-stack ranges', docs: [pool('dr', ['10.1.0.1-10.1.0.2', 'fd00::1-fd00::2'])], check: (c) => {
    assert.deepEqual(c.pools[0]!.ranges.map(formatRange), ['10.1.0.1-10.1.0.2', 'fd00::1-fd00::2']);
  } },
  { t: 'single address entry (/32)', docs: [pool('one', ['10.2.0.7/32'])], check: (c) => {
    assert.deepEqual(c.pools[0]!.cidrs.map(formatPrefix), ['10.2.0.7/32']);
  } },
  { t: 'autoAssign false, avoidBuggyIPs true', docs: [pool('p', ['10.0.0.0/24'], { autoAssign: false, avoidBuggyIPs: true })], check: (c) => {
    assert.equal(c.pools[0]!.autoAssign, false);
    assert.equal(c.pools[0]!.avoidBuggyIPs, true);
  } },
  { t: 'serviceAllocation', docs: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { priority: 10, namespaces: ['a', 'b'], namespaceSelectors: [{ matchLabels: { team: 'x' } }], serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }] } })], check: (c) => {
    assert.deepEqual(c.pools[0]!.serviceAllocation, { priority: 10, namespaces: ['a', 'b'], namespaceSelectors: [{ matchLabels: { team: 'x' } }], serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }] });
  } },
  { t: 'CIDR with host bits', docs: [pool('p', ['198.51.100.10/24'])], check: (c) => {
    assert.deepEqual(c.pools[0]!.cidrs.map(formatPrefix), ['198.51.100.0/24']);
  } },
  { t: 'adjacent pools do not overlap', docs: [pool('a', ['10.0.0.0/25']), pool('b', ['10.0.0.128/25']), pool('c', ['10.0.1.0-10.0.1.0'])], check: (c) => {
    assert.deepEqual(c.pools.map((p) => p.name), ['a', 'b', 'c']);
  } },
  { t: 'peer defaults', docs: [peer('r', ebgpPeer())], check: (c) => {
    const p = c.peers[0]!;
    assert.deepEqual([p.port, p.vrf, p.ebgpMultiHop, p.holdTime, p.keepaliveTime, p.enableGracefulRestart, p.disableMP, p.dualStackAddressFamily], [179, '', false, undefined, undefined, false, false, false]);
    assert.equal(formatIP(p.address!), '192.0.2.1');
  } },
  { t: 'holdTime only derives keepalive', docs: [peer('r', ebgpPeer({ holdTime: '90s' }))], check: (c) => {
    assert.deepEqual([c.peers[0]!.holdTime, c.peers[0]!.keepaliveTime], [90, 30]);
  } },
  { t: 'keepaliveTime only derives hold', docs: [peer('r', ebgpPeer({ keepaliveTime: '10s' }))], check: (c) => {
    assert.deepEqual([c.peers[0]!.holdTime, c.peers[0]!.keepaliveTime], [30, 10]);
  } },
  { t: 'holdTime 0 disables keepalives', docs: [peer('r', ebgpPeer({ holdTime: '0s' }))], check: (c) => {
    assert.deepEqual([c.peers[0]!.holdTime, c.peers[0]!.keepaliveTime], [0, 0]);
  } },
  { t: 'compound Go durations', docs: [peer('r', ebgpPeer({ holdTime: '1m30s', keepaliveTime: '20s', connectTime: '1.5s' }))], check: (c) => {
    assert.deepEqual([c.peers[0]!.holdTime, c.peers[0]!.keepaliveTime, c.peers[0]!.connectTime], [90, 20, 1500]);
  } },
  { t: 'dynamicASN over an interface', docs: [peer('r', { myASN: 64512, dynamicASN: 'external', interface: 'eth1' })], check: (c) => {
    const p = c.peers[0]!;
    assert.deepEqual([p.peerASN, p.dynamicASN, p.interface, p.address], [0, 'external', 'eth1', undefined]);
  } },
  { t: 'passwordSecret defaults to the object namespace', docs: [doc2('BGPPeer', 'r', 'metallb.io/v1beta2', 'ns1', ebgpPeer({ passwordSecret: { name: 'sec' } }))], check: (c) => {
    assert.deepEqual(c.peers[0]!.passwordSecret, { name: 'sec', namespace: 'ns1' });
  } },
  { t: 'BFD profile defaults and reference', docs: [bfd('fast', { detectMultiplier: 5 }), peer('r', ebgpPeer({ bfdProfile: 'fast' }))], check: (c) => {
    const b = c.bfdProfiles[0]!;
    assert.deepEqual([b.receiveInterval, b.transmitInterval, b.detectMultiplier, b.echoInterval, b.echoMode, b.passiveMode, b.minimumTtl], [300, 300, 5, 50, false, false, 254]);
    assert.equal(c.peers[0]!.bfdProfile, 'fast');
  } },
  { t: 'ebgpMultiHop on an eBGP peer', docs: [peer('r', ebgpPeer({ ebgpMultiHop: true }))], check: (c) => assert.equal(c.peers[0]!.ebgpMultiHop, true) },
  { t: 'routerID override', docs: [peer('r', ebgpPeer({ routerID: '10.10.10.10' }))], check: (c) => assert.equal(formatIP(c.peers[0]!.routerID!), '10.10.10.10') },
  { t: 'v1beta1 BGPPeer', docs: [peer('old', ebgpPeer({ password: 'secret' }), 'metallb.io/v1beta1')], check: (c) => {
    assert.equal(c.peers[0]!.password, 'secret');
  } },
  { t: 'IPv6 peer with IPv6 source', docs: [peer('r6', ebgpPeer({ peerAddress: '2001:DB8::1', sourceAddress: '2001:db8::2', nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'n1' } }] }))], check: (c) => {
    assert.equal(formatIP(c.peers[0]!.address!), '2001:db8::1');
    assert.equal(formatIP(c.peers[0]!.sourceAddress!), '2001:db8::2');
  } },
  { t: 'advertisement without pools covers all pools', docs: [pool('b', ['10.1.0.0/24']), pool('a', ['10.0.0.0/24']), bgpAdv('all', {})], check: (c) => {
    assert.deepEqual(c.bgpAdvertisements[0]!.pools, ['a', 'b']);
    assert.deepEqual([c.bgpAdvertisements[0]!.aggregationLength, c.bgpAdvertisements[0]!.aggregationLengthV6], [32, 128]);
  } },
  { t: 'ipAddressPoolSelectors resolve by label', docs: [pool('a', ['10.0.0.0/24'], {}, { tier: 'gold' }), pool('b', ['10.1.0.0/24'], {}, { tier: 'silver' }), bgpAdv('gold', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }] }), l2Adv('silver', { ipAddressPoolSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['silver'] }] }] })], check: (c) => {
    assert.deepEqual(c.bgpAdvertisements[0]!.pools, ['a']);
    assert.deepEqual(c.l2Advertisements[0]!.pools, ['b']);
  } },
  { t: 'communities: standard, large and alias, sorted and deduplicated', docs: [P, community('c', [{ name: 'no-export', value: '65535:65281' }]), bgpAdv('a', { communities: ['large:1:2:3', '65535:65281', 'no-export', '1:1'] })], check: (c) => {
    assert.deepEqual(c.bgpAdvertisements[0]!.communities, [
      { kind: 'standard', value: 65537 },
      { kind: 'standard', value: 65535 * 65536 + 65281 },
      { kind: 'large', global: 1, local1: 2, local2: 3 },
    ]);
  } },
  { t: 'localPref', docs: [P, bgpAdv('a', { localPref: 250 })], check: (c) => assert.equal(c.bgpAdvertisements[0]!.localPref, 250) },
  { t: 'IPv6 aggregation to /64', docs: [pool('v6', ['2001:db8::/64']), bgpAdv('agg', { aggregationLengthV6: 64 })], check: (c) => assert.equal(c.bgpAdvertisements[0]!.aggregationLengthV6, 64) },
  { t: 'L2 with interfaces and preferred nodes', docs: [P, l2Adv('l2', { interfaces: ['eth0', 'bond0'], nodeSelectors: [{ matchLabels: { l2: 'yes' } }], preferredNodeSelectors: [{ weight: 100, preference: { matchLabels: { zone: 'a' } } }] })], check: (c) => {
    const l = c.l2Advertisements[0]!;
    assert.deepEqual(l.interfaces, ['eth0', 'bond0']);
    assert.deepEqual(l.preferredNodeSelectors, [{ weight: 100, selector: { matchLabels: { zone: 'a' } } }]);
    assert.deepEqual(l.pools, ['p']);
  } },
  { t: 'Community CR and legacy bgp-communities merge', docs: [community('c', [{ name: 'a', value: '1:1' }]), configMap('bgp-communities:\n  b: 2:2\n  big: large:7:8:9\n')], check: (c) => {
    assert.deepEqual(c.communityAliases, { a: { kind: 'standard', value: 65537 }, b: { kind: 'standard', value: 131074 }, big: { kind: 'large', global: 7, local1: 8, local2: 9 } });
  } },
  { t: 'lists are sorted by name', docs: [pool('z', ['10.9.0.0/24']), pool('m', ['10.8.0.0/24']), bgpAdv('y', {}), bgpAdv('b', {})], check: (c) => {
    assert.deepEqual(c.pools.map((p) => p.name), ['m', 'z']);
    assert.deepEqual(c.bgpAdvertisements.map((p) => p.name), ['b', 'y']);
  } },
  { t: 'different localPref to different peers is fine', docs: [P, peer('r1', ebgpPeer()), peer('r2', ebgpPeer({ peerAddress: '192.0.2.2' })), bgpAdv('a', { localPref: 100, peers: ['r1'] }), bgpAdv('b', { localPref: 200, peers: ['r2'] })], check: (c) => {
    assert.deepEqual(c.bgpAdvertisements.map((a) => a.localPref), [100, 200]);
  } },
  { t: 'per-rack peers may differ in myASN', docs: [peer('r1', ebgpPeer({ nodeSelectors: [{ matchLabels: { rack: '1' } }] })), peer('r2', ebgpPeer({ myASN: 65001, nodeSelectors: [{ matchLabels: { rack: '2' } }] }))], check: (c) => {
    assert.deepEqual(c.peers.map((p) => p.myASN), [64512, 65001]);
  } },
  { t: 'same address in different VRFs', docs: [peer('a', ebgpPeer()), peer('b', ebgpPeer({ vrf: 'red' }))], check: (c) => {
    assert.deepEqual(c.peers.map((p) => p.vrf), ['', 'red']);
  } },
  { t: 'legacy with advertisements, aliases and BFD', docs: [configMap([
    'bgp-communities:', '  vpn: 1234:1',
    'bfd-profiles:', '- name: slow', '  receive-interval: 1000',
    'peers:', '- my-asn: 64512', '  peer-asn: 64513', '  peer-address: 10.0.0.1', '  bfd-profile: slow', '  hold-time: 120s',
    '  node-selectors:', '  - match-labels:', '      rack: a', '    match-expressions:', '    - key: k', '      operator: Exists',
    'address-pools:', '- name: pub', '  protocol: bgp', '  addresses: [198.51.100.0/24]', '  auto-assign: false', '  bgp-advertisements:',
    '  - aggregation-length: 32', '    localpref: 100', '    communities: [vpn]', '  - aggregation-length: 24',
  ].join('\n') + '\n')], check: (c) => {
    assert.deepEqual(c.bgpAdvertisements.map((a) => [a.name, a.aggregationLength, a.localPref, a.communities.length]), [
      ['legacy-pub-bgp-0', 32, 100, 1],
      ['legacy-pub-bgp-1', 24, undefined, 0],
    ]);
    assert.equal(c.pools[0]!.autoAssign, false);
    assert.deepEqual([c.peers[0]!.holdTime, c.peers[0]!.keepaliveTime, c.peers[0]!.bfdProfile], [120, 40, 'slow']);
    assert.deepEqual(c.peers[0]!.nodeSelectors, [{ matchLabels: { rack: 'a' }, matchExpressions: [{ key: 'k', operator: 'Exists' }] }]);
    assert.equal(c.bfdProfiles[0]!.receiveInterval, 1000);
  } },
  { t: 'other ConfigMaps and cluster objects are ignored by config', docs: [P, l2Adv('l', {}), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  x: y\n', 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    a: b\n', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: e\n  labels:\n    kubernetes.io/service-name: s\nendpoints:\n- addresses: [10.244.0.5]\n  nodeName: n1\n'], check: (c, set) => {
    assert.equal(c.pools.length, 1);
    assert.equal(set.nodes[0]?.metadata.name, 'n1');
    assert.equal(set.namespaces[0]?.metadata.name, 'ns');
    assert.equal(set.endpointSlices[0]?.endpoints?.[0]?.nodeName, 'n1');
    assert.equal(set.objects.length, 6);
  } },
  { t: 'empty documents are skipped', docs: ['', '# just a comment\n', P, l2Adv('l', {})], check: (c, set) => {
    assert.equal(set.objects.length, 2);
    assert.equal(c.pools.length, 1);
  } },
  { t: 'BGPAdvertisement and L2Advertisement without spec', docs: [P, 'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: b\n', 'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata:\n  name: l\n'], check: (c) => {
    assert.deepEqual(c.bgpAdvertisements[0]!.pools, ['p']);
    assert.deepEqual(c.l2Advertisements[0]!.pools, ['p']);
  } },
  { t: 'null fields count as absent (API server semantics)', docs: ['apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n  addresses: [10.0.0.0/24]\n  serviceAllocation:\n---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata:\n  name: l\nspec:\n  nodeSelectors:\n  interfaces: ~\n', configMap('address-pools:\n- name: q\n  protocol: bgp\n  addresses: [10.1.0.0/24]\n  bgp-advertisements:\n')], check: (c) => {
    assert.equal(c.pools.find((p) => p.name === 'p')?.serviceAllocation, undefined);
    assert.deepEqual(c.l2Advertisements[0]!.nodeSelectors, []);
    assert.deepEqual(c.bgpAdvertisements.map((a) => a.name), ['legacy-q-bgp-0']);
  } },
  { t: 'kind: List (kubectl output) items are read one by one', docs: ['apiVersion: v1\nkind: List\nitems:\n- apiVersion: metallb.io/v1beta1\n  kind: IPAddressPool\n  metadata:\n    name: p\n  spec:\n    addresses: [10.0.0.0/24]\n- apiVersion: metallb.io/v1beta1\n  kind: L2Advertisement\n  metadata:\n    name: l\n'], check: (c, set) => {
    assert.equal(set.objects.length, 2);
    assert.equal(set.objects[1]!.source.line, 10);
    assert.deepEqual(c.l2Advertisements[0]!.pools, ['p']);
  } },
];

function doc2(kind: string, name: string, apiVersion: string, namespace: string, spec: unknown): string {
  return JSON.stringify({ apiVersion, kind, metadata: { name, namespace }, spec }) + '\n';
}

test('the valid corpus has at least 30 cases', () => {
  assert.ok(cases.length >= 30, `only ${cases.length}`);
});

for (const c of cases) {
  test(`valid: ${c.t}`, () => {
    const set = load(...c.docs);
    assert.deepEqual(set.errors, []);
    assert.ok(set.config);
    c.check(set.config, set);
  });
}

test('JSON files load, with line numbers', () => {
  const text = JSON.stringify({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'j' }, spec: { addresses: ['10.0.0.0/8', 'x'] } }, null, 2);
  const set = parseInputs([{ file: 'p.json', text }]);
  assert.equal(set.errors.length, 1);
  assert.deepEqual([set.errors[0]!.file, set.errors[0]!.line, set.errors[0]!.field], ['p.json', 10, 'spec.addresses[1]']);
});

test('warnings: pool not announced, selector selecting nothing, sourceAddress on many nodes', () => {
  const set = load(
    pool('lonely', ['10.0.0.0/24']),
    pool('p2', ['10.1.0.0/24'], {}, { t: 'x' }),
    l2Adv('l', { ipAddressPools: ['p2'], ipAddressPoolSelectors: [{ matchLabels: { t: 'nope' } }] }),
    peer('r', ebgpPeer({ sourceAddress: '192.0.2.100' })),
  );
  assert.deepEqual(set.errors, []);
  assert.ok(set.config);
  const w = set.warnings.map((x) => `${x.kind}/${x.name} ${x.field}`);
  assert.ok(w.includes('IPAddressPool/lonely metadata.name'), w.join('\n'));
  assert.ok(w.includes('L2Advertisement/l spec.ipAddressPoolSelectors[0]'), w.join('\n'));
  assert.ok(w.includes('BGPPeer/r spec.sourceAddress'), w.join('\n'));
});

test('warnings with known nodes: node selector selecting no node, sourceAddress on two nodes', () => {
  const node = (n: string, rack: string) => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${n}\n  labels:\n    rack: ${rack}\n`;
  const set = load(P, l2Adv('l', {}), node('n1', 'a'), node('n2', 'a'),
    peer('r', ebgpPeer({ sourceAddress: '192.0.2.100', nodeSelectors: [{ matchLabels: { rack: 'a' } }] })),
    peer('s', ebgpPeer({ peerAddress: '192.0.2.7', nodeSelectors: [{ matchLabels: { rack: 'zzz' } }] })));
  assert.deepEqual(set.errors, []);
  const w = set.warnings.map((x) => `${x.kind}/${x.name} ${x.field}: ${x.message}`);
  assert.ok(w.some((x) => x.startsWith('BGPPeer/r spec.sourceAddress') && x.includes('2 nodes')), w.join('\n'));
  assert.ok(w.some((x) => x.startsWith('BGPPeer/s spec.nodeSelectors[0]')), w.join('\n'));
});

test('errors never half-apply: one bad object, no config at all', () => {
  const set = load(P, l2Adv('l', {}), pool('bad', ['nope']));
  assert.equal(set.config, undefined);
  assert.equal(set.errors.length, 1);
});

test('passwordSecret checked against Secrets in the inputs', () => {
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: metallb-system\ntype: Opaque\ndata:\n  user: eA==\n';
  const set = load(secret, peer('r', ebgpPeer({ passwordSecret: { name: 's', namespace: 'metallb-system' } })));
  // a warning, not an error: the runtime keeps just this session down, the rest applies
  assert.deepEqual(set.errors, []);
  const w = set.warnings.filter((x) => x.field === 'spec.passwordSecret').map((x) => x.message);
  assert.equal(w.length, 2, w.join('\n'));
  assert.match(w.join('\n'), /basic-auth/);
  assert.match(w.join('\n'), /no key "password"/);
  assert.match(w.join('\n'), /stays down \(blocked\) until the Secret is fixed/);
});

test('with Nodes known, peers conflict only when their node sets intersect', () => {
  const node = (n: string, rack: string) => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${n}\n  labels:\n    rack: ${rack}\n    kubernetes.io/hostname: ${n}\n`;
  const nodes = [node('n1', 'a'), node('n2', 'b')];
  const disjoint = load(...nodes, peer('a', ebgpPeer({ nodeSelectors: [{ matchLabels: { rack: 'a' } }] })), peer('b', ebgpPeer({ myASN: 1, nodeSelectors: [{ matchLabels: { rack: 'b' } }] })));
  assert.deepEqual(disjoint.errors, []);
  const shared = load(...nodes, peer('a', ebgpPeer({ nodeSelectors: [{ matchLabels: { rack: 'a' } }] })), peer('b', ebgpPeer({ myASN: 1, nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'n1' } }] })));
  assert.deepEqual(shared.errors.map((e) => `${e.name} ${e.field}`), ['b spec.myASN', 'b spec.peerAddress']);
});

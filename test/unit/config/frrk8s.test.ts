// frr-k8s FRRConfiguration (frrk8s.metallb.io/v1beta1): parsed and validated like our own kinds
// (file:line, field path), merged with BGPPeers as frr-k8s merges them, receive policy on the
// config model (issue 13 item 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { parsePrefix } from '../../../src/ip/index.ts';
import { policyAccepts, receivePolicyFor } from '../../../src/config/receive.ts';
import type { Diagnostic } from '../../../src/config/types.ts';
import { doc, ebgpPeer, load, peer } from './helpers.ts';

const frr = (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = { namespace: 'frr-k8s-system' }): string =>
  doc('FRRConfiguration', name, spec, 'frrk8s.metallb.io/v1beta1', meta);
const line = (d: Diagnostic): string => `${d.line} ${d.kind}/${d.name}: ${d.field}: ${d.message}`;
const router = (neighbors: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ bgp: { routers: [{ asn: 64512, neighbors, ...extra }] } });

test('a neighbor that is also a BGPPeer (same router ASN + address) is one session with the receive policy added', () => {
  const set = load(
    peer('tor', ebgpPeer()),
    frr('receive', router([{ address: '192.0.2.1', asn: 64513, toReceive: { allowed: { mode: 'filtered', prefixes: [{ prefix: '10.0.0.0/8', le: 24 }, { prefix: '2001:db8::/32', ge: 48 }] } } }])),
  );
  assert.deepEqual(set.errors.map(line), []);
  const peers = set.config?.peers ?? [];
  assert.deepEqual(peers.map((p) => p.name), ['tor']);
  const pol = receivePolicyFor(peers[0]!, {});
  assert.ok(pol);
  assert.equal(pol.mode, 'filtered');
  assert.equal(pol.prefixLimit, 10000);
  assert.deepEqual(
    pol.prefixes.map((r) => [r.prefix.length, r.minLength, r.maxLength]),
    [[8, 8, 24], [32, 48, 128]],
  );
  assert.ok(policyAccepts(pol, parsePrefix('10.1.2.0/24')));
  assert.ok(policyAccepts(pol, parsePrefix('10.0.0.0/8')));
  assert.ok(!policyAccepts(pol, parsePrefix('10.1.2.0/25')), 'longer than le');
  assert.ok(!policyAccepts(pol, parsePrefix('11.0.0.0/24')), 'outside the prefix');
  assert.ok(policyAccepts(pol, parsePrefix('2001:db8:1::/48')));
  assert.ok(!policyAccepts(pol, parsePrefix('2001:db8::/40')), 'shorter than ge');
});

test('a neighbor only in an FRRConfiguration is a session of its own; a peer without policy imports nothing', () => {
  const set = load(
    peer('plain', ebgpPeer({ peerAddress: '192.0.2.9' })),
    frr('extra', { nodeSelector: { matchLabels: { rack: 'a' } }, bgp: { routers: [{ asn: 64512, id: '10.0.0.1', neighbors: [{ address: '192.0.2.7', asn: 65000, port: 1179, holdTime: '9s', toReceive: { allowed: { mode: 'all' } } }] }] } }),
  );
  assert.deepEqual(set.errors.map(line), []);
  const byName = new Map((set.config?.peers ?? []).map((p) => [p.name, p]));
  assert.deepEqual([...byName.keys()], ['extra-192-0-2-7', 'plain']);
  const own = byName.get('extra-192-0-2-7')!;
  assert.equal(own.myASN, 64512);
  assert.equal(own.peerASN, 65000);
  assert.equal(own.port, 1179);
  assert.equal(own.holdTime, 9);
  assert.equal(own.keepaliveTime, 3);
  assert.deepEqual(own.nodeSelectors, [{ matchLabels: { rack: 'a' } }]);
  assert.equal(receivePolicyFor(own, { rack: 'a' })?.mode, 'all');
  assert.equal(receivePolicyFor(own, { rack: 'b' }), undefined, 'the nodeSelector limits the policy');
  assert.equal(receivePolicyFor(byName.get('plain')!, {}), undefined);
});

test('FRRConfiguration errors and warnings carry file:line and the field path', () => {
  const text = frr(
    'bad',
    {
      raw: { rawConfig: 'router bgp 1' },
      bgp: {
        routers: [
          { asn: 64512, neighbors: [{ address: '192.0.2.300', asn: 65000 }, { address: '192.0.2.2', toReceive: { allowed: { prefixes: [{ prefix: '10.0.0.0/24', ge: 16 }] } } }] },
          { asn: 64512, vrf: 'red', neighbors: [{ address: '192.0.2.3', asn: 65000 }] },
        ],
      },
    },
    { namespace: 'frr-k8s-system', annotations: { 'metallb-ts/max-prefixes': 'many' } },
  );
  const set = load(text);
  assert.deepEqual(set.errors.map(line), [
    '6 FRRConfiguration/bad: metadata.annotations["metallb-ts/max-prefixes"]: must be a positive whole number of prefixes, got "many"',
    '15 FRRConfiguration/bad: spec.bgp.routers[0].neighbors[0].address: invalid IP address "192.0.2.300"',
    '17 FRRConfiguration/bad: spec.bgp.routers[0].neighbors[1].asn: one of asn or dynamicASN is required',
    '21 FRRConfiguration/bad: spec.bgp.routers[0].neighbors[1].toReceive.allowed.prefixes[0]: ge 16 must be longer than the prefix length 24 and at most 32',
  ]);
  assert.deepEqual(set.warnings.map(line), [
    '10 FRRConfiguration/bad: spec.raw: raw FRR configuration is not used by metallb-ts (it runs its own BGP speaker, not FRR); ignored',
    '24 FRRConfiguration/bad: spec.bgp.routers[1].vrf: VRF "red": metallb-ts runs BGP sessions in the default VRF only; this router and its neighbors are ignored',
  ]);
  assert.deepEqual(
    set.warnings.map((w) => w.code),
    ['unsupported-field', 'unsupported-field'],
  );
  // schema errors read like our own kinds' (unknown field with a suggestion)
  const typo = load(frr('t', router([{ adress: '192.0.2.1', asn: 1 }])));
  assert.match(typo.errors.map(line).join('\n'), /spec\.bgp\.routers\[0\]\.neighbors\[0\]\.adress: unknown field; did you mean "address"\?/);
});

test('a neighbor contradicting the BGPPeer of the same session is an error naming both', () => {
  const set = load(peer('tor', ebgpPeer({ holdTime: '90s' })), frr('x', router([{ address: '192.0.2.1', asn: 64999, holdTime: '30s' }])));
  assert.deepEqual(set.errors.map((d) => `${d.field}: ${d.message}`), [
    'spec.bgp.routers[0].neighbors[0].asn: 64999 differs from 64513 of BGPPeer/tor: the same router ASN and neighbor address are one session',
    'spec.bgp.routers[0].neighbors[0].holdTime: 30s differs from 90s of BGPPeer/tor: the same router ASN and neighbor address are one session',
  ]);
});

test('bfdProfiles of an FRRConfiguration are profiles the neighbors may name; prefix limit from the annotation', () => {
  const set = load(
    frr('b', { bgp: { bfdProfiles: [{ name: 'fast', receiveInterval: 100 }], routers: [{ asn: 64512, neighbors: [{ address: '192.0.2.5', asn: 65000, bfdProfile: 'fast', toReceive: { allowed: { mode: 'all' } } }] }] } }, { annotations: { 'metallb-ts/max-prefixes': '50' } }),
  );
  assert.deepEqual(set.errors.map(line), []);
  assert.equal(set.config?.bfdProfiles.find((b) => b.name === 'fast')?.receiveInterval, 100);
  const p = set.config?.peers[0];
  assert.equal(p?.bfdProfile, 'fast');
  assert.equal(p && receivePolicyFor(p, {})?.prefixLimit, 50);
});

test('the FRRConfiguration CRD (config/crd) is generated from the schema validate uses, with frr-k8s group and fields', async () => {
  const { crd, frrCrdDef } = await import('../../../scripts/gen-manifests.ts');
  const c = crd(frrCrdDef()) as { metadata: { name: string }; spec: { group: string; versions: { schema: { openAPIV3Schema: { properties: { spec: unknown } } } }[] } };
  assert.equal(c.metadata.name, 'frrconfigurations.frrk8s.metallb.io');
  assert.equal(c.spec.group, 'frrk8s.metallb.io');
  const spec = JSON.stringify(c.spec.versions[0]?.schema.openAPIV3Schema.properties.spec);
  for (const f of ['nodeSelector', 'routers', 'neighbors', 'toReceive', 'toAdvertise', 'passwordSecret', 'ebgpMultiHop', 'bfdProfiles', 'dualStackAddressFamily', 'rawConfig', 'id', 'localASN', 'addressFamilies', 'nextHop', 'evpn']) {
    assert.ok(spec.includes(`"${f}"`), f);
  }
  // coexistence with frr-k8s's CRD: applied over it, ours never prunes a field we do not list
  const objects: Record<string, unknown>[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o['type'] === 'object' && o['properties'] !== undefined) objects.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(c.spec.versions[0]?.schema.openAPIV3Schema.properties.spec);
  assert.ok(objects.length > 10);
  for (const o of objects) assert.equal(o['x-kubernetes-preserve-unknown-fields'], true, Object.keys(o['properties'] as object).join(','));
});

test('the manifest and chart ship the FRRConfiguration CRD, and the speaker may read FRRConfigurations', async () => {
  const { generate } = await import('../../../scripts/gen-manifests.ts');
  const files = generate();
  for (const f of ['config/manifests/metallb-ts.yaml', 'charts/metallb-ts/crds/crds.yaml']) {
    assert.match(files.get(f) ?? '', /name: frrconfigurations\.frrk8s\.metallb\.io/, f);
  }
  const rbac = parseAllDocuments(files.get('config/rbac/rbac.yaml') ?? '').map((d) => d.toJSON() as { kind: string; metadata: { name: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] });
  const speaker = rbac.find((d) => d.kind === 'Role' && d.metadata.name === 'speaker');
  const rule = speaker?.rules?.find((r) => r.apiGroups.includes('frrk8s.metallb.io') && r.resources.includes('frrconfigurations'));
  assert.deepEqual(rule?.verbs, ['get', 'list', 'watch']);
});

test('an unnumbered neighbor (interface) is a session over that interface, merged with a BGPPeer of the same interface; address and interface are exclusive', () => {
  const set = load(
    peer('tor', { myASN: 64512, peerASN: 64513, interface: 'eth0' }),
    frr('unnum', router([{ interface: 'eth0', asn: 64513, toReceive: { allowed: { mode: 'all' } } }, { interface: 'eth1', asn: 64514 }])),
  );
  assert.deepEqual(set.errors.map(line), []);
  assert.deepEqual(set.warnings.map(line), []);
  const byName = new Map((set.config?.peers ?? []).map((p) => [p.name, p]));
  assert.deepEqual([...byName.keys()].sort(), ['tor', 'unnum-eth1']);
  assert.equal(byName.get('tor')?.interface, 'eth0');
  assert.equal(byName.get('tor')?.address, undefined);
  assert.equal(receivePolicyFor(byName.get('tor')!, {})?.mode, 'all', 'the FRRConfiguration neighbor on eth0 is the BGPPeer\'s session');
  assert.equal(byName.get('unnum-eth1')?.interface, 'eth1');
  const src = load(frr('src', router([{ interface: 'eth2', asn: 64513, sourceaddress: '192.0.2.5' }])));
  assert.deepEqual(src.warnings.map((d) => `${d.field}: ${d.message}`), ['spec.bgp.routers[0].neighbors[0].sourceaddress: ignored for an unnumbered neighbor: the session runs from the IPv6 link-local address of interface eth2']);
  const both = load(frr('bad', router([{ interface: 'eth0', address: '192.0.2.1', asn: 64513 }])));
  assert.deepEqual(both.errors.map((d) => `${d.field}: ${d.message}`), ['spec.bgp.routers[0].neighbors[0].interface: only one of address and interface may be set']);
});

test('fields of current frr-k8s: localASN is the AS this eBGP neighbor sees (iBGP rejected, as frr-k8s does); EVPN, nextHop are warned about', () => {
  const set = load(
    peer('tor', ebgpPeer()),
    frr('new', {
      bgp: {
        routers: [
          {
            asn: 64512,
            id: '10.0.0.1',
            evpn: { advertiseVNIs: 'All', l2vnis: [{ vni: 100, rd: '1:1' }] },
            neighbors: [
              { address: '192.0.2.7', asn: 65000, localASN: 65100, addressFamilies: ['unicast'] },
              { address: '192.0.2.8', asn: 65000, addressFamilies: ['unicast', 'evpn'], toAdvertise: { nextHop: { ipv4: '192.0.2.99' } } },
              { address: '192.0.2.9', asn: 65000, addressFamilies: ['evpn'] },
              { address: '192.0.2.1', asn: 64513, localASN: 65100 },
            ],
          },
          { asn: 64600, neighbors: [{ address: '192.0.2.10', asn: 64600, localASN: 65100 }] },
        ],
      },
    }),
  );
  assert.deepEqual(set.errors.map((d) => `${d.field}: ${d.message}`), [
    'spec.bgp.routers[0].neighbors[3].localASN: 65100 differs from the router ASN of BGPPeer/tor: the same router ASN and neighbor address are one session',
    'spec.bgp.routers[1].neighbors[0].localASN: localASN is only valid for eBGP neighbors; this one is iBGP (same AS as the router)',
  ]);
  assert.deepEqual(set.warnings.map((d) => `${d.field}: ${d.message}`), [
    'spec.bgp.routers[0].evpn: metallb-ts does not speak L2VPN EVPN (its BGP speaker carries IPv4/IPv6 unicast); the EVPN configuration is ignored',
    'spec.bgp.routers[0].neighbors[1].addressFamilies: metallb-ts does not speak L2VPN EVPN (its BGP speaker carries IPv4/IPv6 unicast): the session carries unicast only',
    'spec.bgp.routers[0].neighbors[1].toAdvertise: metallb-ts announces to this neighbor what the BGPAdvertisements say; toAdvertise is not used (ignored)',
    'spec.bgp.routers[0].neighbors[2].addressFamilies: metallb-ts does not speak L2VPN EVPN (its BGP speaker carries IPv4/IPv6 unicast): this EVPN-only neighbor is ignored (no session)',
  ]);
  // without the contradicting neighbors: the sessions that exist, with the AS each presents
  const ok = load(frr('new', router([{ address: '192.0.2.7', asn: 65000, localASN: 65100 }, { address: '192.0.2.9', asn: 65000, addressFamilies: ['evpn'] }], { id: '10.0.0.1' })));
  assert.deepEqual(ok.errors.map(line), []);
  const peers = ok.config?.peers ?? [];
  assert.deepEqual(peers.map((p) => [p.name, p.myASN, p.localASN, p.routerID ? 'id' : 'no id']), [['new-192-0-2-7', 64512, 65100, 'id']]);
});

test('what frr-k8s\'s CRD accepts is not refused by ours: toAdvertise entries without all fields; a toReceive prefix without prefix is a precise error at config time', () => {
  const set = load(frr('loose', router([{ address: '192.0.2.7', asn: 65000, toAdvertise: { withLocalPref: [{ localPref: 10 }], withCommunity: [{ prefixes: ['10.0.0.0/24'] }] }, toReceive: { allowed: { prefixes: [{ le: 32 }] } } }])));
  assert.deepEqual(set.errors.map((d) => `${d.field}: ${d.message}`), ['spec.bgp.routers[0].neighbors[0].toReceive.allowed.prefixes[0].prefix: required field is missing']);
  assert.deepEqual(set.warnings.map((d) => d.field), ['spec.bgp.routers[0].neighbors[0].toAdvertise']);
  const tooMany = load(frr('many', { bgp: { routers: Array.from({ length: 51 }, (_, i) => ({ asn: 64512, vrf: `v${i}` })) } }));
  assert.deepEqual(tooMany.errors.map((d) => `${d.field}: ${d.message}`), ['spec.bgp.routers: must have at most 50 entries']);
});

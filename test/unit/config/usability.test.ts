// Error usability: realistic mistakes each give ONE precise line (with a suggestion where one is
// obvious), and a schema error in one field does not hide the independent errors of the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfd, bgpAdv, community, configMap, ebgpPeer, l2Adv, load, peer, pool } from './helpers.ts';
import { closest } from '../../../src/config/issues.ts';
import { parseInputs } from '../../../src/config/load.ts';
import { runCli } from '../helpers/cli.ts';

const lines = (set: ReturnType<typeof load>): string[] => set.errors.map((e) => `${e.kind}/${e.name}: ${e.field}: ${e.message}`);

interface Case {
  t: string;
  docs: string[];
  /** The exact, complete list of error lines expected (kind/name: field: message). */
  want: string[];
}

const P = pool('p', ['10.0.0.0/24']);

const cases: Case[] = [
  {
    t: 'typo in a required field: one line with a suggestion, no "addresses missing"',
    docs: [pool('p', [], {}).replace('addresses: []', 'adresses:\n    - 10.0.0.0/24')],
    want: ['IPAddressPool/p: spec.adresses: unknown field; did you mean "addresses"?'],
  },
  {
    t: 'field written the legacy way in a CRD',
    docs: [peer('r', { myASN: 64512, 'peer-asn': 64513, peerAddress: '192.0.2.1' })],
    want: ['BGPPeer/r: spec.peer-asn: unknown field; did you mean "peerASN"?'],
  },
  {
    t: 'typo in a selector field',
    docs: [P, l2Adv('l', { nodeSelectors: [{ matchLabel: { a: 'b' } }] })],
    want: ['L2Advertisement/l: spec.nodeSelectors[0].matchLabel: unknown field; did you mean "matchLabels"?'],
  },
  {
    t: 'unknown field without a close match lists the known ones',
    docs: [P, l2Adv('l', { color: 'blue' })],
    want: ['L2Advertisement/l: spec.color: unknown field (known fields: ipAddressPools, ipAddressPoolSelectors, serviceSelectors, nodeSelectors, interfaces, preferredNodeSelectors)'],
  },
  {
    t: 'spec fields at the top level (indentation)',
    docs: ['apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\naddresses:\n- 10.0.0.0/24\n'],
    want: ['IPAddressPool/p: spec: required field is missing; "addresses" is at the top level: indent it under "spec:"'],
  },
  {
    t: 'one spec field outdented next to a spec',
    docs: ['apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n  addresses:\n  - 10.0.0.0/24\nautoAssign: false\n'],
    want: ['IPAddressPool/p: autoAssign: belongs under "spec:" (check the indentation)'],
  },
  {
    t: 'misspelt top-level field',
    docs: ['apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetdata:\n  name: p\nspec:\n  addresses: [10.0.0.0/24]\n'],
    want: ['IPAddressPool/: metadata: required field is missing'],
  },
  {
    t: 'peerASN as a quoted number',
    docs: [peer('r', { myASN: 64512, peerASN: '64513', peerAddress: '192.0.2.1' })],
    want: ['BGPPeer/r: spec.peerASN: must be an integer, got string "64513" (remove the quotes)'],
  },
  {
    t: 'holdTime as a bare number',
    docs: [peer('r', ebgpPeer({ holdTime: 90 }))],
    want: ['BGPPeer/r: spec.holdTime: must be a duration string such as "90s" or "1m30s", got integer 90'],
  },
  {
    t: 'boolean as a quoted string',
    docs: [pool('p', ['10.0.0.0/24'], { autoAssign: 'false' })],
    want: ['IPAddressPool/p: spec.autoAssign: must be a boolean, got string "false" (write false without quotes)'],
  },
  {
    t: 'misspelt kind',
    docs: [pool('p', ['10.0.0.0/24']).replace('kind: IPAddressPool', 'kind: IPAdressPool')],
    want: ['IPAdressPool/p: kind: unknown kind "IPAdressPool"; did you mean "IPAddressPool"?'],
  },
  {
    t: 'misspelt community alias',
    docs: [P, community('c', [{ name: 'no-advertise', value: '65535:65282' }]), bgpAdv('a', { communities: ['no-advertse'] })],
    want: ['BGPAdvertisement/a: spec.communities[0]: unknown community alias "no-advertse"; did you mean "no-advertise"?'],
  },
  {
    t: 'misspelt bfdProfile reference',
    docs: [bfd('fast', {}), peer('r', ebgpPeer({ bfdProfile: 'fsat' }))],
    want: ['BGPPeer/r: spec.bfdProfile: unknown BFDProfile "fsat"; did you mean "fast"?'],
  },
  // ---- a schema error no longer hides the other fields' errors
  {
    t: 'bad CIDR and autoAssign "yes" are both reported',
    docs: [pool('p', ['10.0.0.0/33'], { autoAssign: 'yes' })],
    want: ['IPAddressPool/p: spec.addresses[0]: invalid CIDR "10.0.0.0/33"', 'IPAddressPool/p: spec.autoAssign: must be a boolean (true or false), got string "yes"'],
  },
  {
    t: 'peerASN as string does not also claim "peerASN or dynamicASN required", but a bad address is reported',
    docs: [peer('r', { myASN: 64512, peerASN: '64513', peerAddress: '192.0.2.300' })],
    want: ['BGPPeer/r: spec.peerAddress: invalid IP address "192.0.2.300"', 'BGPPeer/r: spec.peerASN: must be an integer, got string "64513" (remove the quotes)'],
  },
  {
    t: 'aggregationLength out of range plus malformed community',
    docs: [P, bgpAdv('a', { ipAddressPools: ['nope'], aggregationLength: 33, communities: ['1:70000'] })],
    want: [
      'BGPAdvertisement/a: spec.aggregationLength: must be <= 32, got 33',
      'BGPAdvertisement/a: spec.communities[0]: malformed community "1:70000": both parts must be integers 0..65535',
    ],
  },
  {
    t: 'a damaged ipAddressPools does not make the advertisement apply to every pool',
    docs: [pool('p', ['10.0.0.0/24']), pool('q', ['10.1.0.0/28']), bgpAdv('a', { ipAddressPools: 'p', aggregationLength: 24 })],
    want: ['BGPAdvertisement/a: spec.ipAddressPools: must be a list, got string "p" (write it as a list: ["p"])'],
  },
  {
    t: 'references to an object dropped for schema errors are not reported again',
    docs: [pool('p', '10.0.0.0/24' as unknown as unknown[]), bgpAdv('a', { ipAddressPools: ['p'] }), l2Adv('l', { ipAddressPools: ['p'] })],
    want: ['IPAddressPool/p: spec.addresses: must be a list, got string "10.0.0.0/24" (write it as a list: ["10.0.0.0/24"])'],
  },
  {
    t: 'damaged BFD profile still defines its name; other BFD fields are checked',
    docs: [bfd('b', { detectMultiplier: 'three' }), peer('r', ebgpPeer({ bfdProfile: 'b' }))],
    want: ['BFDProfile/b: spec.detectMultiplier: must be a number, got string "three"'],
  },
  {
    t: 'a damaged peer is not compared with its neighbours (no myASN/routerID noise)',
    docs: [peer('a', ebgpPeer({ routerID: '10.0.0.1' })), peer('b', ebgpPeer({ peerAddress: '192.0.2.2', nodeSelectors: 'x' }))],
    want: ['BGPPeer/b: spec.nodeSelectors: must be a list, got string "x"'],
  },
  {
    t: 'a selector written as an object instead of a list',
    docs: [P, l2Adv('l', { nodeSelectors: { matchLabels: { a: 'b' } } })],
    want: ['L2Advertisement/l: spec.nodeSelectors: must be a list, got object (start each entry with "- ")'],
  },
  {
    t: 'a v1beta2-only field in a v1beta1 BGPPeer names the apiVersion it needs (and nothing else)',
    docs: [peer('r', { myASN: 64512, dynamicASN: 'external', peerAddress: '192.0.2.1' }, 'metallb.io/v1beta1')],
    want: ['BGPPeer/r: spec.dynamicASN: not a field of metallb.io/v1beta1 BGPPeer; it needs apiVersion: metallb.io/v1beta2'],
  },
  {
    t: 'interface in a v1beta1 BGPPeer: no "peerAddress or interface required" on top',
    docs: [peer('r', { myASN: 64512, peerASN: 64513, interface: 'eth0' }, 'metallb.io/v1beta1')],
    want: ['BGPPeer/r: spec.interface: not a field of metallb.io/v1beta1 BGPPeer; it needs apiVersion: metallb.io/v1beta2'],
  },
  {
    t: 'legacy ConfigMap: protocol missing',
    docs: [configMap('address-pools:\n- name: a\n  addresses: [10.0.0.0/24]\n')],
    want: ['ConfigMap/config: data.config.address-pools[0].protocol: required field is missing (one of "bgp", "layer2")'],
  },
  {
    t: 'a pool with an unsupported apiVersion is not also an "unknown IPAddressPool" for its advertisement',
    docs: [pool('p', ['10.0.0.0/24']).replace('metallb.io/v1beta1', 'metallb.io/v1'), l2Adv('l', { ipAddressPools: ['p'] })],
    want: ['IPAddressPool/p: apiVersion: unsupported apiVersion "metallb.io/v1" for IPAddressPool (supported: metallb.io/v1beta1)'],
  },
  {
    t: 'a field of another kind (communities in an L2Advertisement)',
    docs: [P, l2Adv('l', { ipAddressPools: ['p'], communities: ['65535:65282'] })],
    want: ['L2Advertisement/l: spec.communities: unknown field; "communities" is a field of BGPAdvertisement, not of L2Advertisement'],
  },
  {
    t: 'legacy ConfigMap: typo gets a suggestion',
    docs: [configMap('address-pools:\n- name: a\n  protocol: layer2\n  adresses: [10.0.0.0/24]\n')],
    want: ['ConfigMap/config: data.config.address-pools[0].adresses: unknown field; did you mean "addresses"?'],
  },
  {
    t: 'legacy ConfigMap: a type error in one entry does not hide an invalid CIDR in another',
    docs: [configMap('peers:\n- my-asn: 64500\n  peer-asn: "64501"\n  peer-address: 10.0.0.1\naddress-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.0/33]\n')],
    want: [
      'ConfigMap/config: data.config.address-pools[0].addresses[0]: invalid CIDR "10.0.0.0/33"',
      'ConfigMap/config: data.config.peers[0].peer-asn: must be an integer, got string "64501" (remove the quotes)',
    ],
  },
  {
    t: 'legacy ConfigMap: damaged field of a pool, independent error in its advertisement',
    docs: [configMap('address-pools:\n- name: a\n  protocol: bgp\n  auto-assign: "no"\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - communities: [nope]\n')],
    want: [
      'ConfigMap/config: data.config.address-pools[0].auto-assign: must be a boolean (true or false), got string "no"',
      'ConfigMap/config: data.config.address-pools[0].bgp-advertisements[0].communities[0]: unknown community alias "nope"',
    ],
  },
  {
    t: 'legacy ConfigMap: a pool dropped for schema errors is not also reported as overlapping or missing',
    docs: [configMap('address-pools:\n- name: a\n  protocol: bgb\n  addresses: [10.0.0.0/24]\n- name: b\n  protocol: layer2\n  addresses: [10.1.0.0/24]\n'), l2Adv('l', { ipAddressPools: ['a', 'b'] })],
    want: ['ConfigMap/config: data.config.address-pools[0].protocol: must be one of "bgp", "layer2", got "bgb"'],
  },
  {
    t: 'legacy ConfigMap: layer2 pool with bgp-advertisements is reported, and the rest still checked',
    docs: [configMap('address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - localpref: 1\n- name: b\n  protocol: layer2\n  addresses: [10.0.0.0/25]\n')],
    want: [
      'ConfigMap/config: data.config.address-pools[0].bgp-advertisements: only allowed with protocol bgp',
      'ConfigMap/config: data.config.address-pools[1].addresses[0]: "10.0.0.0/25" overlaps "10.0.0.0/24" of IPAddressPool/a (t.yaml:11)',
    ],
  },
];

for (const c of cases) {
  test(`usability: ${c.t}`, () => {
    const set = load(...c.docs);
    assert.equal(set.config, undefined);
    assert.deepEqual(lines(set).sort(), [...c.want].sort());
  });
}

test('closest: case/dash-insensitive match, small edits, nothing for unrelated words', async () => {
  assert.equal(closest('peer-asn', ['myASN', 'peerASN']), 'peerASN');
  assert.equal(closest('PEERADDRESS', ['peerAddress', 'peerPort']), 'peerAddress');
  assert.equal(closest('adresses', ['addresses', 'autoAssign']), 'addresses');
  assert.equal(closest('color', ['addresses', 'autoAssign']), undefined);
  assert.equal(closest('x', ['y']), 'y'); // one edit on a one-letter word
  assert.equal(closest('ab', ['zz']), undefined);
});

test('validate CLI prints one line per realistic mistake', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'mlbts-usab-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), pool('p', ['10.0.0.0/24']));
    writeFileSync(join(dir, 'b.yaml'), pool('q', ['10.0.0.128/25']));
    const r = await runCli('validate', '-f', dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const errs = r.stderr.split('\n').filter((l) => l.includes(': spec.'));
    assert.equal(errs.length, 1, r.stdout + r.stderr);
    assert.match(errs[0] ?? '', /b\.yaml:7: IPAddressPool\/q: spec\.addresses\[0\]: "10\.0\.0\.128\/25" overlaps "10\.0\.0\.0\/24" of IPAddressPool\/p \(.*a\.yaml:7\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two objects without a "---" between them: the duplicate-key error says so', async () => {
  const text = pool('a', ['10.0.0.0/24']) + l2Adv('l', {});
  const set = parseInputs([{ file: 'x.yaml', text }]);
  assert.equal(set.errors.length, 1);
  assert.equal(set.errors[0]?.line, 8);
  assert.equal(set.errors[0]?.message, 'invalid YAML: Map keys must be unique (a new object starts here: separate documents with a "---" line)');
  // an ordinary duplicate key gets no such hint
  const dup = parseInputs([{ file: 'y.yaml', text: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  name: t\n' }]);
  assert.equal(dup.errors[0]?.message, 'invalid YAML: Map keys must be unique');
});

// Table-driven corpus of invalid configurations: each must fail with a Diagnostic at the exact
// kind/name/field (and line where given), and must not produce a Config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfd, bgpAdv, community, configMap, doc, ebgpPeer, l2Adv, load, peer, pool } from './helpers.ts';

interface Case {
  t: string;
  docs: string[];
  kind: string;
  name: string;
  field: string;
  line?: number;
  msg?: RegExp;
}

const P = pool('p', ['10.0.0.0/24']);
const sel = (operator: string, values?: string[]) => [{ matchExpressions: [{ key: 'k', operator, ...(values ? { values } : {}) }] }];

const cases: Case[] = [
  // ---- IPAddressPool
  { t: 'pool without name', docs: [doc('IPAddressPool', undefined, { addresses: ['10.0.0.0/24'] })], kind: 'IPAddressPool', name: '', field: 'metadata.name', msg: /required/ },
  { t: 'pool without spec', docs: [doc('IPAddressPool', 'p', undefined)], kind: 'IPAddressPool', name: 'p', field: 'spec', msg: /required/ },
  { t: 'pool with empty addresses', docs: [pool('p', [])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses', msg: /at least one/ },
  { t: 'pool without addresses', docs: [doc('IPAddressPool', 'p', { autoAssign: true })], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses', msg: /required/ },
  { t: 'prefix length 33', docs: [pool('p', ['10.0.0.0/33'])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', msg: /invalid CIDR/ },
  { t: 'range start after end', docs: [pool('p', ['10.0.0.0/24', '10.1.0.9-10.1.0.1'])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[1]', msg: /start is after end/ },
  { t: 'short IPv4 "10.1"', docs: [pool('p', ['10.1'])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]' },
  { t: 'octal-looking IPv4', docs: [pool('p', ['010.0.0.1/32'])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]' },
  { t: 'IPv6 zone id', docs: [pool('p', ['fe80::1%eth0/128'])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]' },
  { t: 'mixed family range', docs: [pool('p', ['10.0.0.1-fd00::1'])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', msg: /mixes/ },
  { t: 'address is a number', docs: [pool('p', [10])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', msg: /10 is not an IP address/ },
  { t: 'single address without prefix length (as MetalLB)', docs: [pool('one', ['10.2.0.7'])], kind: 'IPAddressPool', name: 'one', field: 'spec.addresses[0]', msg: /write 10\.2\.0\.7\/32/ },
  { t: 'overlap across pools', docs: [P, pool('q', ['10.0.0.128/25'])], kind: 'IPAddressPool', name: 'q', field: 'spec.addresses[0]', msg: /overlaps .*IPAddressPool\/p/ },
  { t: 'overlap within a pool', docs: [pool('p', ['10.0.0.0/24', '10.0.0.10-10.0.0.20'])], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[1]', msg: /overlaps/ },
  { t: 'IPv6 overlap across pools', docs: [pool('a', ['fd00::/64']), pool('b', ['fd00::1-fd00::9'])], kind: 'IPAddressPool', name: 'b', field: 'spec.addresses[0]', msg: /overlaps/ },
  { t: 'duplicate pool names', docs: [P, pool('p', ['10.9.0.0/24'])], kind: 'IPAddressPool', name: 'p', field: 'metadata.name', line: 12, msg: /duplicate/ },
  { t: 'autoAssign as string', docs: [pool('p', ['10.0.0.0/24'], { autoAssign: 'yes' })], kind: 'IPAddressPool', name: 'p', field: 'spec.autoAssign', msg: /boolean/ },
  { t: 'unknown spec field', docs: [pool('p', ['10.0.0.0/24'], { adresses: ['x'] })], kind: 'IPAddressPool', name: 'p', field: 'spec.adresses', msg: /unknown field/ },
  { t: 'priority as string', docs: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { priority: 'high' } })], kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.priority' },
  { t: 'duplicate allocation namespace', docs: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { namespaces: ['a', 'a'] } })], kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.namespaces[1]', msg: /duplicate/ },
  { t: 'bad namespaceSelector operator', docs: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { namespaceSelectors: sel('Equals', ['x']) } })], kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].operator', msg: /one of/ },
  { t: 'serviceSelector In without values', docs: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { serviceSelectors: sel('In') } })], kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values', msg: /at least one value/ },
  { t: 'labels not strings', docs: [doc('IPAddressPool', 'p', { addresses: ['10.0.0.0/24'] }, 'metallb.io/v1beta1', { labels: { a: 1 } })], kind: 'IPAddressPool', name: 'p', field: 'metadata.labels' },
  { t: 'unsupported apiVersion', docs: [doc('IPAddressPool', 'p', { addresses: ['10.0.0.0/24'] }, 'metallb.io/v1alpha1')], kind: 'IPAddressPool', name: 'p', field: 'apiVersion', msg: /unsupported/ },
  { t: 'IPAddressPool has no v1beta2', docs: [doc('IPAddressPool', 'p', { addresses: ['10.0.0.0/24'] }, 'metallb.io/v1beta2')], kind: 'IPAddressPool', name: 'p', field: 'apiVersion' },
  { t: 'missing kind', docs: ['apiVersion: metallb.io/v1beta1\nmetadata:\n  name: x\n'], kind: '', name: 'x', field: 'kind', line: 1, msg: /required/ },
  { t: 'unknown kind', docs: [doc('IPPool', 'x', {})], kind: 'IPPool', name: 'x', field: 'kind', msg: /unknown kind/ },
  { t: 'spec is a list', docs: [doc('IPAddressPool', 'p', ['10.0.0.0/24'])], kind: 'IPAddressPool', name: 'p', field: 'spec', msg: /object/ },
  // ---- BGPPeer
  { t: 'peer without myASN', docs: [peer('r', { peerASN: 1, peerAddress: '192.0.2.1' })], kind: 'BGPPeer', name: 'r', field: 'spec.myASN', msg: /required/ },
  { t: 'peer without peerASN/dynamicASN', docs: [peer('r', { myASN: 1, peerAddress: '192.0.2.1' })], kind: 'BGPPeer', name: 'r', field: 'spec.peerASN', msg: /one of/ },
  { t: 'peer with peerASN and dynamicASN', docs: [peer('r', ebgpPeer({ dynamicASN: 'external' }))], kind: 'BGPPeer', name: 'r', field: 'spec.dynamicASN', msg: /only one/ },
  { t: 'peer without address/interface', docs: [peer('r', { myASN: 1, peerASN: 2 })], kind: 'BGPPeer', name: 'r', field: 'spec.peerAddress', msg: /one of/ },
  { t: 'peer with address and interface', docs: [peer('r', ebgpPeer({ interface: 'eth0' }))], kind: 'BGPPeer', name: 'r', field: 'spec.interface', msg: /only one/ },
  { t: 'invalid peerAddress', docs: [peer('r', ebgpPeer({ peerAddress: '192.0.2' }))], kind: 'BGPPeer', name: 'r', field: 'spec.peerAddress', msg: /invalid IP/ },
  { t: 'peerAddress with zone', docs: [peer('r', ebgpPeer({ peerAddress: 'fe80::1%eth0' }))], kind: 'BGPPeer', name: 'r', field: 'spec.peerAddress' },
  { t: 'peerPort 0', docs: [peer('r', ebgpPeer({ peerPort: 0 }))], kind: 'BGPPeer', name: 'r', field: 'spec.peerPort', msg: />= 1/ },
  { t: 'peerPort 16385', docs: [peer('r', ebgpPeer({ peerPort: 16385 }))], kind: 'BGPPeer', name: 'r', field: 'spec.peerPort', msg: /<= 16384/ },
  { t: 'myASN above uint32', docs: [peer('r', ebgpPeer({ myASN: 4294967296 }))], kind: 'BGPPeer', name: 'r', field: 'spec.myASN' },
  { t: 'negative myASN', docs: [peer('r', ebgpPeer({ myASN: -1 }))], kind: 'BGPPeer', name: 'r', field: 'spec.myASN' },
  { t: 'ebgpMultiHop on iBGP', docs: [peer('r', ebgpPeer({ peerASN: 64512, ebgpMultiHop: true }))], kind: 'BGPPeer', name: 'r', field: 'spec.ebgpMultiHop', msg: /eBGP/ },
  { t: 'ebgpMultiHop with dynamic internal', docs: [peer('r', { myASN: 1, dynamicASN: 'internal', peerAddress: '192.0.2.1', ebgpMultiHop: true })], kind: 'BGPPeer', name: 'r', field: 'spec.ebgpMultiHop' },
  { t: 'password with passwordSecret', docs: [peer('r', ebgpPeer({ password: 'x', passwordSecret: { name: 's' } }))], kind: 'BGPPeer', name: 'r', field: 'spec.passwordSecret', msg: /only one/ },
  { t: 'unknown bfdProfile', docs: [peer('r', ebgpPeer({ bfdProfile: 'nope' }))], kind: 'BGPPeer', name: 'r', field: 'spec.bfdProfile', msg: /unknown BFDProfile/ },
  { t: 'holdTime below 3s', docs: [peer('r', ebgpPeer({ holdTime: '2s' }))], kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', msg: /at least 3s/ },
  { t: 'holdTime without unit', docs: [peer('r', ebgpPeer({ holdTime: '90' }))], kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', msg: /invalid duration/ },
  { t: 'keepalive above hold', docs: [peer('r', ebgpPeer({ holdTime: '30s', keepaliveTime: '60s' }))], kind: 'BGPPeer', name: 'r', field: 'spec.keepaliveTime', msg: /must not exceed/ },
  { t: 'keepalive garbage', docs: [peer('r', ebgpPeer({ keepaliveTime: 'soon' }))], kind: 'BGPPeer', name: 'r', field: 'spec.keepaliveTime' },
  { t: 'holdTime 2500ms truncates to 2s (< 3s)', docs: [peer('r', ebgpPeer({ holdTime: '2500ms' }))], kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', msg: /hold time 2s must be 0 or at least 3s/ },
  { t: 'holdTime as number', docs: [peer('r', ebgpPeer({ holdTime: 90 }))], kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', msg: /string/ },
  { t: 'connectTime below 1s', docs: [peer('r', ebgpPeer({ connectTime: '500ms' }))], kind: 'BGPPeer', name: 'r', field: 'spec.connectTime' },
  { t: 'IPv6 routerID', docs: [peer('r', ebgpPeer({ routerID: 'fd00::1' }))], kind: 'BGPPeer', name: 'r', field: 'spec.routerID', msg: /IPv4/ },
  { t: 'zero routerID', docs: [peer('r', ebgpPeer({ routerID: '0.0.0.0' }))], kind: 'BGPPeer', name: 'r', field: 'spec.routerID' },
  { t: 'garbage routerID', docs: [peer('r', ebgpPeer({ routerID: 'router1' }))], kind: 'BGPPeer', name: 'r', field: 'spec.routerID' },
  { t: 'bad dynamicASN', docs: [peer('r', { myASN: 1, dynamicASN: 'both', peerAddress: '192.0.2.1' })], kind: 'BGPPeer', name: 'r', field: 'spec.dynamicASN', msg: /one of/ },
  { t: 'v1beta1 peer with dynamicASN', docs: [peer('r', { myASN: 1, dynamicASN: 'external', peerAddress: '192.0.2.1' }, 'metallb.io/v1beta1')], kind: 'BGPPeer', name: 'r', field: 'spec.dynamicASN', msg: /not a field of metallb.io\/v1beta1 BGPPeer; it needs apiVersion: metallb.io\/v1beta2/ },
  { t: 'invalid sourceAddress', docs: [peer('r', ebgpPeer({ sourceAddress: '1.2.3.4.5' }))], kind: 'BGPPeer', name: 'r', field: 'spec.sourceAddress' },
  { t: 'sourceAddress family mismatch', docs: [peer('r', ebgpPeer({ sourceAddress: 'fd00::2' }))], kind: 'BGPPeer', name: 'r', field: 'spec.sourceAddress', msg: /IPv6 source/ },
  { t: 'peers on same nodes with different myASN', docs: [peer('a', ebgpPeer()), peer('b', ebgpPeer({ myASN: 64600, peerAddress: '192.0.2.2' }))], kind: 'BGPPeer', name: 'b', field: 'spec.myASN', msg: /differs/ },
  { t: 'peers on same nodes with different routerID', docs: [peer('a', ebgpPeer({ routerID: '10.0.0.1' })), peer('b', ebgpPeer({ routerID: '10.0.0.2', peerAddress: '192.0.2.2' }))], kind: 'BGPPeer', name: 'b', field: 'spec.routerID', msg: /differs/ },
  { t: 'peers with same address and port', docs: [peer('a', ebgpPeer()), peer('b', ebgpPeer())], kind: 'BGPPeer', name: 'b', field: 'spec.peerAddress', msg: /same address/ },
  { t: 'peer nodeSelector bad operator', docs: [peer('r', ebgpPeer({ nodeSelectors: sel('Has') }))], kind: 'BGPPeer', name: 'r', field: 'spec.nodeSelectors[0].matchExpressions[0].operator' },
  { t: 'Exists with values', docs: [peer('r', ebgpPeer({ nodeSelectors: sel('Exists', ['x']) }))], kind: 'BGPPeer', name: 'r', field: 'spec.nodeSelectors[0].matchExpressions[0].values', msg: /takes no values/ },
  { t: 'duplicate node selector', docs: [peer('r', ebgpPeer({ nodeSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] }))], kind: 'BGPPeer', name: 'r', field: 'spec.nodeSelectors[1]', msg: /duplicate/ },
  { t: 'invalid label key', docs: [peer('r', ebgpPeer({ nodeSelectors: [{ matchLabels: { 'bad key': 'b' } }] }))], kind: 'BGPPeer', name: 'r', field: 'spec.nodeSelectors[0].matchLabels["bad key"]', msg: /invalid label key/ },
  { t: 'invalid label value', docs: [peer('r', ebgpPeer({ nodeSelectors: [{ matchLabels: { a: 'x y' } }] }))], kind: 'BGPPeer', name: 'r', field: 'spec.nodeSelectors[0].matchLabels.a', msg: /invalid label value/ },
  { t: 'duplicate expression value', docs: [peer('r', ebgpPeer({ nodeSelectors: sel('In', ['x', 'x']) }))], kind: 'BGPPeer', name: 'r', field: 'spec.nodeSelectors[0].matchExpressions[0].values[1]', msg: /duplicate/ },
  { t: 'duplicate expression', docs: [peer('r', ebgpPeer({ nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }, { key: 'k', operator: 'Exists' }] }] }))], kind: 'BGPPeer', name: 'r', field: 'spec.nodeSelectors[0].matchExpressions[1]', msg: /duplicate/ },
  { t: 'duplicate peer names', docs: [peer('r', ebgpPeer()), peer('r', ebgpPeer({ peerAddress: '192.0.2.9' }))], kind: 'BGPPeer', name: 'r', field: 'metadata.name' },
  { t: 'passwordSecret without name', docs: [peer('r', ebgpPeer({ passwordSecret: { namespace: 'x' } }))], kind: 'BGPPeer', name: 'r', field: 'spec.passwordSecret.name', msg: /required/ },
  { t: 'localASN 0', docs: [peer('r', ebgpPeer({ localASN: 0 }))], kind: 'BGPPeer', name: 'r', field: 'spec.localASN' },
  { t: 'empty interface', docs: [peer('r', { myASN: 1, peerASN: 2, interface: '' })], kind: 'BGPPeer', name: 'r', field: 'spec.interface' },
  { t: 'peer without metadata', docs: ['apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nspec: {}\n'], kind: 'BGPPeer', name: '', field: 'metadata', line: 1 },
  // ---- BGPAdvertisement
  { t: 'adv: duplicate pool', docs: [P, bgpAdv('a', { ipAddressPools: ['p', 'p'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.ipAddressPools[1]', msg: /duplicate/ },
  { t: 'aggregationLength 33', docs: [P, bgpAdv('a', { aggregationLength: 33 })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength', msg: /<= 32/ },
  { t: 'aggregationLengthV6 129', docs: [P, bgpAdv('a', { aggregationLengthV6: 129 })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLengthV6', msg: /<= 128/ },
  { t: 'aggregation shorter than pool prefix', docs: [pool('p', ['10.0.0.0/26']), bgpAdv('a', { ipAddressPools: ['p'], aggregationLength: 24 })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength', msg: /10\.0\.0\.0\/26/ },
  { t: 'aggregation shorter than range pieces', docs: [pool('p', ['10.0.0.1-10.0.0.6']), bgpAdv('a', { aggregationLength: 30 })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength' },
  { t: 'v6 aggregation shorter than pool', docs: [pool('p', ['fd00::/120']), bgpAdv('a', { aggregationLengthV6: 64 })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLengthV6' },
  { t: 'aggregation with serviceSelectors', docs: [pool('p', ['10.0.0.0/24']), bgpAdv('a', { aggregationLength: 24, serviceSelectors: [{ matchLabels: { a: 'b' } }] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength', msg: /serviceSelectors/ },
  { t: 'conflicting localPref', docs: [P, bgpAdv('a', { localPref: 100 }), bgpAdv('b', { localPref: 200 })], kind: 'BGPAdvertisement', name: 'b', field: 'spec.localPref', msg: /differs/ },
  { t: 'community part > 65535', docs: [P, bgpAdv('a', { communities: ['65536:1'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[0]', msg: /malformed/ },
  { t: 'large community with 2 parts', docs: [P, bgpAdv('a', { communities: ['large:1:2'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[0]', msg: /large/ },
  { t: 'large community part > uint32', docs: [P, bgpAdv('a', { communities: ['large:1:2:4294967296'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[0]' },
  { t: 'community with 3 parts', docs: [P, bgpAdv('a', { communities: ['1:2:3'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[0]' },
  { t: 'unknown community alias', docs: [P, bgpAdv('a', { communities: ['vpn-only'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[0]', msg: /unknown community alias/ },
  { t: 'duplicate community', docs: [P, bgpAdv('a', { communities: ['1:1', '1:1'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[1]', msg: /duplicate/ },
  { t: 'adv: duplicate peer', docs: [P, peer('r', ebgpPeer()), bgpAdv('a', { peers: ['r', 'r'] })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.peers[1]' },
  { t: 'localPref vs localpref', docs: [P, bgpAdv('a', { localPref: 1, localpref: 2 })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.localpref', msg: /conflicts/ },
  { t: 'negative localPref', docs: [P, bgpAdv('a', { localPref: -5 })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.localPref' },
  { t: 'pool selector bad operator', docs: [P, bgpAdv('a', { ipAddressPoolSelectors: sel('in', ['x']) })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.ipAddressPoolSelectors[0].matchExpressions[0].operator' },
  { t: 'duplicate adv names', docs: [P, bgpAdv('a', {}), bgpAdv('a', {})], kind: 'BGPAdvertisement', name: 'a', field: 'metadata.name' },
  { t: 'serviceSelector NotIn without values', docs: [P, bgpAdv('a', { serviceSelectors: sel('NotIn', []) })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.serviceSelectors[0].matchExpressions[0].values' },
  { t: 'aggregationLength as string', docs: [P, bgpAdv('a', { aggregationLength: '24' })], kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength', msg: /must be an integer, got string "24" \(remove the quotes\)/ },
  // ---- L2Advertisement
  { t: 'l2: duplicate interface', docs: [P, l2Adv('l', { interfaces: ['eth0', 'eth0'] })], kind: 'L2Advertisement', name: 'l', field: 'spec.interfaces[1]' },
  { t: 'l2: weight 0', docs: [P, l2Adv('l', { preferredNodeSelectors: [{ weight: 0, preference: {} }] })], kind: 'L2Advertisement', name: 'l', field: 'spec.preferredNodeSelectors[0].weight' },
  { t: 'l2: weight 101', docs: [P, l2Adv('l', { preferredNodeSelectors: [{ weight: 101, preference: {} }] })], kind: 'L2Advertisement', name: 'l', field: 'spec.preferredNodeSelectors[0].weight' },
  { t: 'l2: preference bad operator', docs: [P, l2Adv('l', { preferredNodeSelectors: [{ weight: 5, preference: { matchExpressions: [{ key: 'k', operator: 'Gt' }] } }] })], kind: 'L2Advertisement', name: 'l', field: 'spec.preferredNodeSelectors[0].preference.matchExpressions[0].operator' },
  { t: 'l2: preference In without values', docs: [P, l2Adv('l', { preferredNodeSelectors: [{ weight: 5, preference: { matchExpressions: [{ key: 'k', operator: 'In' }] } }] })], kind: 'L2Advertisement', name: 'l', field: 'spec.preferredNodeSelectors[0].preference.matchExpressions[0].values' },
  { t: 'l2: typo interface', docs: [P, l2Adv('l', { interface: ['eth0'] })], kind: 'L2Advertisement', name: 'l', field: 'spec.interface', msg: /unknown field/ },
  { t: 'l2: empty interface name', docs: [P, l2Adv('l', { interfaces: [''] })], kind: 'L2Advertisement', name: 'l', field: 'spec.interfaces[0]' },
  // ---- Community
  { t: 'community value with 3 parts', docs: [community('c', [{ name: 'x', value: '1:2:3' }])], kind: 'Community', name: 'c', field: 'spec.communities[0].value' },
  { t: 'community value not a community', docs: [community('c', [{ name: 'x', value: 'foo' }])], kind: 'Community', name: 'c', field: 'spec.communities[0].value' },
  { t: 'duplicate alias across CRs', docs: [community('c', [{ name: 'x', value: '1:1' }]), community('d', [{ name: 'x', value: '1:2' }])], kind: 'Community', name: 'd', field: 'spec.communities[0].name', msg: /duplicate/ },
  { t: 'community without value', docs: [community('c', [{ name: 'x' }])], kind: 'Community', name: 'c', field: 'spec.communities[0].value', msg: /required/ },
  // ---- BFDProfile
  { t: 'detectMultiplier 1', docs: [bfd('b', { detectMultiplier: 1 })], kind: 'BFDProfile', name: 'b', field: 'spec.detectMultiplier' },
  { t: 'detectMultiplier 256', docs: [bfd('b', { detectMultiplier: 256 })], kind: 'BFDProfile', name: 'b', field: 'spec.detectMultiplier' },
  { t: 'receiveInterval 9', docs: [bfd('b', { receiveInterval: 9 })], kind: 'BFDProfile', name: 'b', field: 'spec.receiveInterval' },
  { t: 'transmitInterval 60001', docs: [bfd('b', { transmitInterval: 60001 })], kind: 'BFDProfile', name: 'b', field: 'spec.transmitInterval' },
  { t: 'echoInterval 5', docs: [bfd('b', { echoInterval: 5 })], kind: 'BFDProfile', name: 'b', field: 'spec.echoInterval' },
  { t: 'minimumTtl 0', docs: [bfd('b', { minimumTtl: 0 })], kind: 'BFDProfile', name: 'b', field: 'spec.minimumTtl' },
  { t: 'minimumTtl 255', docs: [bfd('b', { minimumTtl: 255 })], kind: 'BFDProfile', name: 'b', field: 'spec.minimumTtl' },
  { t: 'echoMode as string', docs: [bfd('b', { echoMode: 'on' })], kind: 'BFDProfile', name: 'b', field: 'spec.echoMode' },
  { t: 'duplicate BFD names', docs: [bfd('b', {}), bfd('b', {})], kind: 'BFDProfile', name: 'b', field: 'metadata.name' },
  // ---- legacy ConfigMap
  { t: 'legacy: pool without protocol', docs: [configMap('address-pools:\n- name: a\n  addresses: [10.0.0.0/24]\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[0].protocol', line: 9 },
  { t: 'legacy: bad protocol', docs: [configMap('address-pools:\n- name: a\n  protocol: bgp2\n  addresses: [10.0.0.0/24]\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[0].protocol', line: 10, msg: /one of/ },
  { t: 'legacy: bad address', docs: [configMap('address-pools:\n- name: a\n  protocol: bgp\n  addresses:\n  - 10.0.0.0/24\n  - 10.0.0.300/32\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[0].addresses[1]', line: 13 },
  { t: 'legacy: layer2 with bgp-advertisements', docs: [configMap('address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - localpref: 1\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[0].bgp-advertisements' },
  { t: 'legacy: peer without my-asn', docs: [configMap('peers:\n- peer-asn: 1\n  peer-address: 192.0.2.1\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.peers[0].my-asn' },
  { t: 'legacy: aggregation-length 33', docs: [configMap('address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - aggregation-length: 33\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[0].bgp-advertisements[0].aggregation-length', line: 13 },
  { t: 'legacy: aggregation shorter than pool', docs: [configMap('address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.0/28]\n  bgp-advertisements:\n  - aggregation-length: 24\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[0].bgp-advertisements[0].aggregation-length', line: 13 },
  { t: 'legacy: unknown community alias', docs: [configMap('address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - communities: [nope]\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[0].bgp-advertisements[0].communities[0]', msg: /unknown community alias/ },
  { t: 'legacy: malformed bgp-communities value', docs: [configMap('bgp-communities:\n  foo: 1-2\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.bgp-communities.foo', line: 9 },
  { t: 'legacy: unknown bfd-profile', docs: [configMap('peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-address: 192.0.2.1\n  bfd-profile: fast\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.peers[0].bfd-profile', line: 12 },
  { t: 'legacy: hold-time 1s', docs: [configMap('peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-address: 192.0.2.1\n  hold-time: 1s\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.peers[0].hold-time' },
  { t: 'legacy: unknown key', docs: [configMap('peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-adress: 192.0.2.1\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.peers[0].peer-adress', msg: /unknown field/ },
  { t: 'legacy: config not a string', docs: ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  config:\n    peers: []\n'], kind: 'ConfigMap', name: 'config', field: 'data.config', line: 7 },
  { t: 'legacy: config with broken YAML', docs: [configMap('peers:\n- my-asn: [1\n')], kind: 'ConfigMap', name: 'config', field: 'data.config', msg: /invalid YAML/ },
  { t: 'legacy bare: bad address', docs: ['address-pools:\n- name: a\n  protocol: layer2\n  addresses:\n  - 10.0.0.0/24x\n'], kind: 'LegacyConfig', name: '', field: 'address-pools[0].addresses[0]', line: 5 },
  { t: 'legacy: overlapping pools', docs: [configMap('address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: b\n  protocol: layer2\n  addresses: [10.0.0.7/32]\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[1].addresses[0]', msg: /overlaps/ },
  { t: 'legacy: duplicate pool names', docs: [configMap('address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: a\n  protocol: layer2\n  addresses: [10.1.0.0/24]\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.address-pools[1].name', line: 12 },
  { t: 'legacy: detect-multiplier 1', docs: [configMap('bfd-profiles:\n- name: b\n  detect-multiplier: 1\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.bfd-profiles[0].detect-multiplier' },
  { t: 'legacy: node-selectors bad operator', docs: [configMap('peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-address: 192.0.2.1\n  node-selectors:\n  - match-expressions:\n    - key: k\n      operator: Is\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.peers[0].node-selectors[0].match-expressions[0].operator' },
  { t: 'legacy: node-selectors In without values', docs: [configMap('peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-address: 192.0.2.1\n  node-selectors:\n  - match-expressions:\n    - key: k\n      operator: In\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.peers[0].node-selectors[0].match-expressions[0].values', line: 14 },
  { t: 'legacy: peer-address invalid', docs: [configMap('peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-address: 192.0.2.1/32\n')], kind: 'ConfigMap', name: 'config', field: 'data.config.peers[0].peer-address', line: 11 },
  // ---- cluster kinds and documents
  { t: 'Service with bad port', docs: ['apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: http\n'], kind: 'Service', name: 's', field: 'spec.ports[0].port', line: 7 },
  { t: 'Service without name', docs: ['apiVersion: v1\nkind: Service\nmetadata: {}\nspec: {}\n'], kind: 'Service', name: '', field: 'metadata.name' },
  { t: 'EndpointSlice endpoints not a list', docs: ['apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: e\nendpoints: 3\n'], kind: 'EndpointSlice', name: 'e', field: 'endpoints', line: 5 },
  { t: 'Secret data not strings', docs: ['apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: 5\n'], kind: 'Secret', name: 's', field: 'data.password', line: 6 },
  { t: 'error inside a kind: List item', docs: ['apiVersion: v1\nkind: List\nitems:\n- apiVersion: metallb.io/v1beta1\n  kind: IPAddressPool\n  metadata:\n    name: p\n  spec:\n    addresses:\n    - 10.0.0.0/24\n    - 10.0.0.0/99\n'], kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[1]', line: 11 },
  { t: 'document is a list', docs: ['- a\n- b\n'], kind: '', name: '', field: '', line: 1, msg: /must be an object/ },
];

test('the invalid corpus has at least 80 cases', () => {
  assert.ok(cases.length >= 80, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`invalid: ${c.t}`, () => {
    const set = load(...c.docs);
    assert.equal(set.config, undefined, 'no Config on errors');
    const hit = set.errors.find((e) => e.field === c.field && e.kind === c.kind && e.name === c.name);
    assert.ok(hit, `expected error at ${c.kind}/${c.name} ${c.field}, got:\n${set.errors.map((e) => `${e.line}: ${e.kind}/${e.name}: ${e.field}: ${e.message}`).join('\n')}`);
    assert.equal(hit.file, 't.yaml');
    if (c.line !== undefined) assert.equal(hit.line, c.line, `line of ${c.field}`);
    else assert.ok(hit.line > 0, 'has a line');
    if (c.msg) assert.match(hit.message, c.msg);
  });
}

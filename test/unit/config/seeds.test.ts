// Every configuration of the seed documents (copied into test/fixtures/seeds) loads without
// errors and gives the expected Config values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readInputs, type InputSet } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';
import { formatIP, formatPrefix, formatRange } from '../../../src/ip/index.ts';

const DIR = join(import.meta.dirname, '../../fixtures/seeds');

function loadSeed(file: string): { set: InputSet; config: Config } {
  const set = readInputs([join(DIR, file)]);
  assert.deepEqual(set.errors, [], `${file} has errors`);
  assert.ok(set.config, `${file} produced no config`);
  return { set, config: set.config };
}

test('every seed fixture loads without errors', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 11);
  for (const f of files) loadSeed(f);
});

test('the whole seed folder loads file by file (sorted order)', () => {
  const set = readInputs([DIR]);
  // The 001 snippets reuse names (two BGPPeers "example"), so together they conflict; the files
  // are read in sorted order and the later duplicates are reported.
  assert.ok(set.objects.length >= 20);
  const files = [...new Set(set.objects.map((o) => o.source.file))];
  assert.deepEqual(files, [...files].sort());
});

test('seed 000: bare legacy peers document (Romana)', () => {
  const { config } = loadSeed('000-romana-peers-bare.yaml');
  assert.equal(config.peers.length, 1);
  const p = config.peers[0]!;
  assert.equal(p.name, 'legacy-peer-0');
  assert.equal(p.myASN, 2345);
  assert.equal(p.peerASN, 1234);
  assert.equal(formatIP(p.address!), '127.0.0.1');
  assert.equal(formatIP(p.routerID!), '127.0.0.1');
  assert.equal(p.port, 179);
  assert.equal(p.ebgpMultiHop, false);
  assert.equal(p.source.kind, 'LegacyConfig');
  assert.equal(p.source.line, 4);
  assert.equal(config.pools.length, 0);
});

test('seed 000: ConfigMap wrapping the Romana peers', () => {
  const { config } = loadSeed('000-romana-configmap.yaml');
  assert.equal(config.peers[0]?.myASN, 2345);
  assert.equal(config.peers[0]?.source.kind, 'ConfigMap');
  assert.equal(config.peers[0]?.source.namespace, 'metallb-system');
  assert.deepEqual(config.pools.map((p) => p.name), ['default']);
  assert.deepEqual(config.bgpAdvertisements.map((a) => [a.name, a.pools, a.aggregationLength, a.aggregationLengthV6]), [
    ['legacy-default-bgp-0', ['default'], 32, 128],
  ]);
});

test('seed 001: aggregation example with localpref (lowercase alias)', () => {
  const { config } = loadSeed('001-aggregation.yaml');
  const pool = config.pools[0]!;
  assert.equal(pool.name, 'first-pool');
  assert.deepEqual(pool.ranges.map(formatRange), ['198.51.100.0-198.51.100.255']);
  assert.deepEqual(pool.cidrs.map(formatPrefix), ['198.51.100.0/24']);
  assert.deepEqual(config.bgpAdvertisements.map((a) => a.name), ['external', 'local']);
  const [external, local] = config.bgpAdvertisements;
  assert.equal(local?.localPref, 100);
  assert.deepEqual(local?.communities, [{ kind: 'standard', value: 65535 * 65536 + 65282 }]);
  assert.equal(local?.aggregationLength, 32);
  assert.equal(external?.aggregationLength, 24);
  assert.equal(external?.localPref, undefined);
  assert.deepEqual(external?.communities, []);
});

test('seed 001: peer node selectors', () => {
  const { config } = loadSeed('001-peer-node-selectors.yaml');
  const p = config.peers[0]!;
  assert.equal(p.port, 180);
  assert.equal(p.myASN, 64512);
  assert.equal(p.peerASN, 64512);
  assert.deepEqual(p.nodeSelectors, [
    { matchLabels: { rack: 'frontend' }, matchExpressions: [{ key: 'network-speed', operator: 'NotIn', values: ['slow'] }] },
    { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['hostA', 'hostB'] }] },
  ]);
});

test('seed 001: advertisement node selectors', () => {
  const { config } = loadSeed('001-adv-node-selectors.yaml');
  const a = config.bgpAdvertisements[0]!;
  assert.deepEqual(a.pools, ['first-pool']);
  assert.deepEqual(a.nodeSelectors, [{ matchLabels: { 'kubernetes.io/hostname': 'NodeA' } }, { matchLabels: { 'kubernetes.io/hostname': 'NodeB' } }]);
});

test('seed 001: advertisement to a subset of peers', () => {
  const { config } = loadSeed('001-adv-peers.yaml');
  const byName = Object.fromEntries(config.bgpAdvertisements.map((a) => [a.name, a]));
  assert.deepEqual(byName['example']?.peers, ['PeerA', 'PeerB']);
  assert.deepEqual(byName['example']?.pools, ['PoolA']);
  assert.deepEqual(byName['example-b']?.peers, ['PeerB', 'PeerC']);
  assert.deepEqual(config.peers.map((p) => p.name), ['PeerA', 'PeerB', 'PeerC']);
});

test('seed 001: source address on a per-node peer gives no warning', () => {
  const { set, config } = loadSeed('001-source-address.yaml');
  assert.equal(formatIP(config.peers[0]!.sourceAddress!), '172.30.0.2');
  assert.deepEqual(set.warnings, []);
});

test('seed 001: community aliases', () => {
  const { config } = loadSeed('001-community-aliases.yaml');
  assert.deepEqual(config.communityAliases, {
    NO_ADVERTISE: { kind: 'standard', value: 65535 * 65536 + 65282 },
    'vpn-only': { kind: 'standard', value: 1234 * 65536 + 1 },
  });
  assert.deepEqual(config.bgpAdvertisements[0]?.communities, [{ kind: 'standard', value: 1234 * 65536 + 1 }]);
  assert.equal(config.bgpAdvertisements[0]?.localPref, 100);
});

test('seed 002: microk8s legacy ConfigMap as written', () => {
  const { config } = loadSeed('002-microk8s-configmap.yaml');
  assert.deepEqual(config.pools.map((p) => [p.name, p.avoidBuggyIPs, p.autoAssign, p.ranges.map(formatRange)]), [
    ['default', true, true, ['192.168.10.0-192.168.10.255']],
    ['layer2', true, true, ['192.168.0.50-192.168.0.100']],
  ]);
  const peer = config.peers[0]!;
  assert.equal(formatIP(peer.address!), '192.168.0.254');
  assert.equal(peer.myASN, 64512);
  assert.equal(peer.peerASN, 64512);
  assert.equal(peer.source.line, 8);
  assert.deepEqual(config.bgpAdvertisements.map((a) => [a.name, a.pools]), [['legacy-default-bgp-0', ['default']]]);
  assert.deepEqual(config.l2Advertisements.map((a) => [a.name, a.pools]), [['legacy-layer2-l2', ['layer2']]]);
});

test('seed 002: the Service is returned, not configured', () => {
  const { set } = loadSeed('002-service.yaml');
  assert.equal(set.services.length, 1);
  assert.equal(set.services[0]?.metadata.name, 'test-lb');
  assert.equal(set.services[0]?.spec.type, 'LoadBalancer');
  assert.equal(set.services[0]?.spec.ports?.[0]?.port, 80);
});

test('seed 004: OpenPERouter peers and advertisements', () => {
  const { config } = loadSeed('004-openperouter.yaml');
  assert.deepEqual(config.peers.map((p) => [p.name, p.myASN, p.peerASN, formatIP(p.address!)]), [
    ['peerblue', 64515, 64514, '192.169.11.1'],
    ['peerred', 64515, 64514, '192.169.10.1'],
  ]);
  assert.deepEqual(config.bgpAdvertisements.map((a) => [a.name, a.pools, a.peers]), [
    ['bgp-advertisement-blue', ['address-pool-blue'], ['peerblue']],
    ['bgp-advertisement-red', ['address-pool-red'], ['peerred']],
  ]);
  assert.deepEqual(config.pools.find((p) => p.name === 'address-pool-red')?.serviceAllocation?.namespaces, ['red']);
});

// convertLegacy: the produced CRDs load into the same Config as the legacy input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { convertLegacy } from '../../../src/config/convert.ts';
import { parseInputs, readInputs } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';
import { configMap } from './helpers.ts';

const SEEDS = join(import.meta.dirname, '../../fixtures/seeds');

function strip(c: Config): unknown {
  return JSON.parse(JSON.stringify(c, (k, v: unknown) => (k === 'source' ? undefined : typeof v === 'bigint' ? v.toString() : v)));
}

test('seed 002: converted CRDs give the same Config', () => {
  const legacy = readInputs([join(SEEDS, '002-microk8s-configmap.yaml')]);
  assert.ok(legacy.config);
  const yaml = convertLegacy(legacy, 'metallb-system');
  const docs = parseAllDocuments(yaml);
  assert.ok(Array.isArray(docs));
  assert.deepEqual(docs.map((d) => (d.toJS() as { kind: string }).kind), ['IPAddressPool', 'IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement']);
  const crds = parseInputs([{ file: 'out.yaml', text: yaml }]);
  assert.deepEqual(crds.errors, []);
  assert.ok(crds.config);
  assert.deepEqual(strip(crds.config), strip(legacy.config));
});

test('full legacy config converts losslessly', () => {
  const text = configMap([
    'bgp-communities:', '  vpn: 1234:1',
    'bfd-profiles:', '- name: slow', '  receive-interval: 1000', '  passive-mode: true',
    'peers:', '- my-asn: 64512', '  peer-asn: 64513', '  peer-address: 10.0.0.1', '  peer-port: 1179', '  bfd-profile: slow',
    '  hold-time: 120s', '  keepalive-time: 40s', '  router-id: 10.0.0.100', '  source-address: 10.0.0.2', '  password: pw', '  ebgp-multihop: true',
    '  node-selectors:', '  - match-labels:', '      kubernetes.io/hostname: n1',
    'address-pools:', '- name: pub', '  protocol: bgp', '  addresses: [198.51.100.0/24, "fd00::/120"]', '  auto-assign: false',
    '  bgp-advertisements:', '  - aggregation-length: 32', '    aggregation-length-v6: 124', '    localpref: 100', '    communities: [vpn, "large:1:2:3"]',
    '- name: l2', '  protocol: layer2', '  addresses: [192.168.1.10-192.168.1.20]',
  ].join('\n') + '\n');
  const legacy = parseInputs([{ file: 'cm.yaml', text }]);
  assert.deepEqual(legacy.errors, []);
  assert.ok(legacy.config);
  const out = convertLegacy(legacy, 'other');
  const crds = parseInputs([{ file: 'out.yaml', text: out }]);
  assert.deepEqual(crds.errors, []);
  assert.ok(crds.config);
  assert.deepEqual(strip(crds.config), strip(legacy.config));
  assert.match(out, /namespace: other/);
});

test('the seed 002 fixture file is the seed text', () => {
  const text = readFileSync(join(SEEDS, '002-microk8s-configmap.yaml'), 'utf8');
  assert.match(text, /avoid-buggy-ips: true/);
});

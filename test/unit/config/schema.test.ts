// crdOpenAPISchema: Kubernetes structural schemas generated from the zod definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crdOpenAPISchema, crdVersions } from '../../../src/config/schema.ts';
import { formatGoDuration, parseGoDuration } from '../../../src/config/duration.ts';
import { parseCommunity } from '../../../src/config/build.ts';
import { formatDiagnostic, formatPath } from '../../../src/config/path.ts';

type J = Record<string, unknown>;

function walk(node: unknown, visit: (n: J, path: string) => void, path = ''): void {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, visit, `${path}[${i}]`));
  else if (node && typeof node === 'object') {
    visit(node as J, path);
    for (const [k, v] of Object.entries(node)) walk(v, visit, `${path}.${k}`);
  }
}

test('every kind/version has a structural schema without k8s-rejected keywords', () => {
  const versions = crdVersions();
  assert.deepEqual(versions.map((v) => `${v.kind}/${v.version}`).sort(), [
    'BFDProfile/v1beta1', 'BGPAdvertisement/v1beta1', 'BGPPeer/v1beta1', 'BGPPeer/v1beta2', 'Community/v1beta1', 'IPAddressPool/v1beta1', 'L2Advertisement/v1beta1',
  ]);
  for (const { kind, version } of versions) {
    const s = crdOpenAPISchema(kind, version);
    walk(s, (n, path) => {
      assert.ok(!('$schema' in n), `${kind} ${path}: $schema`);
      assert.ok(n['additionalProperties'] !== false, `${kind} ${path}: additionalProperties false`);
      assert.ok(!('propertyNames' in n), `${kind} ${path}: propertyNames`);
      if ('properties' in n || 'items' in n) assert.ok('type' in n, `${kind} ${path}: structural nodes need a type`);
      if (n['type'] === 'integer') assert.ok(n['format'] === 'int32' || n['format'] === 'int64', `${kind} ${path}: integer format`);
    });
  }
});

test('BGPPeer v1beta2 schema carries MetalLB fields, types and ranges', () => {
  const s = crdOpenAPISchema('BGPPeer', 'v1beta2') as { properties: { spec: { properties: Record<string, J>; required: string[] } }; required: string[] };
  const spec = s.properties.spec;
  assert.deepEqual(spec.required, ['myASN']);
  assert.deepEqual(s.required, ['spec']);
  assert.equal(spec.properties['peerPort']?.['minimum'], 1);
  assert.equal(spec.properties['peerPort']?.['maximum'], 16384);
  assert.equal(spec.properties['myASN']?.['maximum'], 4294967295);
  assert.equal(spec.properties['myASN']?.['format'], 'int64');
  assert.deepEqual(spec.properties['dynamicASN']?.['enum'], ['internal', 'external']);
  assert.equal(spec.properties['holdTime']?.['type'], 'string');
  const v1 = crdOpenAPISchema('BGPPeer', 'v1beta1') as { properties: { spec: { properties: Record<string, J> } } };
  assert.equal(v1.properties.spec.properties['dynamicASN'], undefined);
});

test('selectors and maps are structural', () => {
  const s = crdOpenAPISchema('BGPAdvertisement', 'v1beta1') as { properties: { spec: { properties: Record<string, J> } } };
  const sel = s.properties.spec.properties['nodeSelectors'] as { type: string; items: { properties: { matchLabels: J; matchExpressions: { items: { properties: { operator: J } } } } } };
  assert.equal(sel.type, 'array');
  assert.deepEqual(sel.items.properties.matchLabels, { type: 'object', additionalProperties: { type: 'string' } });
  assert.deepEqual(sel.items.properties.matchExpressions.items.properties.operator['enum'], ['In', 'NotIn', 'Exists', 'DoesNotExist']);
  assert.equal(s.properties.spec.properties['aggregationLength']?.['maximum'], 32);
  assert.ok(s.properties.spec.properties['localpref'], 'the localpref alias is kept so the API server does not prune it');
});

test('unknown kind/version throws', () => {
  assert.throws(() => crdOpenAPISchema('Foo', 'v1beta1'), /no schema/);
  assert.throws(() => crdOpenAPISchema('IPAddressPool', 'v1beta2'), /no schema/);
});

test('Go durations', () => {
  const ok: [string, number][] = [['90s', 90000], ['1m30s', 90000], ['500ms', 500], ['1.5h', 5400000], ['0', 0], ['0s', 0], ['2h45m', 9900000], ['1000us', 1], ['+3s', 3000]];
  for (const [s, ms] of ok) assert.equal(parseGoDuration(s), ms, s);
  for (const s of ['', '90', 's', '1d', '-3s', '1.s.', '3 s', '1m 30s', '.s']) assert.equal(parseGoDuration(s), undefined, s);
  assert.equal(formatGoDuration(90000), '1m30s');
  assert.equal(formatGoDuration(1500), '1s500ms');
  assert.equal(formatGoDuration(0), '0s');
});

test('communities', () => {
  assert.deepEqual(parseCommunity('65535:65282'), { kind: 'standard', value: 4294967042 });
  assert.deepEqual(parseCommunity('0:0'), { kind: 'standard', value: 0 });
  assert.deepEqual(parseCommunity('large:4294967295:0:7'), { kind: 'large', global: 4294967295, local1: 0, local2: 7 });
  assert.equal(parseCommunity('no-advertise'), 'alias');
  for (const bad of ['65536:0', '1:-1', ':1', '1:', 'large:1:2', 'large:a:b:c', '1:2:3', 'large:1:2:3:4']) {
    assert.equal(typeof parseCommunity(bad), 'string', bad);
    assert.notEqual(parseCommunity(bad), 'alias', bad);
  }
});

test('field paths and diagnostic format', () => {
  assert.equal(formatPath(['spec', 'addresses', 1]), 'spec.addresses[1]');
  assert.equal(formatPath(['spec', 'nodeSelectors', 0, 'matchLabels', 'kubernetes.io/hostname']), 'spec.nodeSelectors[0].matchLabels["kubernetes.io/hostname"]');
  assert.equal(formatPath(['data', 'config', 'address-pools', 0, 'auto-assign']), 'data.config.address-pools[0].auto-assign');
  assert.equal(formatDiagnostic({ file: 'a.yaml', line: 3, kind: 'BGPPeer', name: 'r', field: 'spec.myASN', message: 'required field is missing' }), 'a.yaml:3: BGPPeer/r: spec.myASN: required field is missing');
  assert.equal(formatDiagnostic({ file: 'a.yaml', line: 1, kind: '', name: '', field: '', message: 'invalid YAML: x' }), 'a.yaml:1: invalid YAML: x');
});

// Pure helpers of the Kubernetes components: admission decisions, ConfigurationState status,
// argument parsing, status object names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { review } from '../../../src/kube/webhook.ts';
import { configurationStateLabels, configurationStateStatus, formatDiagnostics, clampCount } from '../../../src/kube/status.ts';
import { statusName } from '../../../src/kube/speaker.ts';
import { splitKey, keyOf, microTime } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';

const pool = (name: string, addresses: unknown[]): KubeObject => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: 'metallb-system' },
  spec: { addresses },
});
const l2: KubeObject = { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'metallb-system' }, spec: {} };
const req = (operation: 'CREATE' | 'UPDATE' | 'DELETE', o: KubeObject, uid = 'u'): Parameters<typeof review>[0] => ({
  uid,
  operation,
  kind: { group: 'metallb.io', version: 'v1beta1', kind: String(o.kind) },
  namespace: 'metallb-system',
  name: o.metadata.name,
  ...(operation === 'DELETE' ? { oldObject: o } : { object: o }),
});

test('admission: overlapping pool denied with the validate message; valid allowed; other kinds allowed', () => {
  const current = [pool('a', ['10.0.0.0/24']), l2];
  const deny = review(req('CREATE', pool('b', ['10.0.0.5-10.0.0.9'])), current, []);
  assert.equal(deny.allowed, false);
  assert.equal(deny.status?.code, 422);
  assert.match(deny.status?.message ?? '', /^IPAddressPool\/b: spec\.addresses\[0\]: .*overlaps/);
  assert.equal(review(req('CREATE', pool('b', ['10.1.0.0/24'])), current, []).allowed, true);
  // an UPDATE replaces the object: changing a's own range is not an overlap with itself
  assert.equal(review(req('UPDATE', pool('a', ['10.0.0.0/23'])), current, []).allowed, true);
  assert.equal(review({ uid: 'x', kind: { group: '', version: 'v1', kind: 'Service' }, operation: 'CREATE', object: {} }, current, []).allowed, true);
});

test('admission: errors that already exist elsewhere do not block unrelated changes; DELETE can fix them', () => {
  const broken = [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.0/25']), l2];
  assert.equal(review(req('CREATE', pool('c', ['10.9.0.0/24'])), broken, []).allowed, true);
  assert.equal(review(req('DELETE', pool('b', ['10.0.0.0/25'])), broken, []).allowed, true);
  // deleting a pool an advertisement still names is allowed, as in MetalLB (GitOps tools delete
  // in any order), with a warning naming the advertisement
  const named: KubeObject = { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'only-a', namespace: 'metallb-system' }, spec: { ipAddressPools: ['a'] } };
  const r = review(req('DELETE', pool('a', ['10.0.0.0/24'])), [pool('a', ['10.0.0.0/24']), named], []);
  assert.equal(r.allowed, true, JSON.stringify(r));
  assert.deepEqual(r.warnings, ['L2Advertisement/only-a: spec.ipAddressPools[0]: unknown IPAddressPool "a" (matches nothing, as in MetalLB)']);
  // creating an advertisement for a pool not created yet is allowed too, with the warning
  const early = review(req('CREATE', named), [l2], []);
  assert.equal(early.allowed, true);
  assert.deepEqual(early.warnings, ['L2Advertisement/only-a: spec.ipAddressPools[0]: unknown IPAddressPool "a" (matches nothing, as in MetalLB)']);
});

test('ConfigurationState status: Valid/Invalid, errorSummary lines, stable lastTransitionTime', () => {
  const err = { file: 'IPAddressPool/metallb-system/x', line: 0, kind: 'IPAddressPool', name: 'x', field: 'spec.addresses[0]', message: 'invalid CIDR' };
  assert.equal(formatDiagnostics([err]), 'IPAddressPool/x: spec.addresses[0]: invalid CIDR');
  const bad = configurationStateStatus([err]);
  assert.equal(bad.result, 'Invalid');
  assert.equal(bad.errorSummary, 'IPAddressPool/x: spec.addresses[0]: invalid CIDR');
  assert.equal(bad.conditions[0]?.status, 'False');
  const stillBad = configurationStateStatus([err], { ...bad, conditions: [{ ...bad.conditions[0]!, lastTransitionTime: '2020-01-01T00:00:00Z' }] });
  assert.equal(stillBad.conditions[0]?.lastTransitionTime, '2020-01-01T00:00:00Z');
  const good = configurationStateStatus([], stillBad);
  assert.equal(good.result, 'Valid');
  assert.equal(good.errorSummary, '');
  assert.notEqual(good.conditions[0]?.lastTransitionTime, '2020-01-01T00:00:00Z');
  // a dangling reference keeps the configuration Valid and is told in the condition's message
  const dangling = { file: 'L2Advertisement/metallb-system/l', line: 0, kind: 'L2Advertisement', name: 'l', field: 'spec.ipAddressPools[0]', message: 'unknown IPAddressPool "a"', code: 'missing-reference' as const };
  const warned = configurationStateStatus([], good, [dangling, { ...err, message: 'selects no Node' }]);
  assert.equal(warned.result, 'Valid');
  assert.equal(warned.conditions[0]?.message, 'the configuration is valid and in use; warnings: L2Advertisement/l: spec.ipAddressPools[0]: unknown IPAddressPool "a"');
  // MetalLB's condition types and reasons; the controller also reports poolReconcilerValid
  assert.deepEqual(bad.conditions.map((c) => [c.type, c.status, c.reason]), [['configReconcilerValid', 'False', 'ConfigurationError']]);
  const ctl = configurationStateStatus([err], undefined, [], { pools: true });
  assert.deepEqual(ctl.conditions.map((c) => [c.type, c.status, c.reason]), [
    ['configReconcilerValid', 'False', 'ConfigurationError'],
    ['poolReconcilerValid', 'False', 'ConfigurationError'],
  ]);
  assert.deepEqual(configurationStateStatus([], undefined, [], { pools: true }).conditions.map((c) => c.reason), ['Reconciled', 'Reconciled']);
  assert.deepEqual(configurationStateLabels('controller'), { 'metallb.io/component-type': 'controller' });
  assert.deepEqual(configurationStateLabels('speaker-node-1'), { 'metallb.io/component-type': 'speaker', 'metallb.io/node-name': 'node-1' });
  assert.equal(clampCount(2n ** 64n), Number.MAX_SAFE_INTEGER);
  assert.equal(clampCount(5n), 5);
});

test('status object names are deterministic, DNS-safe and distinct per node', () => {
  const a = statusName('shop', 'web', 'node-0');
  assert.equal(a, statusName('shop', 'web', 'node-0'));
  assert.notEqual(a, statusName('shop', 'web', 'node-1'));
  assert.notEqual(a, statusName('other', 'web', 'node-0'));
  assert.match(a, /^web-[0-9a-f]{10}$/);
  assert.match(statusName('ns', 'x'.repeat(300), 'n'), /^x{200}-[0-9a-f]{10}$/);
  assert.deepEqual(splitKey('ns/name'), { namespace: 'ns', name: 'name' });
  assert.deepEqual(splitKey('node-1'), { name: 'node-1' });
  assert.equal(keyOf({ metadata: { name: 'n', namespace: 's' } }), 's/n');
  assert.equal(microTime(new Date('2024-01-02T03:04:05.678Z')), '2024-01-02T03:04:05.678000Z');
});

// Kubernetes mode: objects from the API server (no file) through loadedFromApiObject + buildConfig.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, loadedFromApiObject } from '../../../src/config/build.ts';

test('API objects build a Config; diagnostics name Kind/namespace/name with line 0', () => {
  const objs = [
    { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p', namespace: 'metallb-system', resourceVersion: '5', uid: 'u' }, spec: { addresses: ['10.0.0.0/24'] }, status: {} },
    { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l', namespace: 'metallb-system' }, spec: {} },
  ].map(loadedFromApiObject);
  assert.equal(objs[0]?.source.file, 'IPAddressPool/metallb-system/p');
  const ok = buildConfig(objs);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.config?.pools.map((p) => p.name), ['p']);
  assert.deepEqual(ok.config?.l2Advertisements[0]?.pools, ['p']);

  const bad = buildConfig([
    loadedFromApiObject({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'r', namespace: 'metallb-system' }, spec: { myASN: 1, peerASN: 2, peerAddress: 'nope' } }),
  ]);
  assert.equal(bad.config, undefined);
  assert.deepEqual(bad.errors, [{ file: 'BGPPeer/metallb-system/r', line: 0, kind: 'BGPPeer', name: 'r', field: 'spec.peerAddress', message: 'invalid IP address "nope"' }]);
});

test('buildConfig checks passwordSecret against given secrets', () => {
  const peer = loadedFromApiObject({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'r', namespace: 'metallb-system' }, spec: { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', passwordSecret: { name: 's' } } });
  const good = buildConfig([peer], { secrets: [{ metadata: { name: 's', namespace: 'metallb-system' }, type: 'kubernetes.io/basic-auth', data: { password: 'cHc=' } }] });
  assert.deepEqual(good.errors, []);
  assert.deepEqual(good.config?.peers[0]?.passwordSecret, { name: 's', namespace: 'metallb-system' });
  const missing = buildConfig([peer], { secrets: [{ metadata: { name: 'other', namespace: 'metallb-system' } }] });
  assert.deepEqual(missing.errors, []);
  assert.equal(missing.warnings[0]?.field, 'spec.passwordSecret');
});

test('extra top-level keys are judged in files but not on API objects (the API server prunes)', () => {
  const o = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p' }, spec: { addresses: ['10.0.0.0/24'] }, extra: 1 };
  assert.deepEqual(buildConfig([loadedFromApiObject(o)]).errors, []);
  const fromFile = { object: o, source: { file: 'f.yaml', line: 1, kind: 'IPAddressPool', name: 'p' }, lineOf: () => 1 };
  const errs = buildConfig([fromFile]).errors;
  assert.deepEqual(errs.map((e) => [e.field, e.message]), [['extra', 'unknown field (an object has apiVersion, kind, metadata, spec, status)']]);
});

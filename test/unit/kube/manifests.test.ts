// The committed manifests are exactly what scripts/gen-manifests.ts generates; security and RBAC
// properties hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { generate } from '../../../scripts/gen-manifests.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
type Obj = Record<string, unknown>;

function docs(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}

test('committed manifests equal the generator output (run scripts/gen-manifests.ts)', () => {
  const files = generate();
  for (const [rel, text] of files) {
    assert.equal(readFileSync(join(ROOT, rel), 'utf8'), text, `${rel} is stale: node --import tsx scripts/gen-manifests.ts`);
  }
  const crds = readdirSync(join(ROOT, 'config', 'crd')).map((f) => `config/crd/${f}`);
  for (const f of crds) assert.ok(files.has(f), `${f} is not generated (leftover file?)`);
});

// The chart's rendering (defaults = the plain manifest, values, monitoring) is tested with the
// real Helm binary in test/unit/chart/helm.test.ts.

test('speaker: hostNetwork and only NET_RAW / NET_ADMIN / NET_BIND_SERVICE; controller: no capabilities, non-root', () => {
  const plain = docs(readFileSync(join(ROOT, 'config', 'manifests', 'metallb-ts.yaml'), 'utf8'));
  const ds = plain.find((o) => o['kind'] === 'DaemonSet') as { spec: { template: { spec: { hostNetwork: boolean; containers: { securityContext: { capabilities: { add?: string[]; drop: string[] }; allowPrivilegeEscalation: boolean; privileged?: boolean } }[] } } } };
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  for (const c of pod.containers) {
    assert.deepEqual([...(c.securityContext.capabilities.add ?? [])].sort(), ['NET_ADMIN', 'NET_BIND_SERVICE', 'NET_RAW']);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.notEqual(c.securityContext.privileged, true);
  }
  const dep = plain.find((o) => o['kind'] === 'Deployment') as { spec: { template: { spec: { hostNetwork?: boolean; securityContext: { runAsNonRoot: boolean }; containers: { securityContext: { capabilities: { add?: string[] } } }[] } } } };
  assert.notEqual(dep.spec.template.spec.hostNetwork, true);
  assert.equal(dep.spec.template.spec.securityContext.runAsNonRoot, true);
  for (const c of dep.spec.template.spec.containers) assert.equal(c.securityContext.capabilities.add, undefined);
});

test('RBAC is least privilege: no wildcards, Secrets and writes namespaced, status via subresources', () => {
  const rbac = docs(readFileSync(join(ROOT, 'config', 'rbac', 'rbac.yaml'), 'utf8'));
  for (const r of rbac.filter((o) => o['kind'] === 'ClusterRole' || o['kind'] === 'Role')) {
    for (const rule of r['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
      for (const f of [...rule.apiGroups, ...rule.resources, ...rule.verbs]) assert.notEqual(f, '*', `${String((r['metadata'] as Obj)['name'])}: wildcard`);
      if (r['kind'] === 'ClusterRole') {
        assert.ok(!rule.resources.includes('secrets'), 'Secrets only in the metallb namespace');
        assert.ok(!rule.verbs.includes('delete'), 'no cluster-wide delete');
      }
    }
  }
  const ctl = rbac.find((o) => o['kind'] === 'ClusterRole' && (o['metadata'] as Obj)['name'] === 'metallb-ts:controller') as { rules: { resources: string[]; verbs: string[] }[] };
  const svcWrites = ctl.rules.filter((r) => r.resources.includes('services')).flatMap((r) => r.verbs);
  assert.ok(!svcWrites.includes('update') && !svcWrites.includes('create') && !svcWrites.includes('delete'), 'the controller only patches Services (annotation)');
  assert.ok(ctl.rules.some((r) => r.resources.includes('services/status') && r.verbs.includes('patch')));
  // the webhook certificate: update only the one Secret, patch only the one webhook configuration
  type Rule = { resources: string[]; verbs: string[]; resourceNames?: string[] };
  const rulesOf = (kind: string, name: string): Rule[] => (rbac.find((o) => o['kind'] === kind && (o['metadata'] as Obj)['name'] === name) as { rules: Rule[] }).rules;
  const secretUpdates = rulesOf('Role', 'controller').filter((r) => r.resources.includes('secrets') && (r.verbs.includes('update') || r.verbs.includes('patch')));
  assert.deepEqual(secretUpdates, [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['metallb-ts-webhook-cert'], verbs: ['update'] }]);
  const vwc = rulesOf('ClusterRole', 'metallb-ts:controller').filter((r) => r.resources.includes('validatingwebhookconfigurations'));
  assert.deepEqual(vwc.map((r) => r.resourceNames), [['metallb-ts-webhook']]);
  assert.ok(rulesOf('Role', 'speaker').every((r) => !r.resources.includes('secrets') || r.verbs.every((v) => ['get', 'list', 'watch'].includes(v))), 'the speaker only reads Secrets');
});

test('CRDs: structural, status subresource, printer columns; BGPPeer v1beta1 (deprecated) is a field subset of v1beta2', () => {
  const dirFiles = readdirSync(join(ROOT, 'config', 'crd'));
  // every CRD file is generated (none stale), metallb.io kinds plus frr-k8s' BGPSessionState
  const generated = [...generate().keys()].filter((k) => k.startsWith('config/crd/')).map((k) => k.slice('config/crd/'.length));
  assert.deepEqual([...dirFiles].sort(), generated.sort());
  assert.ok(dirFiles.includes('frrk8s.metallb.io_bgpsessionstates.yaml'));
  for (const f of dirFiles) {
    const crd = docs(readFileSync(join(ROOT, 'config', 'crd', f), 'utf8'))[0] as { spec: { versions: { name: string; subresources: Obj; additionalPrinterColumns: unknown[]; schema: { openAPIV3Schema: { type: string } } }[] } };
    for (const v of crd.spec.versions) {
      assert.equal(v.schema.openAPIV3Schema.type, 'object');
      assert.ok('status' in v.subresources, `${f} ${v.name}: status subresource`);
      assert.ok(v.additionalPrinterColumns.length >= 1, `${f}: printer columns`);
    }
  }
  const peer = docs(readFileSync(join(ROOT, 'config', 'crd', 'metallb.io_bgppeers.yaml'), 'utf8'))[0] as { spec: { conversion: { strategy: string }; versions: { name: string; storage: boolean; deprecated?: boolean; schema: { openAPIV3Schema: { properties: { spec: { properties: Obj } } } } }[] } };
  const [v1, v2] = ['v1beta1', 'v1beta2'].map((n) => peer.spec.versions.find((v) => v.name === n));
  assert.ok(v1 && v2);
  assert.equal(v2.storage, true);
  assert.equal(v1.deprecated, true);
  assert.equal(peer.spec.conversion.strategy, 'None');
  for (const [k, s] of Object.entries(v1.schema.openAPIV3Schema.properties.spec.properties)) {
    assert.deepEqual(v2.schema.openAPIV3Schema.properties.spec.properties[k], s, `v1beta1 field ${k} has the same schema in v1beta2`);
  }
});

test('every fieldRef carries apiVersion v1; CRDs carry MetalLB defaults and condition patterns', () => {
  const manifest = docs(readFileSync(join(ROOT, 'config', 'manifests', 'metallb-ts.yaml'), 'utf8'));
  const refs: Obj[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Obj)) {
        if (k === 'fieldRef') refs.push(x as Obj);
        walk(x);
      }
    }
  };
  walk(manifest);
  for (const t of readdirSync(join(ROOT, 'charts', 'metallb-ts', 'templates'))) {
    for (const m of readFileSync(join(ROOT, 'charts', 'metallb-ts', 'templates', t), 'utf8').matchAll(/fieldRef:\n(\s+)(\S+)/g)) {
      assert.equal(m[2], 'apiVersion:', `${t}: fieldRef without apiVersion first`);
    }
  }
  assert.ok(refs.length >= 6);
  for (const r of refs) assert.equal(r['apiVersion'], 'v1', JSON.stringify(r));
  const specOf = (kind: string, version = 'v1beta1'): Record<string, Obj> => {
    const crd = manifest.find((d) => d['kind'] === 'CustomResourceDefinition' && (d['spec'] as { names: { kind: string } }).names.kind === kind) as Obj;
    const v = (crd['spec'] as { versions: { name: string; schema: { openAPIV3Schema: { properties: Record<string, Obj> } } }[] }).versions.find((x) => x.name === version);
    return (v?.schema.openAPIV3Schema.properties['spec']?.['properties'] ?? v?.schema.openAPIV3Schema.properties['status']?.['properties']) as Record<string, Obj>;
  };
  assert.equal(specOf('IPAddressPool')['autoAssign']?.['default'], true);
  assert.equal(specOf('IPAddressPool')['avoidBuggyIPs']?.['default'], false);
  assert.equal(specOf('BGPAdvertisement')['aggregationLength']?.['default'], 32);
  assert.equal(specOf('BGPPeer', 'v1beta2')['peerPort']?.['default'], 179);
  const cond = specOf('ConfigurationState')['conditions'] as { items: { properties: Record<string, Obj>; required: string[] } };
  assert.equal(cond.items.properties['reason']?.['pattern'], '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$');
  assert.deepEqual(cond.items.required, ['lastTransitionTime', 'message', 'reason', 'status', 'type']);
});

test('speaker: the graceful restart marker is on a hostPath the next Pod of the DaemonSet sees', () => {
  const plain = docs(readFileSync(join(ROOT, 'config', 'manifests', 'metallb-ts.yaml'), 'utf8'));
  type Pod = { volumes: { name: string; hostPath?: { path: string; type: string } }[]; containers: { args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[] };
  const ds = plain.find((o) => o['kind'] === 'DaemonSet') as { spec: { template: { spec: Pod } } };
  const pod = ds.spec.template.spec;
  const vol = pod.volumes.find((v) => v.hostPath !== undefined);
  assert.deepEqual(vol?.hostPath, { path: '/var/lib/metallb-ts', type: 'DirectoryOrCreate' });
  const c = pod.containers[0];
  assert.ok(c);
  const mount = c.volumeMounts.find((m) => m.name === vol.name);
  assert.ok(mount && mount.readOnly !== true);
  const arg = c.args.find((a) => a.startsWith('--restart-marker='));
  assert.ok(arg?.startsWith(`--restart-marker=${mount.mountPath}/`), `marker inside the mount: ${String(arg)}`);
});

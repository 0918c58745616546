// The generated CRDs, installed in the test API server (which validates custom resources
// against their openAPIV3Schema like kube-apiserver): every seed example is accepted (strict
// field validation), the schema-level cases of the invalid corpus are rejected; and
// `kubectl apply --dry-run=client` accepts every manifest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeApiError, KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject, ResourceRef } from '../../../src/kube/client.ts';
import { REPO_ROOT } from '../lib/standalone.ts';
import { IN_CI } from '../lib/prereq.ts';
import { runAsync, which } from '../lib/proc.ts';

let server: FakeApiServer;
let client: KubeClient;
let dir: string;
let kubeconfig: string;

const CRD_DIR = join(REPO_ROOT, 'config', 'crd');
const CRDS: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };

function docs(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null && typeof d === 'object');
}

before(async () => {
  server = await FakeApiServer.start();
  dir = mkdtempSync(join(tmpdir(), 'kube-crd-test-'));
  kubeconfig = server.writeKubeconfig(join(dir, 'kubeconfig'));
  client = KubeClient.fromOptions({ kubeconfig });
  for (const f of readdirSync(CRD_DIR).sort()) for (const d of docs(join(CRD_DIR, f))) await client.create(CRDS, d);
  await client.create(R.namespaces, { metadata: { name: 'metallb-system' } });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const PLURALS: Record<string, string> = {
  IPAddressPool: 'ipaddresspools',
  BGPPeer: 'bgppeers',
  BGPAdvertisement: 'bgpadvertisements',
  L2Advertisement: 'l2advertisements',
  BFDProfile: 'bfdprofiles',
  Community: 'communities',
};

async function createStrict(o: KubeObject): Promise<KubeObject> {
  const [group, version] = String(o.apiVersion).split('/');
  const plural = PLURALS[String(o.kind)] ?? '';
  const ns = o.metadata.namespace ?? 'metallb-system';
  return await client.request<KubeObject>('POST', `/apis/${group}/${version}/namespaces/${ns}/${plural}`, {
    query: { fieldValidation: 'Strict' },
    body: { ...o, metadata: { ...o.metadata, namespace: ns } },
  });
}

test('every metallb.io object of the seed fixtures is accepted by the CRD schemas (strict)', async () => {
  const seedDir = join(REPO_ROOT, 'test', 'fixtures', 'seeds');
  let n = 0;
  for (const f of readdirSync(seedDir).filter((x) => x.endsWith('.yaml')).sort()) {
    for (const o of docs(join(seedDir, f))) {
      if (!String(o.apiVersion).startsWith('metallb.io/')) continue;
      // metadata.name must be a lowercase RFC 1123 subdomain for the API server (seed 001 uses
      // "PoolA"-style names in references); the spec is what the CRD schema judges.
      const name = `${o.metadata.name.toLowerCase()}-${n}`;
      await assert.doesNotReject(createStrict({ ...o, metadata: { ...o.metadata, name } }), `${f}: ${String(o.kind)}/${o.metadata.name}`);
      n++;
    }
  }
  assert.ok(n >= 10, `seed fixtures hold metallb.io objects (${n})`);
});

const bad: { t: string; kind: string; apiVersion?: string; spec: unknown; field: RegExp }[] = [
  { t: 'address is a number', kind: 'IPAddressPool', spec: { addresses: [10] }, field: /spec\.addresses\[0\]/ },
  { t: 'autoAssign as string', kind: 'IPAddressPool', spec: { addresses: ['10.0.0.0/24'], autoAssign: 'yes' }, field: /spec\.autoAssign/ },
  { t: 'unknown spec field', kind: 'IPAddressPool', spec: { adresses: ['x'] }, field: /spec\.adresses/ },
  { t: 'spec is a list', kind: 'IPAddressPool', spec: ['10.0.0.0/24'], field: /spec/ },
  { t: 'bad selector operator', kind: 'BGPAdvertisement', spec: { nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Equals', values: ['x'] }] }] }, field: /operator/ },
  { t: 'peerPort 0', kind: 'BGPPeer', apiVersion: 'metallb.io/v1beta2', spec: { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', peerPort: 0 }, field: /spec\.peerPort/ },
  { t: 'peerPort 16385', kind: 'BGPPeer', apiVersion: 'metallb.io/v1beta2', spec: { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', peerPort: 16385 }, field: /spec\.peerPort/ },
  { t: 'myASN above uint32', kind: 'BGPPeer', apiVersion: 'metallb.io/v1beta2', spec: { myASN: 4294967296, peerASN: 2, peerAddress: '192.0.2.1' }, field: /spec\.myASN/ },
  { t: 'negative myASN', kind: 'BGPPeer', apiVersion: 'metallb.io/v1beta2', spec: { myASN: -1, peerASN: 2, peerAddress: '192.0.2.1' }, field: /spec\.myASN/ },
  { t: 'dynamicASN not in the enum', kind: 'BGPPeer', apiVersion: 'metallb.io/v1beta2', spec: { myASN: 1, dynamicASN: 'both', peerAddress: '192.0.2.1' }, field: /spec\.dynamicASN/ },
  { t: 'v1beta1 BGPPeer has no passwordSecret', kind: 'BGPPeer', apiVersion: 'metallb.io/v1beta1', spec: { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', passwordSecret: { name: 's' } }, field: /passwordSecret/ },
];

for (const c of bad) {
  test(`CRD schema rejects: ${c.t}`, async () => {
    const o: KubeObject = { apiVersion: c.apiVersion ?? 'metallb.io/v1beta1', kind: c.kind, metadata: { name: 'bad' }, spec: c.spec };
    try {
      await createStrict(o);
    } catch (e) {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.code, 422, e.message);
      assert.match(e.message, c.field);
      return;
    }
    assert.fail('accepted');
  });
}

test('a missing required spec is rejected; unknown fields are pruned without strict validation', async () => {
  await assert.rejects(client.create(R.ipaddresspools, { metadata: { name: 'nospec', namespace: 'metallb-system' } }), (e: unknown) => e instanceof KubeApiError && e.code === 422);
  const p = await client.create<KubeObject & { spec?: Record<string, unknown> }>(R.ipaddresspools, { metadata: { name: 'pruned', namespace: 'metallb-system' }, spec: { addresses: ['10.9.0.0/24'], bogus: 1 } });
  assert.deepEqual(p.spec, { addresses: ['10.9.0.0/24'] });
});

test('kubectl apply --dry-run=client accepts every manifest', async (t) => {
  if (!which('kubectl')) {
    if (IN_CI) throw new Error('prerequisite missing under CI: kubectl');
    t.skip('kubectl not installed');
    return;
  }
  const files = [
    join(REPO_ROOT, 'config', 'manifests', 'metallb-ts.yaml'),
    join(REPO_ROOT, 'config', 'rbac', 'rbac.yaml'),
    join(REPO_ROOT, 'config', 'webhook', 'cert-manager.yaml'),
    ...readdirSync(CRD_DIR).map((f) => join(CRD_DIR, f)),
  ];
  for (const f of files) {
    // validation needs the server's OpenAPI documents, which the test server does not serve;
    // the CRD schemas are validated above, the rest by kubectl's decoding and REST mapping.
    const r = await runAsync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--dry-run=client', '--validate=false', '-f', f], 60000);
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    assert.match(r.stdout, /(created|configured|unchanged) \(dry run\)/);
  }
});

// REST semantics of the test API server, exercised through our client (which sits on
// @kubernetes/client-node's KubeConfig + Watch): the same assertions hold against kube-apiserver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeApiError, KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject, WatchEvent } from '../../../src/kube/client.ts';

let server: FakeApiServer;
let client: KubeClient;
let dir: string;

before(async () => {
  server = await FakeApiServer.start({ historyLimit: 50, bookmarkIntervalMs: 100 });
  dir = mkdtempSync(join(tmpdir(), 'kube-apiserver-test-'));
  client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')) });
  await client.create(R.namespaces, { metadata: { name: 'demo' } });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Svc extends KubeObject {
  spec?: { type?: string; ports?: { port: number }[] };
  status?: { loadBalancer?: { ingress?: { ip: string }[] } };
}

async function rejects(p: Promise<unknown>, code: number, reason: string): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KubeApiError, `expected KubeApiError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason);
    return e;
  }
  assert.fail(`expected HTTP ${code}`);
}

test('create assigns uid, creationTimestamp, resourceVersion; duplicates are 409 AlreadyExists', async () => {
  const s = await client.create<Svc>(R.services, { metadata: { name: 'a', namespace: 'demo' }, spec: { type: 'LoadBalancer' } });
  assert.match(s.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.match(String(s.metadata['creationTimestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Number(s.metadata.resourceVersion) > 0);
  assert.equal(s.kind, 'Service');
  await rejects(client.create(R.services, { metadata: { name: 'a', namespace: 'demo' } }), 409, 'AlreadyExists');
  await rejects(client.create(R.services, { metadata: { name: 'x', namespace: 'nope' } }), 404, 'NotFound');
  await rejects(client.create(R.services, { metadata: { name: 'Bad_Name', namespace: 'demo' } }), 422, 'Invalid');
});

test('generateName produces a unique name with the prefix', async () => {
  const a = await client.create(R.events, { metadata: { generateName: 'ev-', name: '', namespace: 'demo' } });
  const b = await client.create(R.events, { metadata: { generateName: 'ev-', name: '', namespace: 'demo' } });
  assert.match(a.metadata.name, /^ev-[a-z0-9]{5}$/);
  assert.notEqual(a.metadata.name, b.metadata.name);
});

test('resourceVersion increases monotonically and a stale update is 409 Conflict', async () => {
  const s = await client.create<Svc>(R.services, { metadata: { name: 'occ', namespace: 'demo' }, spec: { type: 'ClusterIP' } });
  const u1 = await client.update<Svc>(R.services, { ...s, spec: { type: 'LoadBalancer' } });
  assert.ok(Number(u1.metadata.resourceVersion) > Number(s.metadata.resourceVersion));
  await rejects(client.update(R.services, { ...s, spec: { type: 'NodePort' } }), 409, 'Conflict');
  // an update without a resourceVersion is unconditional for core types ...
  const { resourceVersion: _rv, ...meta } = u1.metadata;
  const u2 = await client.update<Svc>(R.services, { ...u1, metadata: meta, spec: { type: 'NodePort' } });
  assert.equal(u2.spec?.type, 'NodePort');
  // ... and rejected for custom resources
  const pool = await client.create<KubeObject>(R.ipaddresspools, { metadata: { name: 'p', namespace: 'demo' }, spec: { addresses: ['10.0.0.0/30'] } });
  const { resourceVersion: _prv, ...pmeta } = pool.metadata;
  await rejects(client.update(R.ipaddresspools, { ...pool, metadata: pmeta }), 422, 'Invalid');
  // a no-op write does not bump the resourceVersion
  const same = await client.update<Svc>(R.services, u2);
  assert.equal(same.metadata.resourceVersion, u2.metadata.resourceVersion);
});

test('status subresource: main-resource writes keep status, status writes keep spec', async () => {
  const s = await client.create<Svc>(R.services, {
    metadata: { name: 'st', namespace: 'demo' },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip: '9.9.9.9' }] } },
  });
  assert.deepEqual(s.status, { loadBalancer: {} }, 'the given status is dropped on create (kube-apiserver sets an empty one)');
  const withStatus = await client.patch<Svc>(R.services, 'demo', 'st', { status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } }, spec: { type: 'NodePort' } }, { status: true });
  assert.deepEqual(withStatus.status?.loadBalancer?.ingress, [{ ip: '10.0.0.1', ipMode: 'VIP' }]);
  assert.equal(withStatus.spec?.type, 'LoadBalancer', 'spec ignored through /status');
  const main = await client.patch<Svc>(R.services, 'demo', 'st', { spec: { type: 'NodePort' }, status: { loadBalancer: {} } });
  assert.equal(main.spec?.type, 'NodePort');
  assert.deepEqual(main.status?.loadBalancer?.ingress, [{ ip: '10.0.0.1', ipMode: 'VIP' }], 'status ignored through the main resource');
  const put = await client.update<Svc>(R.services, { ...main, status: { loadBalancer: { ingress: [{ ip: '10.0.0.2' }] } } }, { status: true });
  assert.deepEqual(put.status?.loadBalancer?.ingress, [{ ip: '10.0.0.2', ipMode: 'VIP' }]);
});

test('status writes: a Service keeps metadata changes (kube-apiserver resets only spec), a custom resource keeps only status', async () => {
  await client.create<Svc>(R.services, { metadata: { name: 'sm', namespace: 'demo', labels: { keep: 'me' } }, spec: { type: 'LoadBalancer' } });
  const both = await client.patch<Svc>(R.services, 'demo', 'sm', {
    metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': 'p1' }, labels: { added: 'yes' } },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.7' }] } },
    spec: { type: 'NodePort' },
  }, { status: true });
  assert.deepEqual(both.metadata.annotations, { 'metallb.io/ip-allocated-from-pool': 'p1' });
  assert.deepEqual(both.metadata.labels, { keep: 'me', added: 'yes' });
  assert.deepEqual(both.status?.loadBalancer?.ingress, [{ ip: '10.0.0.7', ipMode: 'VIP' }]);
  assert.equal(both.spec?.type, 'LoadBalancer', 'spec ignored through /status');
  const gone = await client.patch<Svc>(R.services, 'demo', 'sm', { metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': null } }, status: { loadBalancer: { ingress: null } } }, { status: true });
  assert.equal(gone.metadata.annotations, undefined);
  assert.deepEqual(gone.status?.loadBalancer, {});
  const stored = server.getObject('', 'services', 'demo', 'sm');
  assert.equal(stored?.metadata.resourceVersion, gone.metadata.resourceVersion);
  assert.equal(stored?.metadata.annotations, undefined);

  await client.create(R.ipaddresspools, { metadata: { name: 'crd-st', namespace: 'demo', labels: { a: '1' } }, spec: { addresses: ['192.0.2.0/28'] } });
  const pool = await client.patch<KubeObject & { status?: Record<string, number> }>(R.ipaddresspools, 'demo', 'crd-st', {
    metadata: { labels: { a: '2' }, annotations: { x: 'y' } },
    status: { assignedIPv4: 1 },
  }, { status: true });
  assert.deepEqual(pool.status, { assignedIPv4: 1 });
  assert.deepEqual(pool.metadata.labels, { a: '1' }, 'a custom resource status write resets metadata');
  assert.equal(pool.metadata.annotations, undefined);
});

test('statusResetsMetadata: a server that drops metadata on Service status writes (realism switch)', async () => {
  const strict = await FakeApiServer.start({ statusResetsMetadata: true });
  try {
    const c = KubeClient.fromOptions({ kubeconfig: strict.writeKubeconfig(join(dir, 'kc-reset')) });
    await c.create(R.services, { metadata: { name: 'r', namespace: 'default' }, spec: { type: 'LoadBalancer' } });
    const r = await c.patch<Svc>(R.services, 'default', 'r', { metadata: { annotations: { k: 'v' } }, status: { loadBalancer: { ingress: [{ ip: '10.0.0.8' }] } } }, { status: true });
    assert.equal(r.metadata.annotations, undefined);
    assert.deepEqual(r.status?.loadBalancer?.ingress, [{ ip: '10.0.0.8', ipMode: 'VIP' }]);
  } finally {
    await strict.close();
  }
});

test('patch: merge, JSON patch, strategic merge, resourceVersion precondition, unsupported type', async () => {
  await client.create(R.services, { metadata: { name: 'p', namespace: 'demo', labels: { a: '1', b: '2' } }, spec: { type: 'ClusterIP' } });
  const m = await client.patch(R.services, 'demo', 'p', { metadata: { labels: { a: null, c: '3' } } }, { type: 'merge' });
  assert.deepEqual(m.metadata.labels, { b: '2', c: '3' });
  const j = await client.patch(R.services, 'demo', 'p', [
    { op: 'test', path: '/metadata/labels/b', value: '2' },
    { op: 'add', path: '/metadata/annotations', value: { 'metallb.io/ip-allocated-from-pool': 'x' } },
    { op: 'remove', path: '/metadata/labels/c' },
  ], { type: 'json' });
  assert.deepEqual(j.metadata.labels, { b: '2' });
  assert.equal(j.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], 'x');
  await rejects(client.patch(R.services, 'demo', 'p', [{ op: 'test', path: '/metadata/labels/b', value: 'nope' }], { type: 'json' }), 422, 'Invalid');
  const sm = await client.patch(R.services, 'demo', 'p', { metadata: { labels: { d: '4' } } }, { type: 'strategic' });
  assert.deepEqual(sm.metadata.labels, { b: '2', d: '4' });
  await rejects(client.patch(R.services, 'demo', 'p', { metadata: { resourceVersion: '1', labels: { e: '5' } } }), 409, 'Conflict');
  await rejects(client.request('PATCH', client.path(R.services, 'demo', 'p'), { body: {}, contentType: 'application/json' }), 415, 'UnsupportedMediaType');
  await rejects(client.patch(R.services, 'demo', 'missing', {}), 404, 'NotFound');
});

test('list with label and field selectors; delete with preconditions', async () => {
  await client.create(R.configmaps, { metadata: { name: 'l1', namespace: 'demo', labels: { app: 'x', tier: 'a' } } });
  await client.create(R.configmaps, { metadata: { name: 'l2', namespace: 'demo', labels: { app: 'x', tier: 'b' } } });
  await client.create(R.configmaps, { metadata: { name: 'l3', namespace: 'demo', labels: { app: 'y' } } });
  const names = async (q: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
    (await client.list(R.configmaps, { namespace: 'demo', ...q })).items.map((o) => o.metadata.name);
  assert.deepEqual(await names({ labelSelector: 'app=x' }), ['l1', 'l2']);
  assert.deepEqual(await names({ labelSelector: 'app=x,tier!=a' }), ['l2']);
  assert.deepEqual(await names({ labelSelector: 'tier in (a,b)' }), ['l1', 'l2']);
  assert.deepEqual(await names({ labelSelector: '!tier' }), ['l3']);
  assert.deepEqual(await names({ fieldSelector: 'metadata.name=l3' }), ['l3']);
  await rejects(client.list(R.configmaps, { fieldSelector: 'spec.foo=bar' }), 400, 'BadRequest');
  const all = await client.list(R.configmaps);
  assert.ok(Number(all.resourceVersion) >= 3);
  const l1 = await client.get(R.configmaps, 'demo', 'l1');
  await rejects(client.delete(R.configmaps, 'demo', 'l1', { uid: 'not-the-uid' }), 409, 'Conflict');
  assert.equal(await client.delete(R.configmaps, 'demo', 'l1', { uid: l1?.metadata.uid ?? '' }), true);
  assert.equal(await client.delete(R.configmaps, 'demo', 'l1'), false);
  assert.equal(await client.get(R.configmaps, 'demo', 'l1'), undefined);
});

function collect(): { events: WatchEvent[]; done: Promise<Error | null>; finish: (e: Error | null) => void } {
  let finish: (e: Error | null) => void = () => {};
  const done = new Promise<Error | null>((r) => (finish = r));
  return { events: [], done, finish };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('watch streams ADDED/MODIFIED/DELETED from a resourceVersion, with bookmarks and selectors', async () => {
  const start = await client.list(R.configmaps, { namespace: 'demo' });
  const c = collect();
  const h = await client.watch(R.configmaps, { namespace: 'demo', resourceVersion: start.resourceVersion, labelSelector: 'w=1' }, (e) => c.events.push(e), c.finish);
  await client.create(R.configmaps, { metadata: { name: 'w1', namespace: 'demo', labels: { w: '1' } } });
  await client.create(R.configmaps, { metadata: { name: 'w2', namespace: 'demo', labels: { w: '2' } } });
  await client.patch(R.configmaps, 'demo', 'w1', { data: { k: 'v' } });
  await client.patch(R.configmaps, 'demo', 'w2', { metadata: { labels: { w: '1' } } }); // starts matching
  await client.patch(R.configmaps, 'demo', 'w1', { metadata: { labels: { w: '3' } } }); // stops matching
  await client.delete(R.configmaps, 'demo', 'w2');
  await until(() => c.events.filter((e) => e.type !== 'BOOKMARK').length >= 5 && c.events.some((e) => e.type === 'BOOKMARK'), 'watch events');
  const seq = c.events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type}:${e.object.metadata.name}`);
  assert.deepEqual(seq, ['ADDED:w1', 'MODIFIED:w1', 'ADDED:w2', 'DELETED:w1', 'DELETED:w2']);
  const bm = c.events.find((e) => e.type === 'BOOKMARK');
  assert.ok(Number(bm?.object.metadata.resourceVersion) >= Number(start.resourceVersion));
  h.abort();
  await c.done;
});

test('a watch from a compacted resourceVersion gets an ERROR event with 410 Expired', async () => {
  const old = await client.list(R.configmaps, { namespace: 'demo' });
  await client.create(R.configmaps, { metadata: { name: 'gone', namespace: 'demo' } });
  server.compact();
  const c = collect();
  await client.watch(R.configmaps, { namespace: 'demo', resourceVersion: old.resourceVersion }, (e) => c.events.push(e), c.finish);
  assert.equal(await c.done, null);
  assert.equal(c.events.length, 1);
  assert.equal(c.events[0]?.type, 'ERROR');
  assert.equal(c.events[0]?.object.code, 410);
  assert.equal(c.events[0]?.object.reason, 'Expired');
  // the current resourceVersion is still watchable
  const cur = await client.list(R.configmaps, { namespace: 'demo' });
  const c2 = collect();
  const h = await client.watch(R.configmaps, { namespace: 'demo', resourceVersion: cur.resourceVersion }, (e) => c2.events.push(e), c2.finish);
  await client.create(R.configmaps, { metadata: { name: 'after', namespace: 'demo' } });
  await until(() => c2.events.some((e) => e.type === 'ADDED'), 'ADDED after compaction');
  h.abort();
});

test('force-closed watches end the stream cleanly', async () => {
  const c = collect();
  await client.watch(R.configmaps, { namespace: 'demo' }, (e) => c.events.push(e), c.finish);
  await until(() => server.openWatches() > 0, 'open watch');
  assert.ok(server.closeWatches() >= 1);
  assert.equal(await c.done, null);
  assert.ok(c.events.every((e) => e.type === 'ADDED' || e.type === 'BOOKMARK'), 'initial state arrives as ADDED');
});

test('discovery documents list the metallb.io kinds', async () => {
  const rl = await client.request<{ resources: { name: string; namespaced: boolean }[] }>('GET', '/apis/metallb.io/v1beta1');
  const names = rl.resources.map((r) => r.name);
  for (const n of ['ipaddresspools', 'bgppeers', 'servicebgpstatuses', 'servicel2statuses', 'configurationstates', 'configurationstates/status']) {
    assert.ok(names.includes(n), n);
  }
  const v2 = await client.request<{ resources: { name: string }[] }>('GET', '/apis/metallb.io/v1beta2');
  assert.deepEqual(v2.resources.map((r) => r.name), ['bgppeers', 'bgppeers/status']);
});

test('history beyond the retained window (historyLimit) also answers 410 Expired', async () => {
  const start = await client.list(R.configmaps, { namespace: 'demo' });
  for (let i = 0; i < 60; i++) await client.create(R.configmaps, { metadata: { name: `bulk-${i}`, namespace: 'demo' } });
  const c = collect();
  await client.watch(R.configmaps, { namespace: 'demo', resourceVersion: start.resourceVersion }, (e) => c.events.push(e), c.finish);
  await c.done;
  assert.equal(c.events[0]?.type, 'ERROR');
  assert.equal(c.events[0]?.object.code, 410);
  assert.match(String(c.events[0]?.object.message), /too old resource version/);
});

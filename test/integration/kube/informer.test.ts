// The list-watch loop and Lease election against the test API server, over HTTP through the
// real client library.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { Informer } from '../../../src/kube/informer.ts';
import { LeaderElector } from '../../../src/kube/lease.ts';
import type { Lease } from '../../../src/kube/lease.ts';

let server: FakeApiServer;
let client: KubeClient;
let dir: string;

before(async () => {
  server = await FakeApiServer.start({ bookmarkIntervalMs: 100 });
  dir = mkdtempSync(join(tmpdir(), 'kube-informer-test-'));
  client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')) });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function names(inf: Informer<KubeObject>): string[] {
  return inf.list().map((o) => o.metadata.name).sort();
}

test('informer: initial list, live events, reconnect after forced close, 410 relist with diff', async () => {
  await client.create(R.namespaces, { metadata: { name: 'inf' } });
  await client.create(R.configmaps, { metadata: { name: 'c1', namespace: 'inf' } });
  const inf = new Informer<KubeObject>(client, R.configmaps, { namespace: 'inf', backoff: { initialMs: 20, maxMs: 200 } });
  const log: string[] = [];
  inf.addHandler({
    add: (o) => log.push(`add:${o.metadata.name}`),
    update: (_a, b) => log.push(`update:${b.metadata.name}`),
    delete: (o) => log.push(`delete:${o.metadata.name}`),
  });
  inf.start();
  try {
    await inf.waitForSync();
    assert.deepEqual(names(inf), ['c1']);
    await client.create(R.configmaps, { metadata: { name: 'c2', namespace: 'inf' } });
    await until(() => names(inf).includes('c2'), 'c2 via watch');

    // Forced disconnect: changes made while disconnected arrive after the re-watch.
    const watchesBefore = inf.stats.watches;
    server.closeWatches();
    await client.patch(R.configmaps, 'inf', 'c1', { data: { a: 'b' } });
    await until(() => inf.stats.watches > watchesBefore && (inf.get('inf/c1') as { data?: Record<string, string> } | undefined)?.data?.['a'] === 'b', 'update after reconnect');
    assert.equal(inf.stats.expired, 0);

    // 410: close the watch, change things, compact history → the re-watch is expired →
    // relist, and the handlers see exactly what changed.
    await until(() => server.openWatches() > 0, 'watch reopened');
    const listsBefore = inf.stats.lists;
    log.length = 0;
    server.closeWatches();
    await client.delete(R.configmaps, 'inf', 'c2');
    await client.create(R.configmaps, { metadata: { name: 'c3', namespace: 'inf' } });
    server.compact();
    await until(() => inf.stats.lists > listsBefore && names(inf).join() === 'c1,c3', 'relist after 410');
    assert.ok(inf.stats.expired >= 1, 'saw 410');
    assert.ok(log.includes('delete:c2'), log.join());
    assert.ok(log.includes('add:c3'), log.join());
    assert.ok(!log.includes('add:c1'), 'unchanged objects are not re-added');

    // bookmarks advance the resourceVersion without changing the cache
    const bm = inf.stats.bookmarks;
    await until(() => inf.stats.bookmarks > bm, 'bookmark');
  } finally {
    await inf.stop();
  }
});

test('informer: keeps retrying with backoff while the server is unreachable', async () => {
  const s2 = await FakeApiServer.start();
  const c2 = KubeClient.fromOptions({ kubeconfig: s2.writeKubeconfig(join(dir, 'kubeconfig2')) });
  const inf = new Informer<KubeObject>(c2, R.namespaces, { backoff: { initialMs: 20, maxMs: 100 } });
  await s2.close();
  inf.start();
  try {
    await until(() => inf.stats.errors >= 3, 'several failed attempts');
    assert.equal(inf.hasSynced, false);
  } finally {
    await inf.stop();
  }
});

test('leader election: one leader at a time; takeover after the lease expires; clean release', async () => {
  await client.create(R.namespaces, { metadata: { name: 'le' } }).catch(() => undefined);
  const mk = (id: string, events: string[]): LeaderElector =>
    new LeaderElector({
      client,
      namespace: 'le',
      name: 'metallb-ts-controller',
      identity: id,
      leaseDurationSeconds: 1,
      renewDeadlineSeconds: 0.8,
      retryPeriodSeconds: 0.1,
      onStartedLeading: () => events.push('start'),
      onStoppedLeading: () => events.push('stop'),
    });
  const ea: string[] = [];
  const eb: string[] = [];
  const a = mk('a', ea);
  const b = mk('b', eb);
  a.start();
  await until(() => a.isLeader, 'a leads');
  b.start();
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(b.isLeader, false, 'b must not lead while a renews');
  let lease = await client.get<Lease>(R.leases, 'le', 'metallb-ts-controller');
  assert.equal(lease?.spec?.holderIdentity, 'a');
  assert.equal(lease?.spec?.leaseDurationSeconds, 1);
  assert.match(lease?.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  // a dies without releasing: b waits for expiry, then takes over
  await a.stop({ release: false });
  const t0 = Date.now();
  await until(() => b.isLeader, 'b takes over');
  assert.ok(Date.now() - t0 >= 500, 'not before the lease has expired');
  lease = await client.get<Lease>(R.leases, 'le', 'metallb-ts-controller');
  assert.equal(lease?.spec?.holderIdentity, 'b');
  assert.equal(lease?.spec?.leaseTransitions, 1);

  // b releases on a clean stop; a new candidate gets it at once
  await b.stop();
  assert.deepEqual(eb, ['start', 'stop']);
  lease = await client.get<Lease>(R.leases, 'le', 'metallb-ts-controller');
  assert.equal(lease?.spec?.holderIdentity, '');
  const ec: string[] = [];
  const c = mk('c', ec);
  c.start();
  await until(() => c.isLeader, 'c leads after release', 1000);
  await c.stop();
  assert.deepEqual(ea, ['start', 'stop']);
});

test('optional informer: a CRD that is not installed (404) is an empty synced cache, logged once; picked up when the CRD appears, emptied when it goes', async () => {
  const crdRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
  await client.create(R.namespaces, { metadata: { name: 'frr' } });
  await assert.rejects(client.list(R.frrconfigurations, { namespace: 'frr' }), (e: unknown) => (e as { code?: number }).code === 404);
  const lines: string[] = [];
  const { pino } = await import('pino');
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  const inf = new Informer<KubeObject>(client, R.frrconfigurations, { namespace: 'frr', optional: true, absentRetryMaxMs: 300, backoff: { initialMs: 20, maxMs: 200 }, logger });
  const log: string[] = [];
  inf.addHandler({ add: (o) => log.push(`add:${o.metadata.name}`), delete: (o) => log.push(`delete:${o.metadata.name}`) });
  inf.start();
  try {
    await inf.waitForSync();
    assert.equal(inf.absent, true);
    assert.deepEqual(inf.list(), []);
    await new Promise((r) => setTimeout(r, 1500)); // several retries while absent
    const notServed = lines.filter((l) => l.includes('not served by the API server'));
    assert.equal(notServed.length, 1, 'logged once per absence, not per retry');
    assert.match(notServed[0] ?? '', /"level":30/); // INFO
    assert.ok(inf.stats.errors >= 2, 'it kept checking');

    // the CRD is installed (frr-k8s or our manifest), then an object is created
    const { crd, frrCrdDef } = await import('../../../scripts/gen-manifests.ts');
    await client.create(crdRef, crd(frrCrdDef()) as KubeObject);
    await client.create(R.frrconfigurations, { apiVersion: 'frrk8s.metallb.io/v1beta1', kind: 'FRRConfiguration', metadata: { name: 'a', namespace: 'frr' }, spec: { bgp: { routers: [] } } });
    await until(() => names(inf).includes('a'), 'the object after the CRD appeared');
    assert.equal(inf.absent, false);
    assert.deepEqual(log, ['add:a']);
    assert.ok(lines.some((l) => l.includes('resource is served now')));

    // the CRD is removed: the cache empties
    await client.delete(crdRef, undefined, 'frrconfigurations.frrk8s.metallb.io');
    server.closeWatches();
    await until(() => inf.absent && names(inf).length === 0, 'the cache emptied after the CRD was removed');
    assert.deepEqual(log, ['add:a', 'delete:a']);
  } finally {
    await inf.stop();
  }
});

// Kubernetes client hygiene against the test API server: User-Agent and fieldManager on every
// request, one ERROR for rejected credentials, aggregated events (also across a restart), paged
// lists, and WaitForCacheSync over informers whose lists arrive late and shuffled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R, kubeClientIdentity } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { EventRecorder } from '../../../src/kube/events.ts';
import { Informer, waitForCacheSync } from '../../../src/kube/informer.ts';
import { Controller } from '../../../src/kube/controller.ts';
import { createLogger } from '../../../src/observability/logger.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-hygiene-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ destination: sink, level: 'debug' }) };
}

async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const kc = (s: FakeApiServer): string => s.writeKubeconfig(join(dir, `kc-${Math.random().toString(36).slice(2)}`));

test('controller: every request has our User-Agent, every write fieldManager metallb-ts-controller', async () => {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  const client = KubeClient.fromOptions({ kubeconfig: kc(server), ...kubeClientIdentity('controller') });
  const c = new Controller({ client, namespace: 'metallb-system', identity: 'c1', logger: createLogger({ level: 'silent' }), leaderElection: false });
  try {
    await client.create(R.namespaces, { metadata: { name: 'metallb-system' } });
    await client.create(R.ipaddresspools, { metadata: { name: 'p', namespace: 'metallb-system' }, spec: { addresses: ['192.0.2.0/30'] } });
    await c.start();
    await client.create(R.services, { metadata: { name: 's', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    await until(async () => (await client.get<KubeObject & { status?: { loadBalancer?: { ingress?: unknown[] } } }>(R.services, 'default', 's'))?.status?.loadBalancer?.ingress?.length, 'IP');
    assert.ok(server.requests.length > 5);
    for (const r of server.requests) assert.match(r.userAgent ?? '', /^metallb-ts-controller\/\S+ \(/, `${r.method} ${r.path}`);
    const writes = server.requests.filter((r) => ['create', 'update', 'patch'].includes(r.verb));
    assert.ok(writes.some((w) => w.path.endsWith('/status')));
    for (const w of writes) assert.equal(w.fieldManager, 'metallb-ts-controller', `${w.method} ${w.path}`);
  } finally {
    await c.stop();
    await server.close();
  }
});

test('rejected credentials: one ERROR (not a warning per informer per retry), cleared when accepted again', async () => {
  let verdict: 401 | 403 | undefined = 401;
  const server = await FakeApiServer.start({ authorize: () => verdict });
  const { lines, logger } = capture();
  const client = KubeClient.fromOptions({ kubeconfig: kc(server), logger });
  const infs = [R.services, R.nodes, R.configmaps, R.secrets].map((r) => new Informer<KubeObject>(client, r, { logger, backoff: { initialMs: 20, maxMs: 60 } }));
  try {
    for (const i of infs) i.start();
    await until(() => infs.every((i) => i.stats.errors >= 3), 'several failed retries per informer');
    const errors = lines.filter((l) => l['level'] === 50);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(String(errors[0]?.['msg']), /rejected our credentials \(401 Unauthorized\)/);
    assert.equal(lines.filter((l) => l['level'] === 40).length, 0, 'no warnings for auth failures');
    verdict = undefined;
    assert.equal(await waitForCacheSync(infs, { timeoutMs: 5000 }), true);
    assert.ok(lines.some((l) => l['level'] === 30 && /accepts our requests again/.test(String(l['msg']))));
  } finally {
    await Promise.all(infs.map((i) => i.stop()));
    await server.close();
  }
});

test('events: a repeat bumps count/lastTimestamp of one object, also after a restart (new recorder)', async () => {
  const server = await FakeApiServer.start();
  const client = KubeClient.fromOptions({ kubeconfig: kc(server) });
  try {
    const svc = await client.create(R.services, { metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    let t = Date.parse('2026-01-01T00:00:00Z');
    const clock = (): Date => new Date((t += 1000));
    const rec = new EventRecorder(client, 'metallb-controller', 'c1', undefined, clock);
    for (let i = 0; i < 3; i++) await rec.service(svc, 'Normal', 'IPAllocated', 'Assigned IP ["192.0.2.1"]');
    await rec.service(svc, 'Warning', 'AllocationFailed', 'no available IPs');
    let evs = (await client.list(R.events, { namespace: 'default' })).items;
    assert.equal(evs.length, 2);
    const ok = evs.find((e) => e['reason'] === 'IPAllocated');
    assert.equal(ok?.['count'], 3);
    assert.equal(ok?.['firstTimestamp'], '2026-01-01T00:00:01Z');
    assert.equal(ok?.['lastTimestamp'], '2026-01-01T00:00:03Z');
    assert.deepEqual(rec.stats, { created: 2, aggregated: 2, failed: 0 });
    const again = new EventRecorder(client, 'metallb-controller', 'c2', undefined, clock);
    await again.service(svc, 'Normal', 'IPAllocated', 'Assigned IP ["192.0.2.1"]');
    evs = (await client.list(R.events, { namespace: 'default' })).items;
    assert.equal(evs.length, 2, 'no twin after a restart');
    assert.equal(evs.find((e) => e['reason'] === 'IPAllocated')?.['count'], 4);
  } finally {
    await server.close();
  }
});

test('events: a bounded queue behind higher-priority writes (delayed, never starved); what does not fit is counted and logged', async () => {
  const server = await FakeApiServer.start({ requestLatencyMs: 20 });
  const client = KubeClient.fromOptions({ kubeconfig: kc(server) });
  const { lines, logger } = capture();
  try {
    const svc = await client.create(R.services, { metadata: { name: 'busy', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    let busy = true;
    const lost: string[] = [];
    const rec = new EventRecorder(client, 'metallb-controller', 'c1', logger, undefined, { maxQueued: 3, yieldTo: () => busy, maxDelayMs: 300, onLost: (r) => lost.push(r) });
    const before = server.requests.length;
    const created = (): number => server.requests.slice(before).filter((r) => r.path.includes('/events') && r.verb === 'create').length;
    for (let i = 0; i < 10; i++) void rec.service(svc, 'Normal', 'IPAllocated', `Assigned IP ["192.0.2.${i}"]`);
    // while busy nothing is written at once: three wait, seven are dropped
    assert.equal(rec.pending, 3);
    assert.deepEqual(rec.lost, { queue_full: 7, write_failed: 0 });
    assert.deepEqual(lost, Array(7).fill('queue_full'));
    assert.equal(lines.filter((l) => l['msg'] === 'event queue full; dropping events').length, 1, 'logged once per 1000 drops');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(created(), 0, 'events wait while the higher-priority work runs');
    // still busy: after maxDelayMs the waiting events are written anyway
    const end = Date.now() + 20000;
    while (created() < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(created(), 3, 'delayed, not starved');
    busy = false;
    void rec.service(svc, 'Normal', 'IPAllocated', 'Assigned IP ["192.0.2.99"]');
    await rec.flush();
    assert.equal(rec.pending, 0);
    assert.deepEqual(server.countByVerb((r) => server.requests.indexOf(r) >= before && r.path.includes('/events')), { create: 4 });
    const evs = (await client.list(R.events, { namespace: 'default' })).items;
    assert.deepEqual(evs.map((e) => e['message']).sort(), [0, 1, 2, 99].map((i) => `Assigned IP ["192.0.2.${i}"]`));
  } finally {
    await server.close();
  }
});

test('requests reuse kept-alive connections; one the server closed meanwhile is retried transparently', async () => {
  const server = await FakeApiServer.start();
  const client = KubeClient.fromOptions({ kubeconfig: kc(server) });
  try {
    const before = server.connectionsAccepted;
    for (let i = 0; i < 20; i++) await client.get(R.namespaces, undefined, 'default');
    await Promise.all(Array.from({ length: 8 }, () => client.list(R.namespaces)));
    const used = server.connectionsAccepted - before;
    assert.ok(used <= 8, `28 requests over ${used} connections`);
    // the server drops every idle connection (as at its keep-alive timeout): the next request
    // still succeeds
    server.restart();
    assert.equal((await client.get(R.namespaces, undefined, 'default'))?.metadata.name, 'default');
  } finally {
    await server.close();
  }
});

test('paged lists follow continue; an expired continue token falls back to one full list', async () => {
  const server = await FakeApiServer.start();
  const client = KubeClient.fromOptions({ kubeconfig: kc(server) });
  try {
    for (let i = 0; i < 7; i++) await client.create(R.configmaps, { metadata: { name: `cm${i}`, namespace: 'default' } });
    const before = server.requests.length;
    const all = await client.list(R.configmaps, { namespace: 'default', limit: 3 });
    assert.deepEqual(all.items.map((o) => o.metadata.name).sort(), ['cm0', 'cm1', 'cm2', 'cm3', 'cm4', 'cm5', 'cm6']);
    assert.equal(all.items[0]?.kind, 'ConfigMap', 'the client fills in kind for core items');
    const lists = server.requests.slice(before).filter((r) => r.verb === 'list');
    assert.equal(lists.length, 3);
    // Raw page: core items carry no kind/apiVersion; a token past a compaction is 410.
    const page = await client.request<{ items: KubeObject[]; metadata: { continue?: string; remainingItemCount?: number } }>('GET', '/api/v1/namespaces/default/configmaps', { query: { limit: '2' } });
    assert.equal(page.items[0]?.kind, undefined);
    assert.equal(page.metadata.remainingItemCount, 5);
    server.compact();
    await assert.rejects(client.request('GET', '/api/v1/namespaces/default/configmaps', { query: { limit: '2', continue: page.metadata.continue } }), (e: { code?: number }) => e.code === 410);
  } finally {
    await server.close();
  }
});

test('Services get kube-apiserver defaults; ingress gets ipMode VIP', async () => {
  const server = await FakeApiServer.start();
  const client = KubeClient.fromOptions({ kubeconfig: kc(server) });
  try {
    type S = KubeObject & { spec: Record<string, unknown> & { ports: Record<string, unknown>[] }; status: { loadBalancer: { ingress?: Record<string, unknown>[] } } };
    const s = await client.create<KubeObject>(R.services, { metadata: { name: 'd', namespace: 'default' }, spec: { type: 'LoadBalancer', ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] } }) as S;
    assert.match(String(s.spec['clusterIP']), /^10\.9[6-9]\.|^10\.1[01]\d\./);
    assert.deepEqual(s.spec['ipFamilies'], ['IPv4', 'IPv6']);
    assert.equal((s.spec['clusterIPs'] as string[]).length, 2);
    assert.equal(s.spec['externalTrafficPolicy'], 'Cluster');
    assert.equal(s.spec['sessionAffinity'], 'None');
    const port = s.spec.ports[0] ?? {};
    assert.equal(port['protocol'], 'TCP');
    assert.ok(Number(port['nodePort']) >= 30000 && Number(port['nodePort']) <= 32767);
    const st = await client.patch<S>(R.services, 'default', 'd', { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } }, { status: true });
    assert.deepEqual(st.status.loadBalancer.ingress, [{ ip: '192.0.2.1', ipMode: 'VIP' }]);
  } finally {
    await server.close();
  }
});

test('waitForCacheSync: resolves only after every delayed, shuffled list; an API server restart makes informers relist', async () => {
  const server = await FakeApiServer.start({ listLatencyMs: [50, 300], shuffleLists: 7, bookmarkIntervalMs: 100 });
  const client = KubeClient.fromOptions({ kubeconfig: kc(server) });
  const infs = [R.services, R.configmaps, R.nodes].map((r) => new Informer<KubeObject>(client, r, { backoff: { initialMs: 20, maxMs: 100 } }));
  try {
    for (const i of infs) i.start();
    assert.equal(await waitForCacheSync(infs, { timeoutMs: 10 }), false, 'not within 10 ms of 50+ ms lists');
    assert.equal(await waitForCacheSync(infs, { timeoutMs: 5000 }), true);
    assert.ok(infs.every((i) => i.hasSynced));
    const ctl = new AbortController();
    ctl.abort();
    assert.equal(await waitForCacheSync([new Informer<KubeObject>(client, R.leases)], { signal: ctl.signal }), false);
    await until(() => server.openWatches() >= 3, 'watches');
    const lists = infs.map((i) => i.stats.lists);
    server.restart();
    await until(() => infs.every((i, n) => i.stats.lists > (lists[n] ?? 0)), 'relist after restart');
    assert.ok(infs.every((i) => i.stats.expired >= 1), 'resumed watches got 410');
  } finally {
    await Promise.all(infs.map((i) => i.stop()));
    await server.close();
  }
});

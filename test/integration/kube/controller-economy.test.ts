// The controller against an API server that behaves like kube-apiserver at start-up (lists
// arrive late and in an order we do not choose): it never publishes an Invalid state for a valid
// configuration, hands out the same addresses whatever the list order, costs a new Service one
// write (status + annotation in one patch to services/status) and one event, writes NOTHING on a
// restart, and a pool edit touches only the Services whose address changes. Against a server
// that drops metadata on Service status writes it falls back to a separate annotation patch.
// Configuration from YAML through the real builder (applyYaml).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import type { RequestRecord } from '../../support/apiserver/index.ts';
import { applyYaml } from '../../support/apiserver/seed.ts';
import { KubeClient, R, kubeClientIdentity } from '../../../src/kube/client.ts';
import type { KubeObject, WatchEvent, WatchHandle } from '../../../src/kube/client.ts';
import { Controller } from '../../../src/kube/controller.ts';

const NS = 'metallb-system';
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-economy-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
apiVersion: v1
kind: Namespace
metadata: { name: metallb-system }
---
apiVersion: v1
kind: Namespace
metadata: { name: web }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.254 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
spec: { ipAddressPools: [first-pool], peers: [tor] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2, namespace: metallb-system }
spec: { ipAddressPools: [first-pool] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: first-pool, namespace: metallb-system }
spec: { addresses: [198.51.100.0/26] }
`;

const N = 24;
const name = (i: number): string => `svc-${String(i).padStart(2, '0')}`;

async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

type Svc = KubeObject & { status?: { loadBalancer?: { ingress?: { ip: string }[] } } };

async function ips(client: KubeClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of (await client.list<Svc>(R.services, { namespace: 'web' })).items) {
    const ip = s.status?.loadBalancer?.ingress?.[0]?.ip;
    if (ip) out.set(s.metadata.name, ip);
  }
  return out;
}

function controller(client: KubeClient, id: string): Controller {
  return new Controller({ client, namespace: NS, identity: id, logger: pino({ level: 'silent' }), leaderElection: false, workers: 4, backoff: { initialMs: 20, maxMs: 200 } });
}

const isWrite = (r: RequestRecord): boolean => ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(r.verb);

test('shuffled, delayed lists: never Invalid, deterministic IPs, 1 write + 1 event per Service, restart writes nothing, pool edit touches only moved Services', async () => {
  const server = await FakeApiServer.start({ listLatencyMs: [20, 250], shuffleLists: true, requestLatencyMs: [0, 3], bookmarkIntervalMs: 200 });
  const kubeconfig = server.writeKubeconfig(join(dir, 'kc'));
  const client = KubeClient.fromOptions({ kubeconfig, ...kubeClientIdentity('controller') });
  const seen: string[] = [];
  let watch: WatchHandle | undefined;
  let c = controller(client, 'c1');
  try {
    await applyYaml(client, CONFIG);
    for (let i = 0; i < N; i++) {
      await client.create(R.services, { metadata: { name: name(i), namespace: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    }
    watch = await client.watch(R.configurationstates, { namespace: NS }, (ev: WatchEvent) => {
      const st = (ev.object as { status?: { result?: string } }).status;
      if (st?.result) seen.push(st.result);
    }, () => undefined);
    const mark = server.requests.length;
    await c.start();
    const got = await until(async () => {
      const m = await ips(client);
      return m.size === N ? m : undefined;
    }, 'every Service has an IP');
    await until(() => c.settled, 'controller settled');
    await until(async () => (await client.list(R.events, { namespace: 'web' })).items.length >= N, 'events');
    // Deterministic: Services in key order get the pool's addresses in order, whatever the list order.
    for (let i = 0; i < N; i++) assert.equal(got.get(name(i)), `198.51.100.${i}`, name(i));
    assert.deepEqual([...new Set(seen)], ['Valid'], 'ConfigurationState was never Invalid');
    const web = (r: RequestRecord): boolean => r.path.startsWith('/api/v1/namespaces/web/') && isWrite(r);
    const svcWrites = server.requests.slice(mark).filter((r) => web(r) && r.path.includes('/services/'));
    assert.deepEqual(server.countByVerb((r) => svcWrites.includes(r)), { patch: N }, 'one write per Service');
    assert.ok(svcWrites.every((r) => r.path.endsWith('/status')), 'status and annotation in one patch to services/status');
    for (const s of (await client.list<Svc>(R.services, { namespace: 'web' })).items) {
      assert.equal(s.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], 'first-pool', s.metadata.name);
    }
    const evWrites = server.requests.slice(mark).filter((r) => web(r) && r.path.includes('/events'));
    assert.deepEqual(server.countByVerb((r) => evWrites.includes(r)), { create: N }, 'one event per Service');
    await c.stop();

    // Restart: nothing to change, nothing written (the API server is restarted too).
    server.restart();
    const before = server.requests.length;
    c = controller(KubeClient.fromOptions({ kubeconfig, ...kubeClientIdentity('controller') }), 'c2');
    await c.start();
    await until(() => c.settled, 'restarted controller settled');
    await new Promise((r) => setTimeout(r, 400)); // pool status throttle window
    assert.ok(c.settled);
    const after = server.requests.slice(before).filter(isWrite);
    assert.deepEqual(after.map((r) => `${r.method} ${r.path}`), [], 'a restart writes nothing');
    assert.deepEqual(await ips(client), got);

    // Pool edit: the pool grows (nobody moves), then loses .16-.23 (those 8 move nowhere: the
    // pool is full, so they lose their address; nobody else is touched).
    const edit = async (addresses: string[]): Promise<RequestRecord[]> => {
      const at = server.requests.length;
      await client.patch(R.ipaddresspools, NS, 'first-pool', { spec: { addresses } });
      await new Promise((r) => setTimeout(r, 300));
      await until(() => c.settled, 'settled after the pool edit');
      return server.requests.slice(at).filter((r) => isWrite(r) && r.path.includes('/services/'));
    };
    assert.deepEqual(await edit(['198.51.100.0/26', '203.0.113.0/28']), [], 'growing a pool moves nobody');
    const touched = await edit(['198.51.100.0-198.51.100.15']);
    const names = new Set(touched.map((r) => r.path.split('/')[6]));
    assert.deepEqual([...names].sort(), Array.from({ length: 8 }, (_, k) => name(16 + k)));
    assert.equal(touched.length, 8, 'status and annotation cleared in one patch per Service');
    for (const s of (await client.list<Svc>(R.services, { namespace: 'web' })).items.filter((x) => names.has(x.metadata.name))) {
      assert.equal(s.status?.loadBalancer?.ingress, undefined, s.metadata.name);
      assert.equal(s.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], undefined, s.metadata.name);
    }
  } finally {
    watch?.abort();
    await c.stop();
    await server.close();
  }
});

test('a server that drops metadata on Service status writes: the annotation follows in its own patch (detected once), events for every Service, a restart writes nothing', async () => {
  const server = await FakeApiServer.start({ statusResetsMetadata: true, requestLatencyMs: [0, 3] });
  const kubeconfig = server.writeKubeconfig(join(dir, 'kc-reset'));
  const client = KubeClient.fromOptions({ kubeconfig, ...kubeClientIdentity('controller') });
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
  const make = (id: string): Controller =>
    new Controller({ client: KubeClient.fromOptions({ kubeconfig, ...kubeClientIdentity('controller') }), namespace: NS, identity: id, logger, leaderElection: false, workers: 4, backoff: { initialMs: 20, maxMs: 200 } });
  let c = make('c1');
  try {
    await applyYaml(client, CONFIG);
    for (let i = 0; i < N; i++) {
      await client.create(R.services, { metadata: { name: name(i), namespace: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    }
    const mark = server.requests.length;
    await c.start();
    await until(async () => (await ips(client)).size === N, 'every Service has an IP');
    await until(() => c.settled, 'controller settled');
    const svcs = (await client.list<Svc>(R.services, { namespace: 'web' })).items;
    for (const s of svcs) assert.equal(s.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], 'first-pool', s.metadata.name);
    const writes = server.requests.slice(mark).filter((r) => isWrite(r) && r.path.startsWith('/api/v1/namespaces/web/services/'));
    assert.equal(writes.filter((r) => r.path.endsWith('/status')).length, N, 'one status patch per Service');
    assert.equal(writes.filter((r) => !r.path.endsWith('/status')).length, N, 'one annotation patch per Service');
    assert.equal(lines.filter((l) => l.includes('dropped the annotation sent with the Service status')).length, 1, 'detected and logged once');
    const evs = (await client.list(R.events, { namespace: 'web' })).items;
    assert.deepEqual(new Set(evs.map((e) => (e['involvedObject'] as { name: string }).name)), new Set(svcs.map((s) => s.metadata.name)), 'an event for every Service');
    await c.stop();

    const before = server.requests.length;
    c = make('c2');
    await c.start();
    await until(() => c.settled, 'restarted controller settled');
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(server.requests.slice(before).filter(isWrite).map((r) => `${r.method} ${r.path}`), [], 'a restart writes nothing');

    // Removal through the fallback: status and annotation both cleared.
    await client.patch(R.services, 'web', name(0), { spec: { type: 'ClusterIP' } });
    await until(async () => {
      const s = await client.get<Svc>(R.services, 'web', name(0));
      return s && s.status?.loadBalancer?.ingress === undefined && s.metadata.annotations?.['metallb.io/ip-allocated-from-pool'] === undefined;
    }, 'status and annotation cleared');
  } finally {
    await c.stop();
    await server.close();
  }
});

// Issue 11 acceptance: a speaker starting on a valid configuration, against an API server whose
// lists arrive late and in an order the client does not choose, never publishes an `Invalid`
// ConfigurationState, never deletes a ServiceBGPStatus it re-creates, and posts no new Event
// object on a restart (it reconciles only once every informer has synced and diffs the status
// objects it wants against those that exist).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { Informer } from '../../../src/kube/informer.ts';
import { KubeSpeaker } from '../../../src/kube/speaker.ts';
import { NodeAgent } from '../../../src/node/agent.ts';
import { RecordingSpeaker } from '../../unit/helpers/speaker.ts';

const NS = 'metallb-system';

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

type Status = KubeObject & { status?: { result?: string; peers?: string[] } };

test('speaker start and restart on a valid config with delayed, shuffled lists: no Invalid, no status delete, no repeat event', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'speaker-startup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await FakeApiServer.start({ listLatencyMs: [0, 250], shuffleLists: true });
  t.after(() => server.close());
  const client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')) });
  const logger = pino({ level: 'silent' });

  // a valid configuration whose advertisement names a pool and a peer (listed in any order)
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.namespaces, { metadata: { name: 'app' } });
  await client.create(R.nodes, { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
  await client.patch(R.nodes, undefined, 'n1', { status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } }, { status: true });
  for (let i = 0; i < 4; i++) {
    await client.create(R.ipaddresspools, { metadata: { name: `pool-${i}`, namespace: NS }, spec: { addresses: [`198.51.${100 + i}.0/28`] } });
    await client.create(R.bgpadvertisements, { metadata: { name: `adv-${i}`, namespace: NS }, spec: { ipAddressPools: [`pool-${i}`], peers: [`tor-${i}`] } });
    await client.create(R.bgppeers, { metadata: { name: `tor-${i}`, namespace: NS }, spec: { myASN: 64512, peerASN: 64513, peerAddress: `192.0.2.${i + 1}` } });
  }
  for (let i = 0; i < 4; i++) {
    await client.create(R.services, { metadata: { name: `web-${i}`, namespace: 'app' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
    await client.patch(R.services, 'app', `web-${i}`, { status: { loadBalancer: { ingress: [{ ip: `198.51.${100 + i}.1` }] } } }, { status: true });
    await client.create(R.endpointslices, {
      metadata: { name: `web-${i}-1`, namespace: 'app', labels: { 'kubernetes.io/service-name': `web-${i}` } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [`10.1.0.${i + 1}`], conditions: { ready: true }, nodeName: 'n1' }],
    });
  }

  // every ConfigurationState version the speaker writes, as a watcher sees it
  const results: string[] = [];
  const watch = new Informer<Status>(client, R.configurationstates, { namespace: NS });
  const record = (o: Status): void => {
    if (o.status?.result) results.push(o.status.result);
  };
  watch.addHandler({ add: record, update: (_a, b) => record(b) });
  watch.start();
  t.after(() => watch.stop());
  await watch.waitForSync();

  const start = async (): Promise<KubeSpeaker> => {
    const bgp = new RecordingSpeaker();
    const agent = new NodeAgent({ node: 'n1', logger, bgp, members: { port: 7946, secretNamespace: NS, secretName: 'metallb-memberlist' } });
    const s = new KubeSpeaker({ client, namespace: NS, nodeName: 'n1', podName: 'speaker-n1', podUID: 'u1', logger, agent, backoff: { initialMs: 20, maxMs: 200 } });
    await s.start();
    return s;
  };
  const settled = async (): Promise<Status[]> =>
    until(async () => {
      const l = (await client.list<Status>(R.servicebgpstatuses, { namespace: NS })).items;
      return l.length === 4 && l.every((o) => o.status?.peers?.length === 1) ? l : undefined;
    }, 'four ServiceBGPStatus with their peer');

  // first start: statuses and one nodeAssigned event per Service
  const first = await start();
  const before = await settled();
  await until(() => (results.at(-1) === 'Valid' ? true : undefined), 'ConfigurationState Valid');
  const events = (await client.list<KubeObject & { reason?: string }>(R.events, { namespace: 'app' })).items.filter((e) => e.reason === 'nodeAssigned');
  assert.equal(events.length, 4, 'one nodeAssigned event per Service');
  await first.stop();

  // restart: the same statuses stay (same objects), no new event object
  const mark = server.requests.length;
  const second = await start();
  t.after(() => second.stop());
  await until(() => (second.ready ? true : undefined), 'ready again');
  const after = await settled();
  // give a partial-cache reconcile every chance to show (lists take up to 250 ms each)
  await new Promise((r) => setTimeout(r, 1000));
  const since = server.requests.slice(mark);
  assert.deepEqual(since.filter((r) => r.verb === 'delete' && r.path.includes('servicebgpstatuses')).map((r) => r.path), [], 'no ServiceBGPStatus deleted');
  assert.deepEqual(since.filter((r) => r.verb === 'create' && r.path.includes('servicebgpstatuses')).map((r) => r.path), [], 'no ServiceBGPStatus re-created');
  assert.deepEqual(since.filter((r) => r.verb === 'create' && r.path.includes('/events')).map((r) => r.path), [], 'no new Event object');
  assert.deepEqual(after.map((o) => o.metadata.uid).sort(), before.map((o) => o.metadata.uid).sort(), 'the same objects');
  assert.ok(results.length > 0);
  assert.deepEqual([...new Set(results)], ['Valid'], 'never Invalid, in either start');
});

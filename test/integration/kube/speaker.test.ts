// The speaker's Kubernetes side against the test API server: readiness only after a valid
// configuration, BGP passwords from basic-auth Secrets, the last valid configuration kept when
// a new one is invalid, ServiceBGPStatus ownership. The session driver records the plans the
// speaker hands to the BGP speaker (the wire side is covered by e2e.test.ts with BIRD).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { KubeSpeaker } from '../../../src/kube/speaker.ts';
import { NodeAgent } from '../../../src/node/agent.ts';
import { RecordingSpeaker } from '../../unit/helpers/speaker.ts';
import { formatPrefix } from '../../../src/ip/index.ts';

const NS = 'metallb-system';
let server: FakeApiServer;
let client: KubeClient;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-speaker-test-'));
  server = await FakeApiServer.start();
  client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')) });
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.namespaces, { metadata: { name: 'app' } });
  await client.create(R.nodes, {
    metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } },
    status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] },
  });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('speaker: ready after config, passwordSecret resolved, invalid config keeps the last plan, statuses owned by the pod', async () => {
  const bgp = new RecordingSpeaker();
  const plans = bgp.plans;
  const logger = pino({ level: 'silent' });
  const speaker = new KubeSpeaker({
    client,
    namespace: NS,
    nodeName: 'n1',
    podName: 'speaker-abc',
    podUID: '1234',
    logger,
    agent: new NodeAgent({ node: 'n1', logger, bgp, members: { port: 7946, secretNamespace: NS, secretName: 'metallb-memberlist' } }),
    backoff: { initialMs: 20, maxMs: 200 },
  });
  await speaker.start();
  try {
    await until(() => (speaker.ready ? true : undefined), 'ready with the (empty) configuration');

    await client.create(R.secrets, { metadata: { name: 'bgp-auth', namespace: NS }, type: 'kubernetes.io/basic-auth', data: { password: Buffer.from('s3cret').toString('base64') } });
    await client.create(R.bgppeers, {
      metadata: { name: 'tor', namespace: NS },
      spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', passwordSecret: { name: 'bgp-auth', namespace: NS } },
    });
    await client.create(R.ipaddresspools, { metadata: { name: 'pub', namespace: NS }, spec: { addresses: ['198.51.100.0/28'] } });
    await client.create(R.bgpadvertisements, { metadata: { name: 'adv', namespace: NS }, spec: {} });
    const withPw = await until(() => plans.find((p) => p.length === 1 && p[0]?.config.password === 's3cret'), 'session with the Secret password');
    assert.equal(withPw[0]?.peer, 'tor');

    // a Service with an IP in status (written by the controller) and an endpoint on n1
    await client.create(R.endpointslices, {
      metadata: { name: 'web-1', namespace: 'app', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true }, nodeName: 'n1' }],
    });
    await client.create(R.services, { metadata: { name: 'web', namespace: 'app' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
    await client.patch(R.services, 'app', 'web', { status: { loadBalancer: { ingress: [{ ip: '198.51.100.3' }] } } }, { status: true });
    const routed = await until(() => plans.find((p) => p[0]?.routes.some((r) => formatPrefix(r.prefix) === '198.51.100.3/32')), '198.51.100.3/32 planned');
    assert.equal(routed[0]?.routes.length, 1);
    // created, then its status patched (the status subresource)
    const st = await until(async () => {
      const o = (await client.list<KubeObject & { status?: { peers?: string[] } }>(R.servicebgpstatuses, { namespace: NS })).items[0];
      return o?.status?.peers ? o : undefined;
    }, 'ServiceBGPStatus');
    assert.deepEqual(st.metadata.labels, { 'metallb.io/node': 'n1', 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'app' });
    assert.deepEqual(st.status?.peers, ['tor']);
    assert.deepEqual(st.metadata['ownerReferences'], [{ apiVersion: 'v1', kind: 'Pod', name: 'speaker-abc', uid: '1234', controller: true, blockOwnerDeletion: false }]);

    // an invalid configuration: reported, and the routes stay as they were
    const before = plans.length;
    await client.create(R.bgpadvertisements, { metadata: { name: 'broken', namespace: NS }, spec: { aggregationLength: 99 } });
    const cs = await until(async () => {
      const o = await client.get<KubeObject & { status?: { result?: string; errorSummary?: string } }>(R.configurationstates, NS, 'speaker-n1');
      return o?.status?.result === 'Invalid' ? o.status : undefined;
    }, 'Invalid ConfigurationState');
    assert.match(cs.errorSummary ?? '', /BGPAdvertisement\/broken: spec\.aggregationLength/);
    assert.equal(speaker.ready, true, 'still ready on the last valid configuration');
    for (const p of plans.slice(before)) assert.equal(p[0]?.routes.length, 1, 'the last valid configuration keeps announcing');

    // the Secret disappears: the session cannot be authenticated, so it is not started
    await client.delete(R.bgpadvertisements, NS, 'broken');
    await client.delete(R.secrets, NS, 'bgp-auth');
    await until(() => (plans[plans.length - 1]?.length === 0 ? true : undefined), 'session dropped without its password');

    // the Service goes away: its status object is deleted
    await client.delete(R.services, 'app', 'web');
    await until(async () => ((await client.list(R.servicebgpstatuses, { namespace: NS })).items.length === 0 ? true : undefined), 'status removed');
  } finally {
    await speaker.stop();
  }
});

// BGPSessionState objects through the test API server: the real BGP speaker (sessions to
// in-process BGP peers on loopback) and the real BGPSessionState publisher of the Kubernetes
// speaker. Objects appear when the sessions are configured, change to Established, follow a
// session going down, and disappear when the peer is removed; a restarted publisher adopts
// the existing objects instead of re-creating them. The CRD from config/crd is installed
// first, so the API server validates every write against our schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { pino } from 'pino';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { BGPSessionStateSync, sessionStatesPublisher } from '../../../src/kube/sessionstates.ts';
import { BGPSpeaker } from '../../../src/bgp/speaker/index.ts';
import { FakePeer, peerConfig, plan } from '../../unit/bgp/speaker/fakepeer.ts';
import { waitFor } from '../lib/proc.ts';
import { REPO_ROOT } from '../lib/standalone.ts';

const NS = 'metallb-system';
const logger = pino({ level: 'silent' });
type State = KubeObject & { status?: { node?: string; peer?: string; vrf?: string; bgpStatus?: string; bfdStatus?: string } };

test('BGPSessionState: appear, Established, follow the session, adopted after restart, removed with the peer', { timeout: 60000 }, async () => {
  const server = await FakeApiServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'mlbt-sessionstates-'));
  const client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')) });
  const peers = [new FakePeer(), new FakePeer()];
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger });
  let sync: BGPSessionStateSync | undefined;
  try {
    const crdRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
    await client.create(crdRef, parse(readFileSync(join(REPO_ROOT, 'config', 'crd', 'frrk8s.metallb.io_bgpsessionstates.yaml'), 'utf8')) as KubeObject);
    const crd = await client.get<KubeObject & { spec?: { versions?: { additionalPrinterColumns?: { name: string }[] }[] } }>(crdRef, undefined, 'bgpsessionstates.frrk8s.metallb.io');
    assert.deepEqual(crd?.spec?.versions?.[0]?.additionalPrinterColumns?.map((c) => c.name.toUpperCase()), ['NODE', 'PEER', 'VRF', 'BGP', 'BFD']);
    await client.create(R.namespaces, { metadata: { name: NS } });
    for (const p of peers) await p.start();
    const states = async (): Promise<State[]> => (await client.list<State>(R.bgpsessionstates, { namespace: NS })).items;
    const rows = async () => (await states()).map((s) => [s.status?.node, s.status?.peer, s.status?.vrf, s.status?.bgpStatus, s.status?.bfdStatus].join(' ')).sort();

    sync = new BGPSessionStateSync({ client, namespace: NS, nodeName: 'node1', logger, podName: 'speaker-x', podUID: 'uid-x' });
    const publish = sessionStatesPublisher(sync, 'node1', () => speaker.status());
    speaker.on('state', () => publish());
    await sync.start();
    publish();
    const cfg = peers.map((p, i) => peerConfig(p.port, { name: `p${i}`, ...(i === 1 ? { bfdProfile: 'fast' } : {}) }));
    speaker.setPlan(cfg.map((c) => plan(c, [])));
    const established = await waitFor('both Established', async () => {
      const r = await rows();
      return r.length === 2 && r.every((x) => x.includes(' Established ')) ? r : undefined;
    }, 20000).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}: objects ${JSON.stringify(await rows())}, speaker ${JSON.stringify(speaker.status().map((s) => s.state))}, requests ${server.requests.filter((r) => r.path.includes('bgpsessionstates')).map((r) => `${r.method} ${r.status}`).join(' ')}`);
    });
    // both fake peers listen on 127.0.0.1 (different ports): one object per session, same peer column
    // no BFD runs behind this bare speaker: N/A for both, never an invented "Down" (the BFD
    // state itself is checked against FRR bfdd in test/integration/bfd/kube-speaker.test.ts)
    assert.deepEqual(established, ['node1 127.0.0.1  Established N/A', 'node1 127.0.0.1  Established N/A']);
    const objs = await states();
    for (const o of objs) {
      assert.equal(o.metadata.labels?.['frrk8s.metallb.io/node'], 'node1');
      assert.equal(o.metadata.labels?.['frrk8s.metallb.io/peer'], '127.0.0.1');
      assert.equal(o.metadata.labels?.['frrk8s.metallb.io/vrf'], '');
      assert.match(o.metadata.name, /^node1-[a-z0-9]{1,5}$/);
      assert.equal((o.metadata['ownerReferences'] as { name: string }[] | undefined)?.[0]?.name, 'speaker-x');
    }
    const uids = objs.map((o) => o.metadata.uid).sort();

    // a restarted publisher adopts the objects (same uids, nothing re-created)
    await sync.stop();
    sync = new BGPSessionStateSync({ client, namespace: NS, nodeName: 'node1', logger });
    const publish2 = sessionStatesPublisher(sync, 'node1', () => speaker.status());
    speaker.on('state', () => publish2());
    await sync.start();
    publish2();
    await sync.settled();
    assert.deepEqual((await states()).map((o) => o.metadata.uid).sort(), uids);

    // the peer closes the connection: the object follows the session state
    peers[0]?.sock?.destroy();
    await waitFor('p0 not Established', async () => ((await rows()).some((x) => !x.includes(' Established ')) ? true : undefined), 20000);

    // peer removed from the configuration: its object goes away, the other stays
    speaker.setPlan([plan(cfg[1] ?? cfg[0] ?? peerConfig(0), [])]);
    await waitFor('one object left', async () => {
      const l = await states();
      return l.length === 1 && l[0]?.metadata.labels?.['metallb.io/peer-port'] === String(peers[1]?.port) ? true : undefined;
    }, 20000);
  } finally {
    await sync?.stop();
    await speaker.stop();
    for (const p of peers) await p.close().catch(() => undefined);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Both shells run the same node runtime: the same inputs (configuration, Services with their
// IPs, a Node, an EndpointSlice, a password Secret) give the same NodeStatus from standalone (a
// folder) and from the Kubernetes speaker (the test API server). Only the BGP speaker is a
// recorder; loader/config builder, allocator, planner and NodeAgent are the real ones.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject, ResourceRef } from '../../../src/kube/client.ts';
import { KubeSpeaker } from '../../../src/kube/speaker.ts';
import { NodeAgent } from '../../../src/node/agent.ts';
import type { NodeStatus } from '../../../src/node/types.ts';
import { parseInputs } from '../../../src/config/load.ts';
import { Standalone } from '../../../src/standalone/runtime.ts';
import { RecordingSpeaker } from '../../unit/helpers/speaker.ts';

const NS = 'metallb-system';

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pub, namespace: ${NS} }
spec: { addresses: [198.51.100.0/29] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: lan, namespace: ${NS} }
spec: { addresses: [192.0.2.200/29], autoAssign: false }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: pub, namespace: ${NS} }
spec: { ipAddressPools: [pub], communities: ["64512:7"], localPref: 200 }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: lan, namespace: ${NS} }
spec: { ipAddressPools: [lan] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: ebgp, namespace: ${NS} }
spec: { myASN: 64512, peerASN: 64600, peerAddress: 10.0.0.1 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: ibgp, namespace: ${NS} }
spec: { myASN: 64512, peerASN: 64512, peerAddress: 10.0.0.2 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: locked, namespace: ${NS} }
spec: { myASN: 64512, peerASN: 64601, peerAddress: 10.0.0.3, passwordSecret: { name: missing-secret } }
`;

const CLUSTER = `apiVersion: v1
kind: Node
metadata: { name: n1, labels: { kubernetes.io/hostname: n1 } }
status:
  conditions: [{ type: Ready, status: "True" }]
  addresses: [{ type: InternalIP, address: 192.0.2.11 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: app }
spec: { type: LoadBalancer, ports: [{ port: 80, protocol: TCP }] }
---
apiVersion: v1
kind: Service
metadata: { name: arp, namespace: app, annotations: { metallb.io/address-pool: lan } }
spec: { type: LoadBalancer, ports: [{ port: 80, protocol: TCP }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: app, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
endpoints: [{ addresses: [10.1.0.5], conditions: { ready: true }, nodeName: n1 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: arp-1, namespace: app, labels: { kubernetes.io/service-name: arp } }
addressType: IPv4
endpoints: [{ addresses: [10.1.0.6], conditions: { ready: true }, nodeName: n1 }]
`;

const REF: Record<string, ResourceRef> = {
  IPAddressPool: R.ipaddresspools,
  BGPAdvertisement: R.bgpadvertisements,
  L2Advertisement: R.l2advertisements,
  BGPPeer: R.bgppeers,
  Node: R.nodes,
  Service: R.services,
  EndpointSlice: R.endpointslices,
};

/** What both shells must agree on (the counters of a recorder are all zero anyway). */
function comparable(st: NodeStatus): unknown {
  return JSON.parse(JSON.stringify({ node: st.node, sessions: st.sessions, layer2: st.layer2, layer2Announcing: st.layer2Announcing, extensions: st.extensions }));
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('the same inputs give the same NodeStatus in standalone and in the Kubernetes speaker', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'node-parity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logger = pino({ level: 'silent' });

  // standalone: the folder, allocated by the real allocator
  const saSpeaker = new RecordingSpeaker();
  saSpeaker.state = 'Established';
  const sa = new Standalone(
    { paths: [dir], node: 'n1', nodeAddress: '192.0.2.11', statePath: join(dir, 'state.json'), logger },
    { readInputs: () => parseInputs([{ file: 'config.yaml', text: CONFIG }, { file: 'cluster.yaml', text: CLUSTER }]), agent: new NodeAgent({ node: 'n1', logger, bgp: saSpeaker }) },
  );
  assert.deepEqual(sa.start().errors, []);
  const saStatus = sa.status();
  const ipOf = (name: string): string => saStatus.services.find((s) => s.name === name)?.ips[0] ?? assert.fail(`${name} has no IP`);

  // Kubernetes: the same objects, the Services' IPs written into their status (the controller's job)
  const server = await FakeApiServer.start();
  t.after(() => server.close());
  const client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')) });
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.namespaces, { metadata: { name: 'app' } });
  for (const doc of parseAllDocuments(CONFIG + '---\n' + CLUSTER)) {
    const o = doc.toJS() as KubeObject & { kind: string };
    const ref = REF[o.kind];
    assert.ok(ref, o.kind);
    await client.create(ref, o);
    const status = (o as { status?: unknown }).status;
    if (o.kind === 'Node') await client.patch(R.nodes, undefined, o.metadata.name, { status }, { status: true });
  }
  for (const name of ['web', 'arp']) {
    await client.patch(R.services, 'app', name, { status: { loadBalancer: { ingress: [{ ip: ipOf(name) }] } } }, { status: true });
  }
  const kSpeaker = new RecordingSpeaker();
  kSpeaker.state = 'Established';
  const agent = new NodeAgent({ node: 'n1', logger, bgp: kSpeaker, members: { port: 7946, secretNamespace: NS, secretName: 'metallb-memberlist' } });
  const ks = new KubeSpeaker({ client, namespace: NS, nodeName: 'n1', logger, agent, backoff: { initialMs: 20, maxMs: 200 } });
  await ks.start();
  t.after(() => ks.stop());
  const kStatus = await until(() => {
    const st = ks.status();
    return st.sessions.length === 3 && st.sessions.every((s) => s.routes.length > 0 || s.error !== null) && st.layer2.length === 1 ? st : undefined;
  }, 'the speaker applied the plan');

  // the inputs are not trivial: routes with attributes, an iBGP localPref, a blocked session, a Layer 2 address
  const byPeer = (st: NodeStatus, p: string) => st.sessions.find((s) => s.peer === p);
  assert.deepEqual(byPeer(saStatus, 'ebgp')?.routes, [{ prefix: `${ipOf('web')}/32`, nextHop: null, localPref: null, communities: ['64512:7'], largeCommunities: [] }]);
  assert.equal(byPeer(saStatus, 'ibgp')?.routes[0]?.localPref, 200);
  assert.equal(byPeer(saStatus, 'locked')?.error, `passwordSecret ${NS}/missing-secret: Secret not found`);
  assert.deepEqual(saStatus.layer2.map((l) => [l.ip, l.node]), [[ipOf('arp'), 'n1']]);

  assert.deepEqual(comparable(kStatus), comparable(saStatus));
  // and the BGP speaker got the same sessions from both (where each object came from aside)
  const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'source' ? undefined : typeof v === 'bigint' ? v.toString() : v)));
  assert.deepEqual(plain(kSpeaker.last()), plain(saSpeaker.last()));
});

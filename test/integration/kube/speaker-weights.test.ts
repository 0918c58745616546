// Weighted ECMP in the Kubernetes speaker (the same node runtime as standalone): the test API
// server, one `metallb-ts speaker` process in a node namespace, FRR bgpd. An
// externalTrafficPolicy: Local Service's EndpointSlice on node-0 gives the /32 the link-bandwidth
// community of its ready endpoints; a burst of EndpointSlice updates through the API server gives
// a bounded number of UPDATEs at FRR (`show bgp neighbors json`) and ends with the final weight.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { startProcess, waitFor, type Managed } from '../lib/proc.ts';
import { Frr } from '../lib/routers.ts';
import { REPO_ROOT } from '../lib/standalone.ts';
import { frrUpdatesFrom } from '../lib/weightlab.ts';

const NS = 'metallb-system';
const FWD_PORT = 16446;
const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');
const IP = '203.0.113.9';
const INTERVAL_MS = 2000;
const why = missing(['ip', 'bgpd', 'vtysh']);

let lab: Lab | undefined;
let server: FakeApiServer | undefined;
let client: KubeClient | undefined;
let frr: Frr | undefined;
const procs: Managed[] = [];

function slice(ready: number): KubeObject {
  return {
    metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: ready }, (_, i) => ({ addresses: [`10.244.0.${i + 10}`], conditions: { ready: true }, nodeName: 'node-0' })),
    ports: [{ port: 8080, protocol: 'TCP' }],
  } as KubeObject;
}

before(async () => {
  if (why) return;
  lab = new Lab('kweights').setup();
  const a = lab.addr;
  server = await FakeApiServer.start({ socketPath: join(lab.dir, 'apiserver.sock') });
  client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(lab.dir, 'kubeconfig-host')) });
  frr = new Frr({
    ns: lab.nsRtr,
    dir: join(lab.dir, 'frr'),
    asn: 64600,
    routerId: a.rtr4[0] ?? '',
    listen4: [a.rtr4[0] ?? ''],
    listen6: [],
    neighbors: [{ name: 'node0', address: a.dut4[0] ?? '', asn: 64700, families: [4] }],
  });
  await frr.start();
  await client.create(R.namespaces, { metadata: { name: NS } });
  await client.create(R.namespaces, { metadata: { name: 'shop' } });
  await client.create(R.nodes, {
    metadata: { name: 'node-0', labels: { 'kubernetes.io/hostname': 'node-0' } },
    status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: a.dut4[0] ?? '' }] },
  });
  await client.create(R.bgppeers, { metadata: { name: 'frr', namespace: NS }, spec: { myASN: 64700, peerASN: 64600, peerAddress: a.rtr4[0] } });
  await client.create(R.ipaddresspools, { metadata: { name: 'public', namespace: NS }, spec: { addresses: ['203.0.113.0/28'] } });
  await client.create(R.bgpadvertisements, {
    metadata: { name: 'public', namespace: NS, annotations: { 'metallb-ts.io/weighted-ecmp': 'endpoints', 'metallb-ts.io/weight-update-interval': `${INTERVAL_MS}ms` } },
    spec: { ipAddressPools: ['public'] },
  });
  await client.create(R.services, { metadata: { name: 'web', namespace: 'shop' }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP' }] } });
  await client.patch(R.services, 'shop', 'web', { status: { loadBalancer: { ingress: [{ ip: IP }] } } }, { status: true });
  await client.create(R.endpointslices, slice(2));
  const env = { ...process.env, METALLB_TS_FROM_SOURCE: '1', POD_NAME: 'speaker-0', POD_UID: 'uid-0' };
  procs.push(
    startProcess('forwarder', 'ip', ['netns', 'exec', lab.nsDut, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'apiserver', 'forward.ts'), '--listen', String(FWD_PORT), '--socket', join(lab.dir, 'apiserver.sock')], join(lab.dir, 'forward.log'), env),
  );
  const kc = server.writeKubeconfig(join(lab.dir, 'kubeconfig-node'), `http://127.0.0.1:${FWD_PORT}`);
  procs.push(startProcess('speaker', 'ip', ['netns', 'exec', lab.nsDut, process.execPath, BIN, 'speaker', '--node-name', 'node-0', '--kubeconfig', kc, '--http-listen', '127.0.0.1:7472'], join(lab.dir, 'speaker.log'), env));
  await frr.waitEstablished([a.dut4[0] ?? ''], 60000);
});

after(async () => {
  for (const p of procs.reverse()) await p.stop();
  await frr?.stop();
  await server?.close();
  lab?.destroy();
});

/** The link-bandwidth value (bytes/s) FRR holds for the /32, undefined without the route. */
async function linkBandwidth(): Promise<number | undefined> {
  const d = await frr?.vtysh(`show bgp ipv4 unicast ${IP}/32`);
  const m = /LB:64700:(\d+) /.exec(d ?? '');
  return m ? Number(m[1]) : undefined;
}

test('Kubernetes speaker: link bandwidth from the EndpointSlice; a burst of updates gives a bounded number of UPDATEs and the final weight', { timeout: 180000 }, async (t) => {
  if (!runnable(t, why) || !lab || !client) return;
  const c = client;
  const peer = lab.addr.dut4[0] ?? '';
  await waitFor('LB for 2 endpoints at FRR', async () => ((await linkBandwidth()) === 250000 ? true : undefined), 60000);
  await new Promise((r) => setTimeout(r, INTERVAL_MS));
  const before = await frrUpdatesFrom(frr as Frr, peer);
  const N = 20;
  /** Replaces the EndpointSlice with `ready` endpoints (update at the current resourceVersion). */
  const setReady = async (ready: number): Promise<void> => {
    const cur = await c.get<KubeObject>(R.endpointslices, 'shop', 'web-1');
    const next = slice(ready);
    await c.update(R.endpointslices, { ...next, metadata: { ...next.metadata, resourceVersion: cur?.metadata.resourceVersion } } as KubeObject);
  };
  const start = Date.now();
  for (let i = 0; i < N; i++) {
    await setReady(1 + (i % 4));
    await new Promise((r) => setTimeout(r, 50));
  }
  await setReady(5);
  const burstMs = Date.now() - start;
  await waitFor('the final weight (5 endpoints) at FRR', async () => ((await linkBandwidth()) === 625000 ? true : undefined), 30000);
  // a last trailing update could still be on its way: wait one more interval
  await new Promise((r) => setTimeout(r, INTERVAL_MS + 500));
  assert.equal(await linkBandwidth(), 625000);
  const sent = (await frrUpdatesFrom(frr as Frr, peer)) - before;
  const bound = 2 + Math.ceil(burstMs / INTERVAL_MS);
  t.diagnostic(`${N + 1} EndpointSlice updates in ${burstMs} ms: ${sent} UPDATEs at FRR (bound ${bound})`);
  assert.ok(sent >= 1 && sent <= bound, `${sent} UPDATEs for ${N + 1} endpoint changes (bound ${bound})`);
});

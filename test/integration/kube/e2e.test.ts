// Acceptance: test API server + `metallb-ts controller` + two `metallb-ts speaker` processes
// (each in its own network namespace, node-0 and node-1) + a real BIRD router.
//   create a LoadBalancer Service through the API → status gets an IP → BIRD learns the /32
//   from both nodes; externalTrafficPolicy Local with endpoints on node-1 only → only node-1's
//   route remains; delete the Service → routes withdrawn, IP freed.
// The speakers reach the API server through a forwarder inside their namespace
// (127.0.0.1:PORT → the server's Unix socket), so no address outside our namespaces is used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { runAsync, startProcess, waitFor } from '../lib/proc.ts';
import type { Managed } from '../lib/proc.ts';
import { Bird } from '../lib/routers.ts';
import type { RouterRoute } from '../lib/routers.ts';
import { REPO_ROOT } from '../lib/standalone.ts';

const NS = 'metallb-system';
const ROUTER_ASN = 64600;
const NODE_ASN = 64700;
const FWD_PORT = 16443;
const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');
const why = missing(['ip', 'bird', 'birdc']);

interface Ctx {
  lab: Lab;
  server: FakeApiServer;
  client: KubeClient;
  router: Bird;
  procs: Managed[];
}
let ctx: Ctx | undefined;

const env = { ...process.env, METALLB_TS_FROM_SOURCE: '1' };

before(async () => {
  if (why) return;
  const lab = new Lab('kube-e2e', { duts: 2 }).setup();
  const procs: Managed[] = [];
  try {
    const server = await FakeApiServer.start({ socketPath: join(lab.dir, 'apiserver.sock') });
    const client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(lab.dir, 'kubeconfig-host')) });
    const a = lab.addr;
    const router = new Bird({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'bird'),
      asn: ROUTER_ASN,
      routerId: a.rtr4[0] ?? '',
      listen4: a.rtr4,
      listen6: a.rtr6,
      neighbors: [0, 1].map((i) => ({ name: `node${i}`, address: a.dut4[i] ?? '', asn: NODE_ASN, localAddress: a.rtr4[i] ?? '' })),
    });
    ctx = { lab, server, client, router, procs };
    await router.start();
    // The nodes reach each other through the router namespace, like a cluster's node network:
    // the speakers' Layer 2 liveness protocol needs it (the controller creates the memberlist Secret).
    lab.exec(lab.nsRtr, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const i of [0, 1]) lab.exec(lab.duts[i] ?? '', 'ip', ['route', 'add', '10.201.0.0/16', 'via', a.rtr4[i] ?? '']);

    // cluster state
    await client.create(R.namespaces, { metadata: { name: NS } });
    await client.create(R.namespaces, { metadata: { name: 'shop' } });
    for (const i of [0, 1]) {
      await client.create(R.nodes, {
        metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
        status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: a.dut4[i] ?? '' }] },
      });
      await client.create(R.bgppeers, {
        metadata: { name: `router-${i}`, namespace: NS },
        spec: {
          myASN: NODE_ASN,
          peerASN: ROUTER_ASN,
          peerAddress: a.rtr4[i],
          nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': `node-${i}` } }],
        },
      });
    }
    await client.create(R.ipaddresspools, { metadata: { name: 'public', namespace: NS }, spec: { addresses: ['203.0.113.0/28'] } });
    await client.create(R.bgpadvertisements, { metadata: { name: 'public', namespace: NS }, spec: { ipAddressPools: ['public'] } });
    await client.create(R.ipaddresspools, { metadata: { name: 'lan', namespace: NS }, spec: { addresses: ['10.201.0.200-10.201.0.209'], autoAssign: false } });
    await client.create(R.l2advertisements, { metadata: { name: 'lan', namespace: NS }, spec: { ipAddressPools: ['lan'] } });

    // processes
    const ctl = startProcess('controller', process.execPath, [BIN, 'controller', '--kubeconfig', join(lab.dir, 'kubeconfig-host'), '--identity', 'ctl-0', '--http-listen', 'off', '--log-level', 'debug'], join(lab.dir, 'controller.log'), env);
    procs.push(ctl);
    for (const i of [0, 1]) {
      const ns = lab.duts[i] ?? '';
      procs.push(
        startProcess('forwarder', 'ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'apiserver', 'forward.ts'), '--listen', String(FWD_PORT), '--socket', join(lab.dir, 'apiserver.sock')], join(lab.dir, `forward-${i}.log`), env),
      );
      const kc = server.writeKubeconfig(join(lab.dir, `kubeconfig-node-${i}`), `http://127.0.0.1:${FWD_PORT}`);
      procs.push(
        startProcess('speaker', 'ip', ['netns', 'exec', ns, process.execPath, BIN, 'speaker', '--node-name', `node-${i}`, '--kubeconfig', kc, '--http-listen', '127.0.0.1:7472', '--log-level', 'debug'], join(lab.dir, `speaker-${i}.log`), { ...env, POD_NAME: `speaker-${i}`, POD_UID: `uid-${i}` }),
      );
    }
    // generous: on a loaded CI machine starting three processes from source takes a while
    await router.waitEstablished([a.dut4[0] ?? '', a.dut4[1] ?? ''], 90000);
  } catch (e) {
    if (ctx) writeFileSync(join(lab.dir, 'apiserver-requests.log'), ctx.server.requests.map((r) => `${r.method} ${r.path} ${r.status}`).join('\n'));
    for (const p of procs) await p.stop();
    await ctx?.server.close();
    lab.destroy();
    ctx = undefined;
    throw e;
  }
});

after(async () => {
  if (!ctx) return;
  try {
    for (const p of ctx.procs.reverse()) await p.stop();
    await ctx.router.stop();
    await ctx.server.close();
  } finally {
    ctx.lab.destroy();
  }
});

interface Svc extends KubeObject {
  status?: { loadBalancer?: { ingress?: { ip: string }[] } };
}

function slice(nodes: string[]): KubeObject {
  return {
    metadata: { name: 'web-abc12', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: nodes.map((n, i) => ({ addresses: [`10.244.${i}.10`], conditions: { ready: true }, nodeName: n })),
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
}

/** GET from speaker i's HTTP endpoint, inside its namespace: "STATUS\nBODY". */
async function speakerGet(lab: Lab | undefined, i: number, path: string): Promise<string> {
  assert.ok(lab);
  const code = `fetch("http://127.0.0.1:7472${path}").then(async (r) => process.stdout.write(r.status + "\\n" + (await r.text())))`;
  const r = await runAsync('ip', ['netns', 'exec', lab.duts[i] ?? '', process.execPath, '-e', code], 15000);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const announcedLines = (metrics: string): string[] => metrics.split('\n').filter((l) => l.startsWith('metallb_speaker_announced{')).sort();

const from = (routes: RouterRoute[], prefix: string): string[] => routes.filter((r) => r.prefix === prefix).map((r) => r.peer).sort();

test('controller + two speakers + BIRD: assign, announce from both nodes, Local policy, delete', { timeout: 180000 }, async (t) => {
  if (!runnable(t, why)) return;
  assert.ok(ctx, 'setup failed (see before hook)');
  const { client, router, lab } = ctx;
  const [n0, n1] = [lab.addr.dut4[0] ?? '', lab.addr.dut4[1] ?? ''];

  await client.create(R.endpointslices, slice(['node-0', 'node-1']));
  await client.create(R.services, {
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'web' }, externalTrafficPolicy: 'Cluster' },
  });
  const ip = await waitFor('Service IP', async () => (await client.get<Svc>(R.services, 'shop', 'web'))?.status?.loadBalancer?.ingress?.[0]?.ip, 30000);
  assert.equal(ip, '203.0.113.0');
  const prefix = `${ip}/32`;
  await router.waitRoutes('/32 from both nodes', (r) => JSON.stringify(from(r, prefix)) === JSON.stringify([n0, n1].sort()), 30000);

  // status objects and events written by the speakers
  const statuses = await waitFor('two ServiceBGPStatus', async () => {
    const l = await client.list<KubeObject & { status?: { node?: string; peers?: string[] } }>(R.servicebgpstatuses, { namespace: NS, labelSelector: 'metallb.io/service-name=web,metallb.io/service-namespace=shop' });
    return l.items.length === 2 && l.items.every((s) => s.status?.node) ? l.items : undefined;
  }, 20000);
  assert.deepEqual(statuses.map((s) => s.metadata.labels?.['metallb.io/node']).sort(), ['node-0', 'node-1']);
  assert.deepEqual(statuses.map((s) => s.status?.peers).sort(), [['router-0'], ['router-1']]);
  const cs = await client.get<KubeObject & { status?: { result?: string } }>(R.configurationstates, NS, 'speaker-node-0');
  assert.equal(cs?.status?.result, 'Valid');
  const events = (await client.list(R.events, { namespace: 'shop' })).items.map((e) => `${String(e['reason'])}: ${String(e['message'])}`).sort();
  assert.ok(events.includes('IPAllocated: Assigned IP ["203.0.113.0"]'), events.join('\n'));
  assert.ok(events.includes('nodeAssigned: announcing from node "node-0" with protocol "bgp"'), events.join('\n'));

  // the speaker's own endpoints, read from inside its namespace
  const get = (path: string): Promise<string> => speakerGet(lab, 0, path);
  assert.match(await get('/readyz'), /^200\n/);
  const metrics = await get('/metrics');
  // peer = the router's address as MetalLB writes it; bgppeer = the BGPPeer's name
  const peer = (name: string): RegExp => new RegExp(`^${name}\\{peer="10\\.201\\.0\\.1",bgppeer="router-0"\\} (\\d+)$`, 'm');
  const value = (name: string): number => Number(peer(name).exec(metrics)?.[1] ?? NaN);
  assert.equal(value('metallb_bgp_session_up'), 1, metrics);
  assert.equal(value('metallb_bgp_announced_prefixes_total'), 1);
  assert.ok(value('metallb_bgp_updates_total') >= 1);
  assert.equal(value('metallb_bgp_opens_sent'), 1);
  assert.equal(value('metallb_bgp_opens_received'), 1);
  assert.ok(value('metallb_bgp_keepalives_sent') >= 1);
  assert.ok(value('metallb_bgp_keepalives_received') >= 1);
  assert.match(metrics, /metallb_k8s_client_updates_total [1-9]/);
  // MetalLB's metallb_speaker_announced, fed from the node runtime
  assert.deepEqual(announcedLines(metrics), [`metallb_speaker_announced{service="shop/web",protocol="bgp",node="node-0",ip="${ip}"} 1`]);

  // Local traffic policy, endpoints only on node-1 → only node-1 announces
  await client.patch(R.services, 'shop', 'web', { spec: { externalTrafficPolicy: 'Local' } });
  await client.update(R.endpointslices, { ...slice(['node-1']) });
  await router.waitRoutes('only node-1 announces', (r) => JSON.stringify(from(r, prefix)) === JSON.stringify([n1]), 30000);
  await waitFor('node-0 status removed', async () => {
    const l = await client.list(R.servicebgpstatuses, { namespace: NS, labelSelector: 'metallb.io/service-name=web' });
    return l.items.length === 1 && l.items[0]?.metadata.labels?.['metallb.io/node'] === 'node-1' ? true : undefined;
  }, 20000);

  // delete → withdrawn everywhere; the address is free for the next Service
  await client.delete(R.services, 'shop', 'web');
  await router.waitRoutes('route withdrawn', (r) => from(r, prefix).length === 0, 30000);
  await client.create(R.services, { metadata: { name: 'next', namespace: 'shop' }, spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] } });
  const next = await waitFor('next IP', async () => (await client.get<Svc>(R.services, 'shop', 'next'))?.status?.loadBalancer?.ingress?.[0]?.ip, 30000);
  assert.equal(next, ip, 'the freed IP is handed out again');
});

test('Layer 2: one ServiceL2Status from the elected node, nodeAssigned event, no BGP route', { timeout: 120000 }, async (t) => {
  if (!runnable(t, why)) return;
  assert.ok(ctx, 'setup failed (see before hook)');
  const { client, router } = ctx;
  await client.create(R.endpointslices, {
    metadata: { name: 'arp-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'arp' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.53'], conditions: { ready: true }, nodeName: 'node-0' }],
    ports: [{ port: 53, protocol: 'UDP' }],
  });
  await client.create(R.services, {
    metadata: { name: 'arp', namespace: 'shop', annotations: { 'metallb.io/address-pool': 'lan' } },
    spec: { type: 'LoadBalancer', ports: [{ port: 53, protocol: 'UDP' }] },
  });
  const ip = await waitFor('L2 Service IP', async () => (await client.get<Svc>(R.services, 'shop', 'arp'))?.status?.loadBalancer?.ingress?.[0]?.ip, 30000);
  assert.equal(ip, '10.201.0.200');
  const st = await waitFor('ServiceL2Status', async () => {
    const l = await client.list<KubeObject & { status?: { node?: string; serviceName?: string } }>(R.servicel2statuses, { namespace: NS, labelSelector: 'metallb.io/service-name=arp' });
    return l.items.length === 1 && l.items[0]?.status?.node ? l.items[0] : undefined;
  }, 20000);
  const owner = st.metadata.labels?.['metallb.io/node'];
  assert.ok(owner === 'node-0' || owner === 'node-1');
  assert.equal(st.status?.node, owner);
  assert.equal(st.status?.serviceName, 'arp');
  const events = (await client.list(R.events, { namespace: 'shop' })).items.map((e) => String(e['message']));
  assert.ok(events.includes(`announcing from node "${owner}" with protocol "layer2"`), events.join('\n'));
  assert.equal(from(await router.routes(), `${ip}/32`).length, 0, 'a Layer 2 pool is not announced over BGP');
  // metallb_speaker_announced: layer2 on the owner only
  const ownerIndex = owner === 'node-0' ? 0 : 1;
  const line = `metallb_speaker_announced{service="shop/arp",protocol="layer2",node="${owner ?? ''}",ip="${ip}"} 1`;
  await waitFor('layer2 announced metric on the owner', async () => (announcedLines(await speakerGet(ctx?.lab, ownerIndex, '/metrics')).includes(line) ? true : undefined), 20000);
  assert.ok(!announcedLines(await speakerGet(ctx.lab, 1 - ownerIndex, '/metrics')).some((l) => l.includes('shop/arp')), 'not announced by the other node');
  await client.delete(R.services, 'shop', 'arp');
  await waitFor('ServiceL2Status removed', async () => ((await client.list(R.servicel2statuses, { namespace: NS })).items.length === 0 ? true : undefined), 20000);
});

test('an invalid metallb.io object: the last good configuration stays in force, Services keep flowing to BIRD, ConfigurationState says Invalid', { timeout: 180000 }, async (t) => {
  if (!runnable(t, why)) return;
  assert.ok(ctx, 'setup failed (see before hook)');
  const { client, router, lab } = ctx;
  const both = JSON.stringify([lab.addr.dut4[0] ?? '', lab.addr.dut4[1] ?? ''].sort());
  const lbService = (name: string): KubeObject => ({ metadata: { name, namespace: 'shop' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
  const ipOf = (name: string) => async (): Promise<string | undefined> => (await client.get<Svc>(R.services, 'shop', name))?.status?.loadBalancer?.ingress?.[0]?.ip;
  const result = async (name: string): Promise<string | undefined> => (await client.get<KubeObject & { status?: { result?: string } }>(R.configurationstates, NS, name))?.status?.result;
  // Kubernetes announces a Service only from nodes with a ready endpoint
  const endpoints = (name: string): KubeObject => ({ ...slice(['node-0', 'node-1']), metadata: { name: `${name}-x1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } } });
  await client.create(R.endpointslices, endpoints('keep'));
  await client.create(R.endpointslices, endpoints('fresh'));
  await client.create(R.services, lbService('keep'));
  const keep = await waitFor('keep IP', ipOf('keep'), 30000);
  await router.waitRoutes('keep from both nodes', (r) => JSON.stringify(from(r, `${keep}/32`)) === both, 30000);

  await client.create(R.ipaddresspools, { metadata: { name: 'broken', namespace: NS }, spec: { addresses: ['203.0.113.300/32'] } });
  for (const name of ['controller', 'speaker-node-0', 'speaker-node-1']) {
    await waitFor(`${name} ConfigurationState Invalid`, async () => ((await result(name)) === 'Invalid' ? true : undefined), 30000);
  }
  // a deleted Service is withdrawn at BIRD under the last good configuration
  const t0 = Date.now();
  await client.delete(R.services, 'shop', 'keep');
  await router.waitRoutes(`${keep}/32 withdrawn while the configuration is invalid`, (r) => from(r, `${keep}/32`).length === 0, 30000);
  t.diagnostic(`withdrawn at BIRD ${Date.now() - t0} ms after the Service was deleted (invalid IPAddressPool in the cluster)`);
  // a new Service gets an IP from the last good pools and both speakers announce it
  await client.create(R.services, lbService('fresh'));
  const fresh = await waitFor('fresh IP', ipOf('fresh'), 30000);
  assert.match(fresh, /^203\.0\.113\./);
  await router.waitRoutes(`${fresh}/32 from both nodes`, (r) => JSON.stringify(from(r, `${fresh}/32`)) === both, 30000);
  assert.equal(await result('speaker-node-0'), 'Invalid', 'still stale');

  await client.delete(R.ipaddresspools, NS, 'broken');
  for (const name of ['controller', 'speaker-node-0', 'speaker-node-1']) {
    await waitFor(`${name} ConfigurationState Valid`, async () => ((await result(name)) === 'Valid' ? true : undefined), 30000);
  }
  // SIGHUP to a speaker is ignored (logged): it neither exits nor withdraws
  const speaker0 = ctx.procs.find((p) => p.name === 'speaker');
  assert.ok(speaker0);
  speaker0.signal('SIGHUP');
  await waitFor('SIGHUP logged', async () => (/ignored: the configuration is watched on the API server/.test(readFileSync(speaker0.logFile, 'utf8')) ? true : undefined), 20000);
  // a fixed wait: proving that nothing happens within a window
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(speaker0.exitCode ?? speaker0.exitSignal ?? null, null, 'the speaker still runs after SIGHUP');
  assert.equal(JSON.stringify(from(await router.routes(), `${fresh}/32`)), both, 'still announced from both nodes');

  await client.delete(R.services, 'shop', 'fresh');
  await router.waitRoutes(`${fresh}/32 withdrawn`, (r) => from(r, `${fresh}/32`).length === 0, 30000);
});

test('BGPSessionState: one object per node × peer, Established, columns/labels as frr-k8s, gone when the peer is removed', { timeout: 120000 }, async (t) => {
  if (!runnable(t, why)) return;
  assert.ok(ctx, 'setup failed (see before hook)');
  const { client, lab } = ctx;
  type State = KubeObject & { status?: { node?: string; peer?: string; vrf?: string; bgpStatus?: string; bfdStatus?: string } };
  const states = async (): Promise<State[]> => (await client.list<State>(R.bgpsessionstates, { namespace: NS })).items;
  const all = await waitFor('two Established BGPSessionStates', async () => {
    const l = await states();
    return l.length === 2 && l.every((s) => s.status?.bgpStatus === 'Established') ? l : undefined;
  }, 60000);
  const rows = all.map((s) => [s.status?.node, s.status?.peer, s.status?.vrf, s.status?.bgpStatus, s.status?.bfdStatus]).sort();
  assert.deepEqual(rows, [
    ['node-0', lab.addr.rtr4[0], '', 'Established', 'N/A'],
    ['node-1', lab.addr.rtr4[1], '', 'Established', 'N/A'],
  ]);
  for (const s of all) {
    assert.equal(s.metadata.labels?.['frrk8s.metallb.io/node'], s.status?.node);
    assert.equal(s.metadata.labels?.['frrk8s.metallb.io/peer'], s.status?.peer);
    assert.match(s.metadata.name, new RegExp(`^${s.status?.node ?? ''}-[a-z0-9]{1,5}$`));
  }
  // our CRD (config/crd) is accepted by the API server and has the seed's printer columns
  const crdRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
  const crdDoc = parse(readFileSync(join(REPO_ROOT, 'config', 'crd', 'frrk8s.metallb.io_bgpsessionstates.yaml'), 'utf8')) as KubeObject;
  await client.create(crdRef, crdDoc);
  const crd = await client.get<KubeObject & { spec?: { versions?: { additionalPrinterColumns?: { name: string }[] }[] } }>(crdRef, undefined, 'bgpsessionstates.frrk8s.metallb.io');
  assert.deepEqual(crd?.spec?.versions?.[0]?.additionalPrinterColumns?.map((c) => c.name.toUpperCase()), ['NODE', 'PEER', 'VRF', 'BGP', 'BFD']);
  await client.delete(R.bgppeers, NS, 'router-1');
  await waitFor('node-1 BGPSessionState removed', async () => {
    const l = await states();
    return l.length === 1 && l[0]?.status?.node === 'node-0' ? true : undefined;
  }, 30000);
});

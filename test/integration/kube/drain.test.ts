// Drain on leave (RFC 8326) in the Kubernetes speaker: test API server + one `metallb-ts speaker`
// process in a node namespace + a router (iBGP), once with BIRD and once with FRR (the same lab
// and steps). Cordoning the Node makes the router see the Service /32 with GRACEFUL_SHUTDOWN
// 65535:0 and LOCAL_PREF 0, then lose it after the drain period; uncordoning announces it again;
// the exclude-from-external-load-balancers label does the same. FRR is also asked directly with
// `show bgp ipv4 unicast <ip>/32 json` (community graceful-shutdown, locPrf 0).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import { Lab } from '../lib/netns.ts';
import { missing, IN_CI } from '../lib/prereq.ts';
import { startProcess } from '../lib/proc.ts';
import type { Managed } from '../lib/proc.ts';
import { Frr, makeRouter, ROUTER_BINS } from '../lib/routers.ts';
import type { Router, RouterKind, RouterRoute } from '../lib/routers.ts';
import { REPO_ROOT } from '../lib/standalone.ts';

const NS = 'metallb-system';
const ASN = 64600;
const FWD_PORT = 16444;
const DRAIN_MS = 3000;
const IP = '203.0.113.5';
const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');
const env = { ...process.env, METALLB_TS_FROM_SOURCE: '1' };

interface Ctx {
  lab: Lab;
  server: FakeApiServer;
  client: KubeClient;
  router: Router;
  procs: Managed[];
}

/** The lab of one router kind: API server objects, router, speaker process (Established). */
async function setupLab(kind: RouterKind): Promise<Ctx> {
  const lab = new Lab(`kube-drain-${kind}`).setup();
  let ctx: Ctx | undefined;
  const procs: Managed[] = [];
  try {
    const server = await FakeApiServer.start({ socketPath: join(lab.dir, 'apiserver.sock') });
    const client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(lab.dir, 'kubeconfig-host')) });
    const a = lab.addr;
    const router = makeRouter(kind, {
      ns: lab.nsRtr,
      dir: join(lab.dir, kind),
      asn: ASN,
      routerId: a.rtr4[0] ?? '',
      listen4: a.rtr4,
      listen6: a.rtr6,
      neighbors: [{ name: 'node0', address: a.dut4[0] ?? '', asn: ASN }],
    });
    ctx = { lab, server, client, router, procs };
    await router.start();
    await client.create(R.namespaces, { metadata: { name: NS } });
    await client.create(R.namespaces, { metadata: { name: 'shop' } });
    await client.create(R.nodes, {
      metadata: { name: 'node-0', labels: { 'kubernetes.io/hostname': 'node-0' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: a.dut4[0] ?? '' }] },
    });
    await client.create(R.bgppeers, { metadata: { name: 'router', namespace: NS }, spec: { myASN: ASN, peerASN: ASN, peerAddress: a.rtr4[0] } });
    await client.create(R.ipaddresspools, { metadata: { name: 'public', namespace: NS }, spec: { addresses: ['203.0.113.0/28'] } });
    await client.create(R.bgpadvertisements, { metadata: { name: 'public', namespace: NS }, spec: { ipAddressPools: ['public'], localPref: 200 } });
    await client.create(R.services, { metadata: { name: 'web', namespace: 'shop' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
    await client.patch(R.services, 'shop', 'web', { status: { loadBalancer: { ingress: [{ ip: IP }] } } }, { status: true });
    await client.create(R.endpointslices, {
      metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.10'], conditions: { ready: true }, nodeName: 'node-0' }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    });
    const ns = lab.duts[0] ?? '';
    procs.push(
      startProcess('forwarder', 'ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'apiserver', 'forward.ts'), '--listen', String(FWD_PORT), '--socket', join(lab.dir, 'apiserver.sock')], join(lab.dir, 'forward.log'), env),
    );
    const kc = server.writeKubeconfig(join(lab.dir, 'kubeconfig-node'), `http://127.0.0.1:${FWD_PORT}`);
    procs.push(
      startProcess(
        'speaker',
        'ip',
        ['netns', 'exec', ns, process.execPath, BIN, 'speaker', '--node-name', 'node-0', '--kubeconfig', kc, '--http-listen', '127.0.0.1:7472', '--log-level', 'debug', '--drain-period', `${DRAIN_MS}ms`],
        join(lab.dir, 'speaker.log'),
        { ...env, POD_NAME: 'speaker-0', POD_UID: 'uid-0' },
      ),
    );
    await router.waitEstablished([a.dut4[0] ?? ''], 60000);
    return ctx;
  } catch (e) {
    for (const p of procs) await p.stop();
    await ctx?.router.stop();
    await ctx?.server.close();
    lab.destroy();
    throw e;
  }
}

async function teardown(ctx: Ctx | undefined): Promise<void> {
  if (!ctx) return;
  try {
    for (const p of ctx.procs.reverse()) await p.stop();
    await ctx.router.stop();
    await ctx.server.close();
  } finally {
    ctx.lab.destroy();
  }
}

const ours = (rs: RouterRoute[]): RouterRoute | undefined => rs.find((r) => r.prefix === `${IP}/32`);

async function drainCycle(c: Ctx, leave: Record<string, unknown>, back: Record<string, unknown>, what: string): Promise<void> {
  await c.router.waitRoutes(`${IP}/32 announced normally`, (rs) => ours(rs)?.localPref === 200 && !ours(rs)?.communities.includes('65535:0'), 60000);
  await c.client.patch(R.nodes, undefined, 'node-0', leave);
  const seen = await c.router.waitRoutes(`${what}: 65535:0 at ${c.router.kind}`, (rs) => ours(rs)?.communities.includes('65535:0') === true, 20000);
  const tSeen = Date.now();
  assert.equal(ours(seen)?.localPref, 0, 'LOCAL_PREF 0 on iBGP while draining');
  if (c.router instanceof Frr) {
    // FRR's own view of the prefix, as an operator would ask for it
    const doc = JSON.parse(await c.router.vtysh(`show bgp ipv4 unicast ${IP}/32 json`)) as { paths?: { locPrf?: number; community?: { string?: string; list?: string[] } }[] };
    const path = doc.paths?.[0];
    assert.ok(path, `FRR has a path for ${IP}/32: ${JSON.stringify(doc)}`);
    assert.match(`${path.community?.string ?? ''} ${(path.community?.list ?? []).join(' ')}`, /graceful-shutdown|gracefulShutdown|65535:0/, `community at FRR: ${JSON.stringify(path.community)}`);
    assert.equal(path.locPrf, 0, 'FRR: locPrf 0');
  }
  await c.router.waitRoutes(`${what}: withdrawn after the drain period`, (rs) => ours(rs) === undefined, DRAIN_MS + 20000);
  const tGone = Date.now();
  assert.ok(tGone - tSeen >= DRAIN_MS - 1000, `${what}: withdrawn ${tGone - tSeen} ms after 65535:0 was seen (drain period ${DRAIN_MS} ms)`);
  await c.client.patch(R.nodes, undefined, 'node-0', back);
  await c.router.waitRoutes(`${what} lifted: announced again`, (rs) => ours(rs)?.localPref === 200 && !ours(rs)?.communities.includes('65535:0'), 20000);
}

for (const kind of ['bird', 'frr'] as const) {
  describe(`drain on leave against ${kind}`, { concurrency: false }, () => {
    const why = missing(['ip', ...ROUTER_BINS[kind]]);
    let ctx: Ctx | undefined;
    before(async () => {
      if (why) return;
      ctx = await setupLab(kind);
    });
    after(() => teardown(ctx));

    it('cordon: GRACEFUL_SHUTDOWN, then withdraw; uncordon: announced again', async (t) => {
      if (why) {
        if (IN_CI) throw new Error(`prerequisite missing under CI: ${why}`);
        t.skip(why);
        return;
      }
      assert.ok(ctx);
      await drainCycle(ctx, { spec: { unschedulable: true } }, { spec: { unschedulable: null } }, 'cordon');
    });

    it('exclude-from-external-load-balancers label: the same drain', async (t) => {
      if (why) {
        if (IN_CI) throw new Error(`prerequisite missing under CI: ${why}`);
        t.skip(why);
        return;
      }
      assert.ok(ctx);
      const label = 'node.kubernetes.io/exclude-from-external-load-balancers';
      await drainCycle(ctx, { metadata: { labels: { [label]: '' } } }, { metadata: { labels: { [label]: null } } }, 'exclusion label');
    });
  });
}

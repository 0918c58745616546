// Kubernetes speaker, Layer 2, real frames: three `metallb-ts speaker` processes, one per "node"
// network namespace, against the test API server (reached through a forwarder inside each
// namespace), plus a "client" namespace; all joined by bridges in a hub namespace
// (test/integration/layer2/lab.ts: data 10.77.0.0/24, management 10.78.0.0/24 where the Nodes'
// InternalIPs and the speakers' liveness traffic live).
//   - the speakers elect one owner for the Service IP; the client's arping resolves it to the
//     owner's MAC, and the owner publishes the ServiceL2Status;
//   - kill -9 of the owner's speaker: the IP moves to the survivor the election predicts
//     (measured: event → first ARP reply with the new MAC), which publishes its ServiceL2Status;
//   - handover: cordoning the owner's Node, uncordoning it (the IP moves back: failback), then
//     stopping its speaker (SIGTERM), moves the IP with no unanswered request of an arping every
//     40 ms (make-before-break); after the failback only the returning owner has a ServiceL2Status.
// Only addresses inside the test's own namespaces are used; everything is removed afterwards.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeApiServer } from '../../support/apiserver/index.ts';
import { KubeClient, R } from '../../../src/kube/client.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { electL2Owner } from '../../../src/planner/elect.ts';
import { Lab, arpingOnce, waitFor, type NodeSpec } from '../layer2/lab.ts';
import { IN_CI, missing } from '../lib/prereq.ts';
import { REPO_ROOT } from '../lib/standalone.ts';

const NS = 'metallb-system';
const FWD_PORT = 16444;
const BIN = join(REPO_ROOT, 'bin', 'metallb-ts.js');
const IP = '10.77.0.200';
const SECRET = 'speaker-l2-test-shared-secret-0123456789';

function prerequisite(): string | undefined {
  const why = missing(['ip', 'arping', 'stdbuf']);
  if (why) return why;
  if (!existsSync(join(REPO_ROOT, 'build', 'Release', 'metallb_packet.node'))) return 'native addon not built (npm run build:native)';
  return undefined;
}
const why = prerequisite();

interface Ctx {
  lab: Lab;
  server: FakeApiServer;
  client: KubeClient;
  speakers: Map<string, ChildProcess>;
}
let ctx: Ctx | undefined;

const nodeName = (n: NodeSpec): string => `node-${n.idx}`;

function startSpeaker(c: Ctx, n: NodeSpec): void {
  const kc = c.server.writeKubeconfig(join(c.lab.dir, `kubeconfig-${n.name}`), `http://127.0.0.1:${FWD_PORT}`);
  const p = c.lab.spawnIn(
    n.ns,
    [
      'env', 'METALLB_TS_FROM_SOURCE=1', `POD_NAME=speaker-${n.idx}`, `POD_UID=uid-${n.idx}`,
      process.execPath, BIN, 'speaker', '--node-name', nodeName(n), '--kubeconfig', kc,
      '--http-listen', '127.0.0.1:7472', '--log-level', 'debug',
    ],
    join(c.lab.dir, `speaker-${n.name}.log`),
  );
  c.speakers.set(nodeName(n), p);
}

before(async () => {
  if (why) return;
  const lab = new Lab('k', 3);
  let server: FakeApiServer | undefined;
  try {
    lab.setup();
    server = await FakeApiServer.start({ socketPath: join(lab.dir, 'apiserver.sock') });
    const client = KubeClient.fromOptions({ kubeconfig: server.writeKubeconfig(join(lab.dir, 'kubeconfig-host')) });
    ctx = { lab, server, client, speakers: new Map() };
    await client.create(R.namespaces, { metadata: { name: NS } });
    await client.create(R.namespaces, { metadata: { name: 'shop' } });
    for (const n of lab.nodes) {
      await client.create(R.nodes, {
        metadata: { name: nodeName(n), labels: { 'kubernetes.io/hostname': nodeName(n) } },
        status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: n.mgmt }] },
      });
    }
    await client.create(R.secrets, {
      metadata: { name: 'metallb-memberlist', namespace: NS },
      type: 'Opaque',
      data: { secretkey: Buffer.from(SECRET).toString('base64') },
    });
    await client.create(R.ipaddresspools, { metadata: { name: 'lan', namespace: NS }, spec: { addresses: ['10.77.0.200-10.77.0.209'] } });
    await client.create(R.l2advertisements, { metadata: { name: 'lan', namespace: NS }, spec: { ipAddressPools: ['lan'] } });
    for (const n of lab.nodes) {
      lab.spawnIn(
        n.ns,
        [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'apiserver', 'forward.ts'), '--listen', String(FWD_PORT), '--socket', join(lab.dir, 'apiserver.sock')],
        join(lab.dir, `forward-${n.name}.log`),
      );
      startSpeaker(ctx, n);
    }
  } catch (e) {
    await server?.close();
    await lab.teardown(process.env.L2_KEEP_LOGS === '1');
    ctx = undefined;
    throw e;
  }
});

after(async () => {
  if (!ctx) return;
  const c = ctx;
  try {
    for (const p of c.speakers.values()) await c.lab.stopProc(p, 'SIGTERM');
    await c.server.close();
  } finally {
    await c.lab.teardown(process.env.L2_KEEP_LOGS === '1');
  }
});

interface L2Status extends KubeObject {
  status?: { node?: string; serviceName?: string; interfaces?: { name: string }[] };
}

test('speakers elect an owner that answers ARP; kill -9 of the owner moves the IP to the survivor', { timeout: 240_000 }, async (t) => {
  if (why) {
    if (IN_CI) throw new Error(`prerequisite missing under CI: ${why}`);
    t.skip(why);
    return;
  }
  assert.ok(ctx, 'setup failed (see before hook)');
  const { lab, client } = ctx;
  const byName = new Map(lab.nodes.map((n) => [nodeName(n), n]));
  const byMac = new Map(lab.nodes.map((n) => [n.mac0, nodeName(n)]));

  // the Service as the controller leaves it: IP in status, endpoints on node-1 (Cluster policy:
  // every node is a candidate)
  await client.create(R.endpointslices, {
    metadata: { name: 'web-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.10'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ port: 80, protocol: 'TCP' }],
  });
  await client.create(R.services, {
    metadata: { name: 'web', namespace: 'shop', annotations: { 'metallb.io/ip-allocated-from-pool': 'lan' } },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], externalTrafficPolicy: 'Cluster' },
  });
  await client.patch(R.services, 'shop', 'web', { status: { loadBalancer: { ingress: [{ ip: IP }] } } }, { status: true });

  const all = lab.nodes.map((n) => ({ name: nodeName(n), labels: { 'kubernetes.io/hostname': nodeName(n) } }));
  const owner = electL2Owner(IP, all, []);
  assert.ok(owner);
  const ownerSpec = byName.get(owner);
  assert.ok(ownerSpec);
  // all three speakers up, talking to each other, and the elected owner answering
  const macs = await waitFor(`${IP} to resolve to ${owner}`, 120_000, () => {
    const m = arpingOnce(lab.client, 'eth0', IP, 1);
    return m.length === 1 && m[0] === ownerSpec.mac0 ? m : undefined;
  });
  assert.deepEqual(macs, [ownerSpec.mac0]);
  // nobody else answers (one reply only, over several requests)
  assert.deepEqual(arpingOnce(lab.client, 'eth0', IP, 3), [ownerSpec.mac0]);
  const listL2 = async (): Promise<L2Status[]> =>
    (await client.list<L2Status>(R.servicel2statuses, { namespace: NS, labelSelector: 'metallb.io/service-name=web' })).items;
  let statuses: L2Status[] = [];
  for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    statuses = await listL2();
    if (statuses.length === 1 && statuses[0]?.status?.node) break; // created, then its status patched
  }
  assert.deepEqual(statuses.map((s) => s.status?.node), [owner], 'exactly one ServiceL2Status, from the owner');
  assert.equal(statuses[0]?.metadata.labels?.['metallb.io/node'], owner);

  // kill -9 the owner's speaker; stream ARP from the client and time the move
  const survivors = all.filter((c) => c.name !== owner);
  const next = electL2Owner(IP, survivors, []);
  assert.ok(next && next !== owner);
  const nextSpec = byName.get(next);
  assert.ok(nextSpec);
  const arp = lab.streamIn(lab.client, ['stdbuf', '-oL', 'arping', '-r', '-i', 'eth0', '-W', '0.02', IP]);
  const seen = arp.lines; // one MAC per reply (-r)
  try {
    await waitFor('streamed replies from the owner', 5000, () => seen.some((s) => s.text === ownerSpec.mac0));
    const victim = ctx.speakers.get(owner);
    assert.ok(victim);
    const t0 = Date.now();
    await lab.stopProc(victim, 'SIGKILL');
    ctx.speakers.delete(owner);
    const hit = await waitFor(`${IP} to move to ${next}`, 20_000, () => seen.find((s) => s.at >= t0 && s.text === nextSpec.mac0));
    const ms = hit.at - t0;
    t.diagnostic(`kill -9 ${owner} -> ${IP} answered by ${next} after ${ms} ms`);
    assert.ok(ms < 10_000, `failover took ${ms} ms`);
    // after the move only the new owner answers
    const after = seen.filter((s) => s.at > hit.at + 300).map((s) => byMac.get(s.text) ?? s.text);
    assert.ok(after.every((n) => n === next), `replies after the move: ${[...new Set(after)].join(',')}`);
  } finally {
    await arp.stop();
  }
  // the survivor publishes its ServiceL2Status
  let mine: L2Status | undefined;
  for (const end = Date.now() + 30_000; Date.now() < end && !mine; await new Promise((r) => setTimeout(r, 200))) {
    mine = (await listL2()).find((s) => s.metadata.labels?.['metallb.io/node'] === next && s.status?.node);
  }
  assert.equal(mine?.status?.node, next, 'the new owner publishes ServiceL2Status');
  assert.deepEqual(arpingOnce(lab.client, 'eth0', IP, 2), [nextSpec.mac0]);
});

/**
 * Streams Debian arping (one request every 40 ms, "Timeout" for one not answered before the next:
 * a little more slack than the 20 ms of layer2/handover.test.ts because the speaker process also
 * closes its sessions and informers on its event loop while it stops)
 * around `event`; resolves once `to` answers and one more second passed. Returns what it saw.
 */
async function handoverWindow(lab: Lab, from: NodeSpec, to: NodeSpec, event: () => Promise<void>): Promise<{ timeouts: number; replies: number; movedMs: number; lastMacs: string[]; timeline: string }> {
  const MAC = /([0-9a-f]{2}:){5}[0-9a-f]{2}/;
  const arp = lab.streamIn(lab.client, ['stdbuf', '-oL', 'arping', '-i', 'eth0', '-W', '0.04', IP]);
  try {
    await waitFor(`arping answered by ${from.name}`, 10_000, () => arp.lines.some((x) => x.text.includes(from.mac0)));
    const t0 = Date.now();
    await event();
    const hit = await waitFor(`${IP} answered by ${to.name}`, 20_000, () => arp.lines.find((x) => x.at >= t0 && x.text.includes(to.mac0)));
    await new Promise((r) => setTimeout(r, 1000));
    await arp.stop();
    const win = arp.lines.filter((x) => x.at >= t0 - 500);
    return {
      timeouts: win.filter((x) => x.text.startsWith('timeout')).length,
      replies: win.filter((x) => MAC.test(x.text)).length,
      movedMs: hit.at - t0,
      lastMacs: [...new Set(win.filter((x) => x.at > hit.at + 500).flatMap((x) => MAC.exec(x.text)?.[0] ?? []))],
      // what the client saw around the event (ms relative to it), for a failure message
      timeline: win.filter((x) => x.at <= hit.at + 200).map((x) => `${x.at - t0} ${x.text.replace(/ \(.*$/, '')}`).join('\n'),
    };
  } finally {
    await arp.stop();
  }
}

test('handover: cordoning the owner\'s Node and stopping its speaker move the IP with no unanswered ARP request', { timeout: 240_000 }, async (t) => {
  if (why) {
    if (IN_CI) throw new Error(`prerequisite missing under CI: ${why}`);
    t.skip(why);
    return;
  }
  assert.ok(ctx, 'setup failed (see before hook)');
  const c = ctx;
  const { lab, client } = c;
  // every speaker runs again (the previous test killed one)
  for (const n of lab.nodes) if (!c.speakers.has(nodeName(n))) startSpeaker(c, n);
  const all = lab.nodes.map((n) => ({ name: nodeName(n), labels: {} }));
  const owner = electL2Owner(IP, all, []) ?? '';
  const next = electL2Owner(IP, all.filter((x) => x.name !== owner), []) ?? '';
  const spec = (name: string): NodeSpec => {
    const n = lab.nodes.find((x) => nodeName(x) === name);
    assert.ok(n, name);
    return n;
  };
  await waitFor(`${IP} back at ${owner}`, 120_000, () => {
    const m = arpingOnce(lab.client, 'eth0', IP, 2);
    return m.length === 1 && m[0] === spec(owner).mac0;
  });

  // cordon: drain on leave hands the address over (the speaker keeps running)
  const cordon = await handoverWindow(lab, spec(owner), spec(next), async () => {
    await client.patch(R.nodes, undefined, owner, { spec: { unschedulable: true } });
  });
  t.diagnostic(`cordon ${owner}: ${IP} answered by ${next} after ${cordon.movedMs} ms; ${cordon.replies} replies, ${cordon.timeouts} unanswered`);
  assert.equal(cordon.timeouts, 0, `no unanswered ARP request while the cordoned node hands over:\n${cordon.timeline}`);
  assert.deepEqual(cordon.lastMacs, [spec(next).mac0], 'then only the new owner answers');
  assert.match(readFileSync(join(lab.dir, `speaker-${spec(owner).name}.log`), 'utf8'), /handover confirmed by the new owner/);

  // uncordon: back to the elected owner (failback), make-before-break as well: the current owner
  // answers until the returning one confirms; then only the returning one has a ServiceL2Status
  const back = await handoverWindow(lab, spec(next), spec(owner), async () => {
    await client.patch(R.nodes, undefined, owner, { spec: { unschedulable: null } });
  });
  t.diagnostic(`uncordon ${owner}: ${IP} answered by ${owner} after ${back.movedMs} ms; ${back.replies} replies, ${back.timeouts} unanswered`);
  assert.equal(back.timeouts, 0, `no unanswered ARP request while the address moves back:\n${back.timeline}`);
  assert.deepEqual(back.lastMacs, [spec(owner).mac0], 'then only the returning owner answers');
  let l2Nodes: string[] = [];
  for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    const items = (await client.list<L2Status>(R.servicel2statuses, { namespace: NS, labelSelector: 'metallb.io/service-name=web' })).items;
    l2Nodes = items.flatMap((s) => (s.status?.node ? [s.status.node] : []));
    if (JSON.stringify(l2Nodes) === JSON.stringify([owner])) break;
  }
  assert.deepEqual(l2Nodes, [owner], 'ServiceL2Status names only the returning owner once it confirmed');

  // the speaker stops (SIGTERM, as in a rollout): handover, then exit
  const victim = c.speakers.get(owner);
  assert.ok(victim);
  const stop = await handoverWindow(lab, spec(owner), spec(next), async () => {
    await lab.stopProc(victim, 'SIGTERM');
    c.speakers.delete(owner);
  });
  t.diagnostic(`SIGTERM ${owner}: ${IP} answered by ${next} after ${stop.movedMs} ms; ${stop.replies} replies, ${stop.timeouts} unanswered`);
  assert.equal(stop.timeouts, 0, `no unanswered ARP request while the stopping speaker hands over:\n${stop.timeline}`);
  assert.deepEqual(stop.lastMacs, [spec(next).mac0]);
});


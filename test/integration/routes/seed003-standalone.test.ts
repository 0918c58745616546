// Acceptance (issue 13): the seed 003 page (OpenPERouter integration) pasted whole — L3VNIs,
// BGPPeers, BGPAdvertisements and the FRRConfiguration with `toReceive: allowed: mode: all` —
// plus the pools and a Service the page leaves out, run by `metallb-ts standalone` in the node's
// namespace. A real FRR plays both leaves' host-facing side (192.169.10.1 and 192.169.11.1, AS
// 64514). A prefix FRR announces lands in the node's kernel table with `proto bgp` (one ECMP
// route: both sessions receive it), leaves it on withdraw and when standalone stops; /status
// shows the BGPSessionState fields and the received/accepted counts per session.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { must, stopAll, waitFor } from '../lib/proc.ts';
import { REPO_ROOT, StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { bgpRouteLines } from '../lib/kernelroutes.ts';

const EXTRA = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: address-pool-red
  namespace: metallb-system
spec:
  addresses:
  - 192.168.10.0/24
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: address-pool-blue
  namespace: metallb-system
spec:
  addresses:
  - 192.168.20.0/24
---
apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: default
  annotations:
    metallb.io/address-pool: address-pool-red
spec:
  type: LoadBalancer
  ports:
  - port: 80
`;

interface SessionView {
  peer: string;
  address: string | null;
  speaker: { state?: string; receiveMode?: string; receivedPrefixes?: number; acceptedPrefixes?: number } | null;
}
interface StatusView {
  sessions: SessionView[];
  extensions?: {
    receivedRoutes?: { installed: number };
    bgpSessionStates?: { node: string; peer: string; vrf: string; bgpStatus: string; bfdStatus: string; port: number }[];
  };
}

const bgpRoutes = (ns: string): string[] => bgpRouteLines(ns);

describe('seed 003 pasted whole: received routes in the node kernel table (standalone + FRR)', { concurrency: false }, () => {
  const why = missing(['ip', 'bgpd', 'vtysh']);
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };

  before(async () => {
    if (why) return;
    lab = new Lab('seed003').setup();
    for (const a of ['192.169.10.1/24', '192.169.11.1/24']) must('ip', ['-n', lab.nsRtr, 'addr', 'add', a, 'dev', 'eth0']);
    for (const a of ['192.169.10.2/24', '192.169.11.2/24']) must('ip', ['-n', lab.nsDut, 'addr', 'add', a, 'dev', 'eth0']);
    frr = new Frr({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'frr'),
      asn: 64514,
      routerId: '192.169.10.1',
      listen4: ['192.169.10.1', '192.169.11.1'],
      listen6: [],
      neighbors: [
        { name: 'host_red', address: '192.169.10.2', asn: 64515, localAddress: '192.169.10.1' },
        { name: 'host_blue', address: '192.169.11.2', asn: 64515, localAddress: '192.169.11.1' },
      ],
    });
    await frr.start();
    const manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'seed003.yaml', readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'seeds', '003-openperouter-whole.yaml'), 'utf8'));
    writeManifest(manifests, 'pools-and-service.yaml', EXTRA);
    sa = new StandaloneProcess({
      ns: lab.nsDut,
      manifests,
      statePath: join(lab.dir, 'state.json'),
      node: 'pe-kind-worker',
      nodeAddress: '192.169.10.2',
      httpPort: 7472,
      logFile: join(lab.dir, 'standalone.log'),
    });
    sa.start();
    await sa.waitReady(60000);
  });

  after(() => stopAll([sa, frr], () => lab?.destroy()));

  it('both sessions Established with receive mode all; an announced prefix is in the kernel (ECMP via both leaves)', async (t) => {
    if (!need(t) || !frr || !sa || !lab) return;
    await frr.waitEstablished(['192.169.10.2', '192.169.11.2'], 60000);
    await frr.network(['10.100.0.0/24']);
    const want = ['10.100.0.0/24 proto bgp metric 20 nexthop via 192.169.10.1 dev eth0 weight 1 nexthop via 192.169.11.1 dev eth0 weight 1'];
    await waitFor('route in the kernel', () => (JSON.stringify(bgpRoutes(lab?.nsDut ?? '')) === JSON.stringify(want) ? true : undefined), 30000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; kernel: ${JSON.stringify(bgpRoutes(lab?.nsDut ?? ''))}`);
    });
    // FRR also sends our own Service route back (AS path 64514 64515): received, but rejected by
    // the AS loop check, so each session counts 2 received and 1 accepted prefix
    const red = 'red session: 2 received, 1 accepted';
    const view = await waitFor(red, async () => {
      const st = (await sa?.status()) as unknown as StatusView;
      const s = st.sessions.find((x) => x.address === '192.169.10.1');
      return s?.speaker?.receivedPrefixes === 2 ? { st, s } : undefined;
    }, 30000);
    assert.deepEqual(
      view.st.extensions?.bgpSessionStates?.map((x) => [x.node, x.peer, x.vrf, x.bgpStatus, x.bfdStatus]).sort(),
      [
        ['pe-kind-worker', '192.169.10.1', '', 'Established', 'N/A'],
        ['pe-kind-worker', '192.169.11.1', '', 'Established', 'N/A'],
      ],
    );
    assert.equal(view.s.speaker?.receiveMode, 'all');
    assert.equal(view.s.speaker?.acceptedPrefixes, 1);
    assert.equal(view.st.extensions?.receivedRoutes?.installed, 1);
    assert.deepEqual(bgpRoutes(lab.nsDut), want, 'the reflected Service route is not installed');
  });

  it('FRR withdraws: the route leaves the kernel', async (t) => {
    if (!need(t) || !frr || !lab) return;
    await frr.network(['10.100.0.0/24'], true);
    await waitFor('route gone', () => (bgpRoutes(lab?.nsDut ?? '').length === 0 ? true : undefined), 30000);
  });

  it('standalone stops (SIGTERM): nothing of ours left in the kernel', async (t) => {
    if (!need(t) || !frr || !sa || !lab) return;
    await frr.network(['10.101.0.0/24']);
    await waitFor('route back', () => (bgpRoutes(lab?.nsDut ?? '').length === 1 ? true : undefined), 30000);
    await sa.stop();
    assert.deepEqual(bgpRoutes(lab.nsDut), []);
  });
});

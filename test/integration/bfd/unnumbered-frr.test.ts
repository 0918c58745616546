// BFD on an unnumbered session: `metallb-ts standalone` with a BGPPeer `interface: eth0` and a
// bfdProfile (100 ms x 3) against FRR 8 (zebra + bfdd + bgpd, `neighbor eth0 interface
// remote-as external` + `neighbor eth0 bfd profile`) over a veth with only IPv6 link-local
// addresses. BFD runs single hop between the two link-local addresses (RFC 5881, UDP 3784, hop
// limit 255). FRR's bfdd frozen: we close BGP and hold it down until BFD is Up again; our
// speaker frozen: FRR drops the Service route long before the 90 s hold timer.
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Lab } from '../lib/netns.ts';
import { unnumberedLab } from '../lib/unnumbered.ts';
import { runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { stopAll, waitFor } from '../lib/proc.ts';
import { packetAddonAvailable } from '../../../src/native/packet.ts';
import { bfdTestsMissing } from './prereq.ts';

const HOLD = 90;
const V4 = '198.51.100.42';
const NODE_ADDRESS = '10.255.0.103';

const MANIFEST = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: unnumbered, namespace: metallb-system}
spec: {addresses: [${V4}/32]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {ipAddressPools: [unnumbered]}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec:
  myASN: 64700
  peerASN: 64600
  interface: eth0
  holdTime: ${HOLD}s
  connectTime: 1s
  bfdProfile: fast
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  ports: [{port: 80, protocol: TCP}]
`;

interface SpeakerView {
  state: string;
  peerAddress: string;
  lastError?: string;
  bfd?: { state: string; peerAddress?: string; holdingBgpDown: boolean; detectionTimeMs: number; localDiag: string; error?: string };
}


describe('BFD on an unnumbered BGPPeer (interface: eth0) against FRR bfdd', { concurrency: false }, () => {
  const why = bfdTestsMissing() ?? (packetAddonAvailable() ? undefined : 'native addon metallb_packet.node not built (npm run build:native)');
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  let ourLL = '';
  let frrLL = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };
  const speaker = async (): Promise<SpeakerView | undefined> => ((await sa!.status()).sessions[0]?.speaker ?? undefined) as SpeakerView | undefined;
  const frrPeer = async (): Promise<{ status?: string; interface?: string; local?: string } | undefined> => (await frr!.bfdPeers()).find((p) => p.peer === ourLL) as { status?: string; interface?: string; local?: string } | undefined;
  const frrHasRoute = async (): Promise<boolean> => {
    const doc = JSON.parse(await frr!.vtysh('show bgp ipv4 unicast json')) as { routes?: Record<string, unknown> };
    return doc.routes?.[`${V4}/32`] !== undefined;
  };

  before(async () => {
    if (why) return;
    const u = unnumberedLab('bfdunnum', NODE_ADDRESS);
    lab = u.lab;
    ourLL = u.nodeLL;
    frrLL = u.routerLL;
    frr = new Frr({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'frr'),
      asn: 64600,
      routerId: '10.255.0.1',
      listen4: [],
      listen6: [],
      neighbors: [{ name: 'dut', address: 'eth0', asn: 64700, interface: { remoteAs: 'external' }, families: [4], bfd: true, holdTime: HOLD }],
      bfd: { receiveMs: 100, transmitMs: 100, detectMultiplier: 3 },
    });
    await frr.start();
    const manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'all.yaml', MANIFEST);
    sa = new StandaloneProcess({ ns: lab.nsDut, manifests, statePath: join(lab.dir, 'state.json'), node: 'dut', nodeAddress: NODE_ADDRESS, httpPort: 7472, logFile: join(lab.dir, 'standalone.log') });
    sa.start();
    await sa.waitReady();
  });

  after(async () => {
    sa?.proc?.signal('SIGCONT');
    for (const p of frr?.pids() ?? []) process.kill(p, 'SIGCONT');
    await stopAll([sa, frr], () => lab?.destroy());
  });

  it('BGP Established and BFD Up at both ends between the link-local addresses, 100 ms x 3', async (t) => {
    if (!need(t)) return;
    await frr!.waitEstablished(['eth0'], 60000);
    const s = await waitFor('our BFD Up', async () => {
      const v = await speaker();
      return v?.state === 'Established' && v.bfd?.state === 'Up' ? v : undefined;
    }, 30000);
    assert.equal(s.bfd?.detectionTimeMs, 300);
    assert.equal(s.bfd?.holdingBgpDown, false);
    assert.equal(s.bfd?.error, undefined);
    const p = await waitFor('FRR bfdd: peer up', async () => {
      const x = await frrPeer();
      return x?.status === 'up' ? x : undefined;
    }, 15000, 100);
    assert.equal(p.interface, 'eth0');
    assert.equal(s.bfd?.peerAddress, `${frrLL}%eth0`, 'our BFD session runs to FRR\'s link-local address on eth0');
    await waitFor('route at FRR', async () => ((await frrHasRoute()) ? true : undefined), 20000, 100);
  });

  it('FRR bfdd frozen: we close BGP at once and hold it down until BFD is Up again', async (t) => {
    if (!need(t)) return;
    const bfdd = frr!.daemon('bfdd');
    bfdd.signal('SIGSTOP');
    try {
      const held = await waitFor('BGP held down by BFD', async () => {
        const v = await speaker();
        return v?.bfd?.holdingBgpDown ? v : undefined;
      }, 5000, 20);
      assert.equal(held.bfd?.localDiag, 'control detection time expired');
      assert.match(held.lastError ?? '', /held down: BFD session to fe80:.*%eth0/);
      assert.equal(held.peerAddress, 'eth0');
      await waitFor('FRR bgpd sees the session down', async () => ((await frr!.states())['eth0'] !== 'established' ? true : undefined), 5000, 50);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await speaker())?.bfd?.holdingBgpDown, true, 'still held while BFD is down');
    } finally {
      bfdd.signal('SIGCONT');
    }
    await waitFor('BFD Up and BGP Established again', async () => {
      const v = await speaker();
      return v?.state === 'Established' && v.bfd?.state === 'Up' && !v.bfd.holdingBgpDown ? true : undefined;
    }, 30000);
    await waitFor('route back at FRR', async () => ((await frrHasRoute()) ? true : undefined), 20000, 100);
  });

  it('speaker frozen (SIGSTOP): FRR drops the Service route long before the 90 s hold timer', async (t) => {
    if (!need(t)) return;
    assert.ok(await frrHasRoute());
    const t0 = Date.now();
    sa!.proc!.signal('SIGSTOP');
    try {
      const ms = await waitFor('route gone at FRR', async () => {
        const a = Date.now();
        return (await frrHasRoute()) ? undefined : (a + Date.now()) / 2 - t0;
      }, 20000, 5);
      t.diagnostic(`FRR dropped ${V4}/32 ${Math.round(ms)} ms after SIGSTOP (BFD 100 ms x 3 on the unnumbered link; hold time ${HOLD} s)`);
      assert.ok(ms < (HOLD * 1000) / 3, `removed after ${ms} ms: BFD, not the hold timer`);
      assert.equal((await frrPeer())?.status, 'down');
    } finally {
      sa!.proc!.signal('SIGCONT');
    }
    await waitFor('route back after SIGCONT', async () => ((await frrHasRoute()) ? true : undefined), 30000, 100);
  });
});

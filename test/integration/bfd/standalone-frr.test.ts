// Acceptance: `metallb-ts standalone` with a BGPPeer whose bfdProfile is {receiveInterval: 100,
// transmitInterval: 100, detectMultiplier: 3} against FRR 8 (zebra + bfdd + bgpd, `neighbor X
// bfd profile`), BGP hold time 90 s. BFD Up at both ends; freezing the speaker (SIGSTOP) makes
// FRR drop the service /32 long before the hold timer could expire; FRR's bfdd frozen makes our
// side close BGP and hold it down (/status says BFD) until BFD is Up again.
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { stopAll, waitFor } from '../lib/proc.ts';
import { serviceYaml } from '../lib/interop.ts';
import { bfdTestsMissing } from './prereq.ts';

const HOLD = 90;

function manifests(peerAddress: string): Record<string, string> {
  return {
    'pools.yaml': `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec: {addresses: [198.51.100.10/31]}
`,
    'adv.yaml': `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {ipAddressPools: [first-pool]}
`,
    'bfd.yaml': `apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec:
  receiveInterval: 100
  transmitInterval: 100
  detectMultiplier: 3
`,
    'peer.yaml': `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: frr, namespace: metallb-system}
spec:
  myASN: 64700
  peerASN: 64600
  peerAddress: ${peerAddress}
  holdTime: ${HOLD}s
  connectTime: 1s
  bfdProfile: fast
`,
    'svc.yaml': serviceYaml('web'),
  };
}

interface BfdView {
  state: string;
  holdingBgpDown: boolean;
  detectionTimeMs: number;
  localDiag: string;
}
interface SpeakerView {
  state: string;
  lastError?: string;
  bfd?: BfdView;
}

describe('BFDProfile on a BGPPeer, standalone against FRR bgpd + bfdd', { concurrency: false }, () => {
  const why = bfdTestsMissing();
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  let ip = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };
  const speaker = async (): Promise<SpeakerView | undefined> => ((await sa!.status()).sessions[0]?.speaker ?? undefined) as SpeakerView | undefined;
  const hasRoute = async (): Promise<boolean> => (await frr!.routes()).some((r) => r.prefix === `${ip}/32`);
  const frrBfd = async (): Promise<string | undefined> => (await frr!.bfdPeers()).find((p) => p.peer === lab!.addr.dut4[0])?.status;

  before(async () => {
    if (why) return;
    lab = new Lab('bfdsa').setup();
    const a = lab.addr;
    frr = new Frr({
      ns: lab.nsRtr,
      dir: join(lab.dir, 'frr'),
      asn: 64600,
      routerId: a.rtr4[0]!,
      listen4: [a.rtr4[0]!],
      listen6: [],
      neighbors: [{ name: 'dut', address: a.dut4[0]!, asn: 64700, bfd: true, holdTime: HOLD }],
      bfd: { receiveMs: 100, transmitMs: 100, detectMultiplier: 3 },
    });
    await frr.start();
    const dir = join(lab.dir, 'manifests');
    for (const [f, text] of Object.entries(manifests(a.rtr4[0]!))) writeManifest(dir, f, text);
    sa = new StandaloneProcess({ ns: lab.nsDut, manifests: dir, statePath: join(lab.dir, 'state.json'), node: 'dut', nodeAddress: a.dut4[0]!, httpPort: 7472, logFile: join(lab.dir, 'standalone.log') });
    sa.start();
    await sa.waitReady();
    ip = (await sa.status()).services[0]?.ips[0] ?? '';
  });

  after(async () => {
    sa?.proc?.signal('SIGCONT');
    for (const p of frr?.pids() ?? []) process.kill(p, 'SIGCONT');
    await stopAll([sa, frr], () => lab?.destroy());
  });

  it('BGP Established, BFD Up at both ends with 100 ms x 3, metrics and /status show it', async (t) => {
    if (!need(t)) return;
    assert.ok(ip, 'service got an IP');
    await frr!.waitEstablished([lab!.addr.dut4[0]!]);
    await waitFor('route at FRR', async () => ((await hasRoute()) ? true : undefined), 20000, 100);
    await waitFor('FRR BFD up', async () => ((await frrBfd()) === 'up' ? true : undefined), 15000, 100);
    const p = (await frr!.bfdPeers()).find((x) => x.peer === lab!.addr.dut4[0]);
    assert.equal(p?.['remote-receive-interval'], 100);
    assert.equal(p?.['remote-transmit-interval'], 100);
    assert.equal(p?.['remote-detect-multiplier'], 3);
    const s = await waitFor('our BFD Up', async () => {
      const v = await speaker();
      return v?.bfd?.state === 'Up' ? v : undefined;
    });
    assert.equal(s.state, 'Established');
    assert.equal(s.bfd?.detectionTimeMs, 300);
    assert.equal(s.bfd?.holdingBgpDown, false);
    const m = (await sa!.get('/metrics')).body;
    const peer = lab!.addr.rtr4[0]!;
    assert.match(m, new RegExp(`metallb_bfd_session_up\\{peer="${peer}"\\} 1`));
    assert.match(m, new RegExp(`metallb_bfd_session_up_events\\{peer="${peer}"\\} [1-9]`));
    assert.match(m, new RegExp(`metallb_bfd_control_packet_input\\{peer="${peer}"\\} [1-9]`));
    assert.match(m, new RegExp(`metallb_bfd_control_packet_output\\{peer="${peer}"\\} [1-9]`));
  });

  it('speaker frozen (SIGSTOP): FRR drops the service route long before the 90 s hold timer', async (t) => {
    if (!need(t)) return;
    assert.ok(await hasRoute());
    // One cheap vtysh query per poll; the middle of the first poll that sees the route gone
    // is taken as the moment FRR dropped it (each poll costs tens of ms on a loaded machine).
    const present = async (): Promise<boolean> => {
      const doc = JSON.parse(await frr!.vtysh('show bgp ipv4 unicast json')) as { routes?: Record<string, unknown> };
      return doc.routes?.[`${ip}/32`] !== undefined;
    };
    const t0 = Date.now();
    sa!.proc!.signal('SIGSTOP');
    try {
      const ms = await waitFor('route gone at FRR', async () => {
        const a = Date.now();
        return (await present()) ? undefined : (a + Date.now()) / 2 - t0;
      }, 20000, 5);
      t.diagnostic(`FRR dropped ${ip}/32 ${Math.round(ms)} ms after SIGSTOP (BFD 100 ms x 3; hold time ${HOLD} s)`);
      assert.ok(ms < (HOLD * 1000) / 3, `removed after ${ms} ms: BFD, not the hold timer`);
      assert.equal(await frrBfd(), 'down');
    } finally {
      sa!.proc!.signal('SIGCONT');
    }
    await waitFor('route back after SIGCONT', async () => ((await hasRoute()) ? true : undefined), 30000, 100);
    await waitFor('BFD up again at FRR', async () => ((await frrBfd()) === 'up' ? true : undefined), 15000, 100);
  });

  it('FRR bfdd frozen: we close BGP at once and hold it down (status says BFD) until BFD is Up', async (t) => {
    if (!need(t)) return;
    await waitFor('Established + BFD Up', async () => {
      const v = await speaker();
      return v?.state === 'Established' && v.bfd?.state === 'Up' ? true : undefined;
    }, 30000);
    const bfdd = frr!.daemon('bfdd');
    bfdd.signal('SIGSTOP');
    let held: SpeakerView;
    try {
      held = await waitFor('BGP held down by BFD', async () => {
        const v = await speaker();
        return v?.bfd?.holdingBgpDown ? v : undefined;
      }, 5000, 20);
      assert.equal(held.bfd?.localDiag, 'control detection time expired');
      assert.match(held.lastError ?? '', /held down: BFD session/);
      assert.notEqual(held.state, 'Established');
      // FRR bgpd (not frozen) lost the session: we closed it.
      await waitFor('FRR bgpd sees the session down', async () => ((await frr!.states())[lab!.addr.dut4[0]!] !== 'established' ? true : undefined), 5000, 50);
      // Still held a while later: BGP does not come back while BFD is down.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await speaker())?.bfd?.holdingBgpDown, true);
      assert.notEqual((await frr!.states())[lab!.addr.dut4[0]!], 'established');
    } finally {
      bfdd.signal('SIGCONT');
    }
    await waitFor('BFD Up and BGP Established again', async () => {
      const v = await speaker();
      return v?.state === 'Established' && v.bfd?.state === 'Up' && !v.bfd.holdingBgpDown ? true : undefined;
    }, 30000);
    await waitFor('route back at FRR', async () => ((await hasRoute()) ? true : undefined), 20000, 100);
  });
});

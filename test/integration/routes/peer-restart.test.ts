// Graceful restart, receiving side (RFC 4724 §4.2), against a real FRR that restarts: FRR
// (`bgp graceful-restart`, `preserve-fw-state`) announces two prefixes to `metallb-ts
// standalone` (FRRConfiguration `toReceive: allowed: mode: all`, `enableGracefulRestart`), whose
// routes land in the node namespace's kernel table. While bgpd is stopped and started again the
// node's FIB (sampled every 15 ms, plus `ip monitor route`) keeps both; /status shows them stale
// per session; the prefix FRR no longer originates after its restart leaves the kernel once FRR's
// End-of-RIB arrived. Then: FRR down longer than its restart time → removed when it runs out;
// FRR without graceful restart → removed at once when the session drops. And our own graceful
// restart (SIGTERM, start again): the received routes stay in the node FIB throughout.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr } from '../lib/routers.ts';
import { run, stopAll, waitFor } from '../lib/proc.ts';
import { StandaloneProcess, shortenRestartMarker, writeManifest } from '../lib/standalone.ts';
import { FibWatcher } from '../lib/fib.ts';
import { bgpPrefixes } from '../lib/kernelroutes.ts';

const KEEP = '10.100.0.0/24';
const GONE = '10.101.0.0/24';
const ORPHAN = '10.102.0.0/24';
const RTR = '10.201.0.1';
const DUT = '10.201.0.101';

const MANIFEST = `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: receive, namespace: frr-k8s-system}
spec:
  bgp:
    routers:
    - asn: 64500
      neighbors:
      - address: ${RTR}
        asn: 64600
        enableGracefulRestart: true
        connectTime: 1s
        holdTime: 9s
        toReceive:
          allowed:
            mode: all
`;

interface SessionView {
  address: string | null;
  speaker: { state?: string; acceptedPrefixes?: number; staleReceivedPrefixes?: number; staleReceivedUntil?: string } | null;
}

const bgpRoutes = (ns: string): string[] => bgpPrefixes(ns);

describe('received routes stay while the router restarts gracefully (standalone + FRR)', { concurrency: false }, () => {
  const why = missing(['ip', 'bgpd', 'vtysh']);
  let lab: Lab | undefined;
  let frr: Frr | undefined;
  let sa: StandaloneProcess | undefined;
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && frr && sa, 'setup failed (see before hook)');
    return true;
  };
  const session = async (): Promise<SessionView['speaker']> => {
    const st = (await sa?.status()) as unknown as { sessions: SessionView[] };
    return st.sessions.find((s) => s.address === RTR)?.speaker ?? null;
  };
  const waitKernel = (what: string, want: string[], timeoutMs = 30000) =>
    waitFor(what, () => (JSON.stringify(bgpRoutes(lab?.nsDut ?? '')) === JSON.stringify([...want].sort()) ? true : undefined), timeoutMs).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; kernel: ${JSON.stringify(bgpRoutes(lab?.nsDut ?? ''))}`);
    });
  const configure = (gracefulRestart: boolean, restartTime: number, networks: string[]): void => {
    if (!frr) return;
    frr.opts.gracefulRestart = gracefulRestart;
    frr.opts.frrRouterLines = gracefulRestart ? ['bgp graceful-restart preserve-fw-state', `bgp graceful-restart restart-time ${restartTime}`] : [];
    frr.opts.frrNetworks = networks;
  };

  before(async () => {
    if (why) return;
    lab = new Lab('peer-gr').setup();
    frr = new Frr({
      ns: lab.nsRtr, dir: join(lab.dir, 'frr'), asn: 64600, routerId: RTR, listen4: [RTR], listen6: [],
      neighbors: [{ name: 'dut', address: DUT, asn: 64500, holdTime: 9 }],
    });
    configure(true, 120, [KEEP, GONE]);
    await frr.start();
    const manifests = join(lab.dir, 'manifests');
    writeManifest(manifests, 'receive.yaml', MANIFEST);
    sa = new StandaloneProcess({ ns: lab.nsDut, manifests, statePath: join(lab.dir, 'state.json'), node: 'dut', nodeAddress: DUT, httpPort: 7472, logFile: join(lab.dir, 'standalone.log') });
    sa.start();
    await sa.waitReady(60000);
    await frr.waitEstablished([DUT], 60000);
  });

  after(() => stopAll([sa, frr], () => lab?.destroy()));

  it('bgpd stopped and started again: both routes stay in the node FIB, stale in /status; the one not re-announced leaves after End-of-RIB', async (t) => {
    if (!need(t) || !frr || !lab) return;
    await waitKernel('both routes installed', [KEEP, GONE]);
    const fib = new FibWatcher(lab.nsDut, 15);
    fib.start();
    try {
      await waitFor('FIB sampler running', () => (fib.samples.some((s) => s.routes.has(KEEP)) ? true : undefined), 10000);
      const from = Date.now();
      await frr.stop(); // SIGTERM: bgpd closes the session as a graceful restart
      const stale = await waitFor('both received routes stale in /status', async () => {
        const s = await session();
        return s?.staleReceivedPrefixes === 2 ? s : undefined;
      }, 30000);
      assert.notEqual(stale?.state, 'Established');
      assert.ok(stale?.staleReceivedUntil !== undefined && Date.parse(stale.staleReceivedUntil) > Date.now(), `stale until the restart time: ${String(stale?.staleReceivedUntil)}`);
      assert.deepEqual(bgpRoutes(lab.nsDut), [KEEP, GONE], 'FRR is down: the node still forwards with its routes');
      configure(true, 120, [KEEP]);
      await frr.start();
      await waitKernel('the prefix FRR no longer originates is removed after its End-of-RIB', [KEEP]);
      await waitFor('no stale routes left', async () => ((await session())?.staleReceivedPrefixes === 0 ? true : undefined), 30000);
      const to = Date.now();
      await new Promise((r) => setTimeout(r, 100)); // the sampler's last lines
      const gaps = fib.gaps(KEEP, from, to);
      assert.deepEqual(gaps, [], `${KEEP} left the node FIB: ${JSON.stringify(gaps)}`);
      assert.ok(fib.samples.filter((s) => s.at >= from && s.at <= to).length > 20, 'the FIB was sampled during the restart');
      assert.ok(!fib.events.some((e) => e.line.startsWith('Deleted') && e.line.includes(KEEP)), `ip monitor saw ${KEEP} deleted`);
    } finally {
      await fib.stop();
    }
  });

  it('metallb-ts itself restarts gracefully (SIGTERM, start again): its received routes never leave the node FIB; the new process adopts them until the session re-learns them', async (t) => {
    if (!need(t) || !frr || !lab || !sa) return;
    await waitKernel('route installed', [KEEP]);
    await waitFor('session Established', async () => ((await session())?.state === 'Established' ? true : undefined), 30000);
    const fib = new FibWatcher(lab.nsDut, 15);
    fib.start();
    try {
      await waitFor('FIB sampler running', () => (fib.samples.some((s) => s.routes.has(KEEP)) ? true : undefined), 10000);
      const from = Date.now();
      await sa.stop(); // SIGTERM = graceful restart (the documented rollout)
      assert.deepEqual(bgpRoutes(lab.nsDut), [KEEP], 'no metallb-ts running: the node still forwards with the received route (Forwarding State)');
      // a route of the previous run that no session will announce again (as if the router had
      // withdrawn it meanwhile), and a restart time shortened to 4 s in the marker the stopped
      // process wrote: the new process keeps it until then, and only it is removed
      run('ip', ['-n', lab.nsDut, 'route', 'add', ORPHAN, 'via', RTR, 'proto', 'bgp', 'metric', '20']);
      assert.ok(shortenRestartMarker(join(lab.dir, 'state.json.restart'), 6) > 0, 'the stopped process wrote its restart marker');
      sa.start();
      await sa.waitReady(60000);
      const adopted = (): Promise<number | undefined> =>
        sa ? sa.status().then((st) => (st as unknown as { extensions?: { receivedRoutes?: { adoptedFromPreviousRun?: number } } }).extensions?.receivedRoutes?.adoptedFromPreviousRun) : Promise.resolve(undefined);
      await waitFor('the session re-learned the route, the orphan is still kept', async () => {
        const s = await session();
        return s?.state === 'Established' && s.acceptedPrefixes === 1 && (await adopted()) === 1 ? true : undefined;
      }, 60000);
      assert.deepEqual(bgpRoutes(lab.nsDut), [KEEP, ORPHAN].sort(), 'within the restart time the routes of the previous run stay');
      await waitKernel('the orphan is removed when the restart time is over', [KEEP], 30000);
      assert.equal(await adopted(), 0);
      const to = Date.now();
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(fib.gaps(KEEP, from, to), [], `${KEEP} left the node FIB during our restart`);
      assert.ok(!fib.events.some((e) => e.line.startsWith('Deleted') && e.line.includes(KEEP)), `ip monitor saw ${KEEP} deleted`);
      const log = readFileSync(join(lab.dir, 'standalone.log'), 'utf8');
      assert.match(log, /received routes left in the kernel for the next run/);
      assert.match(log, /kept the received routes of the previous run in the kernel/);
      assert.match(log, /received routes of the previous run that no session re-learned are removed/);
    } finally {
      await fib.stop();
    }
  });

  it('FRR down longer than its restart time: the stale routes are removed when it runs out', async (t) => {
    if (!need(t) || !frr) return;
    await frr.stop();
    configure(true, 3, [KEEP]);
    await frr.start();
    await frr.waitEstablished([DUT], 60000);
    await waitFor('session up again, nothing stale', async () => {
      const s = await session();
      return s?.state === 'Established' && s.acceptedPrefixes === 1 && s.staleReceivedPrefixes === 0 ? true : undefined;
    }, 30000);
    await frr.stop();
    await waitFor('stale', async () => ((await session())?.staleReceivedPrefixes === 1 ? true : undefined), 30000);
    await waitKernel('removed when the 3 s restart time ran out', [], 30000);
    assert.equal((await session())?.staleReceivedPrefixes, 0);
  });

  it('FRR without graceful restart: the route leaves as soon as the session drops', async (t) => {
    if (!need(t) || !frr) return;
    configure(false, 0, [KEEP]);
    await frr.start();
    await waitKernel('route back', [KEEP]);
    await frr.stop();
    await waitKernel('removed at session down', [], 30000);
    assert.equal((await session())?.staleReceivedPrefixes, 0);
  });
});

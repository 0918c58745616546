// Zero-drop lifecycle against real routers that install our routes in their kernel FIB (FRR with
// zebra, BIRD with a kernel protocol), graceful restart enabled on the router:
//   - the documented rollout (SIGTERM, start the new process) never removes the Service's /32
//     from the router's FIB (sampled every 15 ms, and `ip monitor route` as a second witness);
//     a Service deleted while the speaker was down is gone once the new process sent End-of-RIB;
//   - without enableGracefulRestart the same restart withdraws;
//   - `metallb-ts drain --stop`: the router sees 65535:0 and LOCAL_PREF 0 (iBGP) first, the
//     withdraw comes after the drain period, then the process exits 0.
// iBGP (AS 64600 on both sides), one router namespace, one DUT namespace per router kind.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { makeRouter, ROUTER_BINS } from '../lib/routers.ts';
import type { Router, RouterKind } from '../lib/routers.ts';
import { REPO_ROOT, StandaloneProcess, removeManifest, writeManifest } from '../lib/standalone.ts';
import { runAsync, stopAll, waitFor } from '../lib/proc.ts';
import { FibWatcher } from '../lib/fib.ts';

const ASN = 64600;
const KEEP = '203.0.113.10';
const GONE = '203.0.113.20';
const DRAIN_MS = 4000;

const POOL = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: gr-pool, namespace: metallb-system}
spec:
  addresses: [203.0.113.0/24]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: gr-adv, namespace: metallb-system}
spec:
  ipAddressPools: [gr-pool]
  localPref: 150
  communities: ["64512:7"]
`;

function peerManifest(routerAddr: string, gr: boolean): string {
  return `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: rtr, namespace: metallb-system}
spec:
  myASN: ${ASN}
  peerASN: ${ASN}
  peerAddress: ${routerAddr}
  holdTime: 9s
  connectTime: 1s
  enableGracefulRestart: ${gr}
`;
}

function service(name: string, ip: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
  annotations: {metallb.io/loadBalancerIPs: "${ip}"}
spec:
  type: LoadBalancer
  ports: [{port: 80, protocol: TCP}]
`;
}

interface SessionView {
  peer: string;
  speaker: {
    state?: string;
    phase?: string;
    counters?: { gracefulRestarts?: number; drains?: number };
    gracefulRestart?: { restarted: boolean; notification: boolean };
  } | null;
}

for (const kind of ['frr', 'bird'] as RouterKind[]) {
  describe(`graceful restart and drain with ${kind} (kernel FIB)`, { concurrency: false }, () => {
    const why = missing(['ip', ...ROUTER_BINS[kind]]);
    let lab: Lab | undefined;
    let router: Router | undefined;
    let sa: StandaloneProcess | undefined;
    let manifests = '';
    let run = 0;
    const need = (t: TestContext): boolean => {
      if (!runnable(t, why)) return false;
      assert.ok(lab && router && sa, 'setup failed (see before hook)');
      return true;
    };
    const newStandalone = (): StandaloneProcess => {
      assert.ok(lab);
      return new StandaloneProcess({
        ns: lab.nsDut,
        manifests,
        statePath: join(lab.dir, 'state.json'),
        node: 'dut',
        nodeAddress: lab.addr.dut4[0] ?? '',
        httpPort: 7472,
        logFile: join(lab.dir, `standalone-${run++}.log`),
        extraArgs: ['--drain-period', `${DRAIN_MS}ms`],
      });
    };
    const session = async (): Promise<SessionView['speaker']> => {
      assert.ok(sa);
      const st = (await sa.status()) as unknown as { sessions: SessionView[] };
      return st.sessions[0]?.speaker ?? null;
    };
    const fibHas = async (dest: string): Promise<boolean> => {
      assert.ok(lab);
      const r = await runAsync('ip', ['-n', lab.nsRtr, '-4', 'route', 'show', `${dest}/32`]);
      return r.stdout.trim() !== '';
    };

    before(async () => {
      if (why) return;
      lab = new Lab(`gr-${kind}`).setup();
      const a = lab.addr;
      router = makeRouter(kind, {
        ns: lab.nsRtr,
        dir: join(lab.dir, kind),
        asn: ASN,
        routerId: a.rtr4[0] ?? '',
        listen4: a.rtr4,
        listen6: a.rtr6,
        neighbors: [{ name: 'dut', address: a.dut4[0] ?? '', asn: ASN }],
        kernelFib: true,
        gracefulRestart: true,
      });
      await router.start();
      manifests = join(lab.dir, 'manifests');
      writeManifest(manifests, 'pool.yaml', POOL);
      writeManifest(manifests, 'peer.yaml', peerManifest(a.rtr4[0] ?? '', true));
      writeManifest(manifests, 'svc-keep.yaml', service('keep', KEEP));
      writeManifest(manifests, 'svc-gone.yaml', service('gone', GONE));
      sa = newStandalone();
      sa.start();
      await sa.waitReady();
    });

    after(() => stopAll([sa, router], () => lab?.destroy()));

    it('rollout restart (SIGTERM, start again): the /32 never leaves the FIB; a Service deleted meanwhile is gone after End-of-RIB', async (t) => {
      if (!need(t) || !lab || !router || !sa) return;
      await waitFor('both /32 in the router FIB', async () => ((await fibHas(KEEP)) && (await fibHas(GONE)) ? true : undefined), 30000);
      const s0 = await session();
      assert.equal(s0?.phase, 'established');
      assert.ok(s0?.gracefulRestart, `graceful restart negotiated with ${kind}: ${JSON.stringify(s0)}`);
      const fib = new FibWatcher(lab.nsRtr, 15);
      fib.start();
      try {
        await waitFor('FIB sampling', () => (fib.samples.length > 5 && fib.has(`${KEEP}`) ? true : undefined), 5000, 20);
        const t0 = Date.now();
        const old = sa.proc;
        assert.ok(old);
        old.signal('SIGTERM');
        assert.equal(await old.waitExit(10000), true);
        assert.equal(old.exitCode, 0);
        assert.ok(existsSync(join(lab.dir, 'state.json.restart')), 'restart marker written');
        // while the speaker is down: the router keeps both (stale); one Service is deleted
        removeManifest(manifests, 'svc-gone.yaml');
        assert.equal(await fibHas(KEEP), true);
        sa = newStandalone();
        sa.start();
        await sa.waitReady();
        await waitFor('restart completed (End-of-RIB sent)', async () => ((await session())?.counters?.gracefulRestarts === 1 ? true : undefined), 30000);
        await waitFor(`${GONE}/32 removed from the FIB after End-of-RIB`, async () => ((await fibHas(GONE)) ? undefined : true), 10000);
        const t1 = Date.now();
        await new Promise((r) => setTimeout(r, 100));
        await fib.stop();
        const gaps = fib.gaps(KEEP, t0, t1);
        t.diagnostic(`${kind}: ${fib.samples.length} FIB samples, largest interval ${fib.maxInterval(t0, t1).toFixed(1)} ms, restart took ${t1 - t0} ms`);
        assert.deepEqual(gaps, [], `${KEEP}/32 left the FIB during the restart`);
        assert.deepEqual(fib.deletions(KEEP), [], 'ip monitor saw no deletion of the kept route');
        assert.equal(fib.deletions(GONE).length, 1, 'the deleted Service was removed once');
        const s1 = await session();
        assert.equal(s1?.gracefulRestart?.restarted, true, 'the OPEN carried the Restart State bit');
        assert.equal(s1?.phase, 'established');
        assert.equal(existsSync(join(lab.dir, 'state.json.restart')), false, 'marker removed after the restart');
      } finally {
        await fib.stop();
      }
    });

    it('without enableGracefulRestart the same restart withdraws the route', async (t) => {
      if (!need(t) || !lab || !router || !sa) return;
      writeManifest(manifests, 'peer.yaml', peerManifest(lab.addr.rtr4[0] ?? '', false));
      await waitFor('session re-established without GR', async () => {
        const s = await session();
        return s?.phase === 'established' && !s.gracefulRestart ? true : undefined;
      }, 30000);
      await waitFor('route in the FIB', async () => ((await fibHas(KEEP)) ? true : undefined), 30000);
      const fib = new FibWatcher(lab.nsRtr, 15);
      fib.start();
      try {
        await waitFor('FIB sampling', () => (fib.samples.length > 5 && fib.has(KEEP) ? true : undefined), 5000, 20);
        const old = sa.proc;
        assert.ok(old);
        old.signal('SIGTERM');
        assert.equal(await old.waitExit(10000), true);
        assert.equal(old.exitCode, 0);
        assert.equal(existsSync(join(lab.dir, 'state.json.restart')), false, 'no marker without graceful restart');
        await waitFor('route withdrawn', async () => ((await fibHas(KEEP)) ? undefined : true), 10000);
        sa = newStandalone();
        sa.start();
        await sa.waitReady();
        await waitFor('route back', async () => ((await fibHas(KEEP)) ? true : undefined), 30000);
        await fib.stop();
        assert.ok(fib.gaps(KEEP).length >= 1 || fib.deletions(KEEP).length >= 1, 'the route left the FIB');
        assert.equal(fib.deletions(KEEP).length, 1);
      } finally {
        await fib.stop();
      }
    });

    it('metallb-ts drain --stop: 65535:0 and LOCAL_PREF 0 first, withdraw after the drain period, then exit 0', async (t) => {
      if (!need(t) || !lab || !router || !sa) return;
      const peer = lab.addr.dut4[0] ?? '';
      await router.waitRoutes('normal attributes', (rs) => rs.some((r) => r.peer === peer && r.prefix === `${KEEP}/32` && r.localPref === 150));
      const env = { ...process.env, ...(existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')) ? {} : { METALLB_TS_FROM_SOURCE: '1' }) };
      const tAsk = Date.now();
      const cli = runAsync('ip', ['netns', 'exec', lab.nsDut, 'env', ...Object.entries(env).filter(([k]) => k.startsWith('METALLB_TS')).map(([k, v]) => `${k}=${v}`), process.execPath, join(REPO_ROOT, 'bin', 'metallb-ts.js'), 'drain', '--stop', '--http', '127.0.0.1:7472'], 30000);
      const drained = await router.waitRoutes(
        'GRACEFUL_SHUTDOWN at the router',
        (rs) => rs.some((r) => r.peer === peer && r.prefix === `${KEEP}/32` && r.communities.includes('65535:0')),
        30000,
      );
      const tSeen = Date.now();
      const r = drained.find((x) => x.prefix === `${KEEP}/32`);
      assert.equal(r?.localPref, 0, 'LOCAL_PREF 0 on iBGP while draining');
      assert.deepEqual(r?.communities, ['64512:7', '65535:0']);
      assert.equal(await fibHas(KEEP), true, 'still forwarded while draining');
      await waitFor('withdrawn', async () => ((await fibHas(KEEP)) ? undefined : true), DRAIN_MS + 10000, 20);
      const tGone = Date.now();
      const res = await cli;
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, /"drained": true/);
      t.diagnostic(`${kind}: 65535:0 seen ${tSeen - tAsk} ms after asking, withdrawn ${tGone - tSeen} ms later (drain period ${DRAIN_MS} ms)`);
      // 65535:0 is seen at most one router poll after the drain started (a poll takes well under 1 s)
      assert.ok(tGone - tSeen >= DRAIN_MS - 1000, `routes withdrawn ${tGone - tSeen} ms after 65535:0 was seen: before the drain period`);
      const proc = sa.proc;
      assert.ok(await proc?.waitExit(10000), 'the standalone stopped after the drain');
      assert.equal(proc?.exitCode, 0);
      assert.equal(existsSync(join(lab.dir, 'state.json.restart')), false, 'a real stop leaves no restart marker');
    });
  });
}

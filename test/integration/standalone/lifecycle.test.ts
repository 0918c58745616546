// Standalone process lifecycle against a real BIRD (BGPPeer holdTime 3s): a restart keeps every
// IP (state file) and SIGTERM ends with a Cease; SIGKILL makes BIRD drop the routes; a hung
// speaker (SIGSTOP, TCP still open) makes BIRD drop them when the hold time expires.
// One BIRD, one DUT namespace.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, unlinkSync } from 'node:fs';
import type { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import type { Bird } from '../lib/routers.ts';
import { startBirdLab } from '../lib/birdlab.ts';
import { StandaloneProcess, writeManifest } from '../lib/standalone.ts';
import { stopAll, waitFor } from '../lib/proc.ts';
import { advertisementsYaml, peerYaml, poolsYaml, routesOf, serviceYaml } from '../lib/interop.ts';

describe('standalone lifecycle with BIRD', { concurrency: false }, () => {
  const why = missing(['ip', 'bird', 'birdc']);
  let lab: Lab | undefined;
  let bird: Bird | undefined;
  let sa: StandaloneProcess | undefined;
  let manifests = '';
  let statePath = '';
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && bird && sa, 'setup failed (see before hook)');
    return true;
  };
  const newStandalone = (): StandaloneProcess => {
    assert.ok(lab);
    return new StandaloneProcess({
      ns: lab.nsDut,
      manifests,
      statePath,
      node: 'dut',
      nodeAddress: lab.addr.dut4[0] ?? '',
      httpPort: 7472,
      logFile: join(lab.dir, 'standalone.log'),
    });
  };

  before(async () => {
    if (why) return;
    ({ lab, bird } = await startBirdLab('life'));
    const a = lab.addr;
    manifests = join(lab.dir, 'manifests');
    statePath = join(lab.dir, 'state.json');
    writeManifest(manifests, 'pools.yaml', poolsYaml());
    writeManifest(manifests, 'advertisements.yaml', advertisementsYaml());
    writeManifest(manifests, 'peer.yaml', peerYaml({ name: 'bird', myASN: 64700, peerASN: 64600, peerAddress: a.rtr4[0] ?? '', holdTime: '3s' }));
    writeManifest(manifests, 'svc-m.yaml', serviceYaml('middle'));
    sa = newStandalone();
    sa.start();
    await sa.waitReady();
  });

  after(() => stopAll([sa, bird], () => lab?.destroy()));

  it('a restart keeps every IP (state file), even when a new Service sorts first', async (t) => {
    if (!need(t) || !sa || !bird || !lab) return;
    const peer = lab.addr.dut4[0] ?? '';
    const st1 = await sa.status();
    const ip = st1.services.find((s) => s.name === 'middle')?.ips[0];
    assert.ok(ip, JSON.stringify(st1.services));
    assert.ok(ip.startsWith('203.0.113.'));
    await bird.waitRoutes(`${ip}/32 at BIRD`, (all) => routesOf(all, peer).some((r) => r.prefix === `${ip}/32`));
    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as { assignments: Record<string, { ips: string[] }> };
    assert.deepEqual(saved.assignments['default/middle']?.ips, [ip]);

    sa.proc?.signal('SIGTERM');
    assert.equal(await sa.proc?.waitExit(10000), true);
    assert.equal(sa.proc?.exitCode, 0);
    await bird.waitRoutes('routes withdrawn after SIGTERM', (all) => routesOf(all, peer).length === 0, 5000);
    // a clean stop: BIRD got a Cease / Administrative shutdown NOTIFICATION (not a dropped TCP)
    assert.match(await bird.birdc('show protocols all dut'), /Received: Administrative shutdown/);

    // while stopped: a Service that sorts before "middle" appears (it would take the lowest free IP)
    writeManifest(manifests, 'svc-a.yaml', serviceYaml('aaa'));
    sa = newStandalone();
    sa.start();
    await sa.waitReady();
    const st2 = await sa.status();
    assert.deepEqual(st2.services.find((s) => s.name === 'middle')?.ips, [ip], 'same IP after restart');
    const other = st2.services.find((s) => s.name === 'aaa')?.ips[0];
    assert.ok(other && other !== ip);
    await bird.waitRoutes('both services at BIRD', (all) => {
      const p = routesOf(all, peer).map((r) => r.prefix);
      return p.includes(`${ip}/32`) && p.includes(`${other}/32`);
    });
  });

  it('/metrics after Established: one OPEN each way and keepalives, labelled with the peer address', async (t) => {
    if (!need(t) || !sa || !bird || !lab) return;
    const peer = lab.addr.dut4[0] ?? '';
    const rtr = lab.addr.rtr4[0] ?? '';
    await bird.waitRoutes('routes present', (all) => routesOf(all, peer).length >= 2);
    // holdTime 3s: a keepalive each second; wait for one from BIRD after the OPEN exchange
    const line = (name: string): RegExp => new RegExp(`^${name}\\{peer="${rtr.replace(/\./g, '\\.')}",bgppeer="bird"\\} (\\d+)$`, 'm');
    const metrics = await waitFor('keepalives counted', async () => {
      const m = (await sa?.get('/metrics'))?.body ?? '';
      return Number(line('metallb_bgp_keepalives_received').exec(m)?.[1] ?? 0) > 1 ? m : undefined;
    }, 10000);
    const value = (name: string): number => Number(line(name).exec(metrics)?.[1] ?? NaN);
    assert.equal(value('metallb_bgp_session_up'), 1, metrics);
    assert.equal(value('metallb_bgp_opens_sent'), 1);
    assert.equal(value('metallb_bgp_opens_received'), 1);
    assert.ok(value('metallb_bgp_keepalives_sent') > 0);
    assert.equal(value('metallb_bgp_announced_prefixes_total'), 2);
    assert.equal(value('metallb_bgp_pending_prefixes_total'), 0);
    assert.ok(value('metallb_bgp_updates_total') >= 1);
    // MetalLB's metallb_speaker_announced: one series per Service address announced from this node
    const want = (await sa.status()).services
      .flatMap((s) => s.ips.map((ip) => `metallb_speaker_announced{service="${s.namespace}/${s.name}",protocol="bgp",node="dut",ip="${ip}"} 1`))
      .sort();
    assert.equal(want.length, 2);
    assert.deepEqual(metrics.split('\n').filter((l) => l.startsWith('metallb_speaker_announced{')).sort(), want);
  });

  it('an invalid pool file or a broken Service file does not freeze Services: a removed Service file is withdrawn, a new one gets an IP, the broken file keeps its Service; SIGHUP re-reads', async (t) => {
    if (!need(t) || !sa || !bird || !lab) return;
    const peer = lab.addr.dut4[0] ?? '';
    const st0 = await sa.status();
    const aaa = st0.services.find((s) => s.name === 'aaa')?.ips[0];
    assert.ok(aaa);
    await bird.waitRoutes('aaa at BIRD', (all) => routesOf(all, peer).some((r) => r.prefix === `${aaa}/32`));
    writeManifest(manifests, 'broken-pool.yaml', 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: broken, namespace: metallb-system }\nspec: { addresses: [203.0.113.300/32] }\n');
    await waitFor('stale', async () => ((await sa?.status())?.stale ? true : undefined), 10000);
    // the Service file goes away while the folder is broken: BIRD loses the /32
    const t0 = Date.now();
    unlinkSync(join(manifests, 'svc-a.yaml'));
    await bird.waitRoutes(`${aaa}/32 withdrawn under a broken pool file`, (all) => !routesOf(all, peer).some((r) => r.prefix === `${aaa}/32`), 10000);
    t.diagnostic(`withdrawn at BIRD ${Date.now() - t0} ms after the Service file was removed (broken pool file in the folder)`);
    // a new Service file gets an IP from the last good pools and reaches BIRD
    writeManifest(manifests, 'svc-new.yaml', serviceYaml('newcomer'));
    const ip = await waitFor('newcomer IP', async () => (await sa?.status())?.services.find((s) => s.name === 'newcomer')?.ips[0], 10000);
    await bird.waitRoutes(`${ip}/32 at BIRD`, (all) => routesOf(all, peer).some((r) => r.prefix === `${ip}/32`));
    const st = await sa.status();
    assert.equal(st.stale, true, 'still stale: the broken pool is not in force');
    assert.match(st.configErrors.join('\n'), /broken-pool\.yaml:\d+: IPAddressPool\/broken/);
    // newcomer's file gets a YAML syntax error: newcomer keeps its last good state (its /32 stays),
    // while a Service file added meanwhile still gets an IP and reaches BIRD
    writeManifest(manifests, 'svc-new.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: newcomer\n');
    writeManifest(manifests, 'svc-late.yaml', serviceYaml('late'));
    const late = await waitFor('late IP', async () => (await sa?.status())?.services.find((s) => s.name === 'late')?.ips[0], 10000);
    await bird.waitRoutes(`${late}/32 at BIRD`, (all) => routesOf(all, peer).some((r) => r.prefix === `${late}/32`));
    assert.ok(routesOf(await bird.routes(), peer).some((r) => r.prefix === `${ip}/32`), 'the broken file keeps its Service announced');
    const st2 = await sa.status();
    assert.deepEqual(st2.services.find((s) => s.name === 'newcomer')?.ips, [ip]);
    assert.ok(st2.staleFiles?.some((f) => f.file.endsWith('svc-new.yaml') && /invalid YAML/.test(f.reason)), JSON.stringify(st2.staleFiles));
    await waitFor('stale file logged', async () => (/stale file/.test(readFileSync(join(lab?.dir ?? '', 'standalone.log'), 'utf8')) ? true : undefined), 10000);
    writeManifest(manifests, 'svc-new.yaml', serviceYaml('newcomer'));
    // SIGHUP re-reads the folder instead of killing the process
    unlinkSync(join(manifests, 'broken-pool.yaml'));
    sa.proc?.signal('SIGHUP');
    await waitFor('fresh again', async () => ((await sa?.status())?.stale === false ? true : undefined), 10000);
    assert.equal(sa.proc?.exitCode ?? null, null, 'still running after SIGHUP');
    assert.equal((await sa.get('/readyz')).status, 200);
  });

  it('SIGKILL: BIRD drops the routes (the kernel closes the TCP session, at the latest the hold time expires)', async (t) => {
    if (!need(t) || !sa || !bird || !lab) return;
    const peer = lab.addr.dut4[0] ?? '';
    await bird.waitRoutes('routes present', (all) => routesOf(all, peer).length >= 2);
    const ips = (await sa.status()).services.map((s) => s.ips[0]).sort();
    const proc = sa.proc;
    assert.ok(proc);
    proc.signal('SIGKILL');
    assert.equal(await proc.waitExit(5000), true);
    assert.equal(proc.exitSignal, 'SIGKILL');
    await bird.waitRoutes('routes dropped after SIGKILL', (all) => routesOf(all, peer).length === 0, 10000);
    // and it comes back with the same addresses (the state file was written before the kill)
    sa = newStandalone();
    sa.start();
    await sa.waitReady();
    assert.deepEqual((await sa.status()).services.map((s) => s.ips[0]).sort(), ips);
    await bird.waitRoutes('routes back', (all) => routesOf(all, peer).length >= 2, 20000);
  });

  it('a hung speaker (SIGSTOP): BIRD drops its routes when the 3 s hold time expires; SIGKILL ends it', async (t) => {
    if (!need(t) || !sa || !bird || !lab) return;
    const peer = lab.addr.dut4[0] ?? '';
    await bird.waitRoutes('routes present', (all) => routesOf(all, peer).length >= 2);
    const proc = sa.proc;
    assert.ok(proc);
    proc.signal('SIGSTOP');
    try {
      // the TCP connection stays open: the routes are only dropped by the hold timer
      await bird.waitRoutes('routes dropped after hold time', (all) => routesOf(all, peer).length === 0, 20000);
      const info = await bird.birdc('show protocols all dut');
      assert.match(info, /Hold timer expired/i);
    } finally {
      proc.signal('SIGKILL');
      await proc.waitExit(5000);
    }
    assert.equal(proc.exitSignal, 'SIGKILL');
  });
});

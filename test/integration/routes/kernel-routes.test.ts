// Received routes into the node's kernel table, against real FRR and GoBGP routers in network
// namespaces: the product's speaker + Adj-RIB-In + kernel route sync (test/integration/routes/
// agent.ts runs them inside the DUT namespace). Checked with `ip route` in the DUT namespace.
//
// Router namespace: FRR A (AS 64600) on 10.201.0.1 / 2001:db8:201::1, FRR B (AS 64601) on
// 10.201.0.2 / 2001:db8:201::2, GoBGP (AS 64602) on 10.201.0.3. DUT 10.201.0.101, AS 64500.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { missing, runnable } from '../lib/prereq.ts';
import { Frr, GoBgp } from '../lib/routers.ts';
import type { Managed } from '../lib/proc.ts';
import { must, run, startProcess, stopAll, waitFor } from '../lib/proc.ts';
import { REPO_ROOT } from '../lib/standalone.ts';
import { bgpRouteLines } from '../lib/kernelroutes.ts';

const AGENT = join(REPO_ROOT, 'test', 'integration', 'routes', 'agent.ts');

interface AgentStatus {
  sessions: { peer: string; state: string; receivedPrefixes: number; acceptedPrefixes: number; lastError?: string; counters: { notificationsSent: number } }[];
  kernel: { installed: number; failed: { prefix: string; error: string }[]; staleRemoved: number };
}

/** `ip route` lines of protocol bgp in the DUT (both families), normalized. */
const kernelRoutes = (ns: string, table = 'main'): string[] => bgpRouteLines(ns, { families: [4, 6], table });

describe('received routes in the kernel (FRR, GoBGP)', { concurrency: false }, () => {
  const why = missing(['ip', 'bgpd', 'vtysh', 'gobgpd', 'gobgp']);
  let lab: Lab | undefined;
  let a: Frr | undefined;
  let b: Frr | undefined;
  let g: GoBgp | undefined;
  let agent: Managed | undefined;
  let statusPath = '';
  let cfgPath = '';

  const startAgent = (): Managed => {
    if (!lab) throw new Error('no lab');
    const p = startProcess('agent', 'ip', ['netns', 'exec', lab.nsDut, process.execPath, '--import', 'tsx', AGENT, cfgPath, statusPath], join(lab.dir, 'agent.log'));
    agent = p;
    return p;
  };
  const status = (): AgentStatus => JSON.parse(readFileSync(statusPath, 'utf8')) as AgentStatus;
  const session = (name: string) => status().sessions.find((s) => s.peer === name);
  const waitKernel = (what: string, want: string[]) =>
    waitFor(what, () => {
      const now = kernelRoutes(lab?.nsDut ?? '');
      return JSON.stringify(now) === JSON.stringify([...want].sort()) ? now : undefined;
    }, 20000, 100).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\nkernel now: ${JSON.stringify(kernelRoutes(lab?.nsDut ?? ''))}\nstatus: ${existsSync(statusPath) ? readFileSync(statusPath, 'utf8') : '-'}`);
    });
  const need = (t: TestContext): boolean => {
    if (!runnable(t, why)) return false;
    assert.ok(lab && a && b && g && agent, 'setup failed (see before hook)');
    return true;
  };

  before(async () => {
    if (why) return;
    lab = new Lab('routes-in').setup();
    for (const addr of ['10.201.0.2/24', '10.201.0.3/24']) must('ip', ['-n', lab.nsRtr, 'addr', 'add', addr, 'dev', 'eth0']);
    must('ip', ['-n', lab.nsRtr, '-6', 'addr', 'add', '2001:db8:201::2/64', 'dev', 'eth0', 'nodad']);
    const dut4 = '10.201.0.101';
    const dut6 = '2001:db8:201::101';
    a = new Frr({
      ns: lab.nsRtr, dir: join(lab.dir, 'frr-a'), asn: 64600, routerId: '10.201.0.1', listen4: ['10.201.0.1'], listen6: ['2001:db8:201::1'],
      neighbors: [{ name: 'dut4', address: dut4, asn: 64500, families: [4] }, { name: 'dut6', address: dut6, asn: 64500, families: [6] }],
    });
    b = new Frr({
      ns: lab.nsRtr, dir: join(lab.dir, 'frr-b'), asn: 64601, routerId: '10.201.0.2', listen4: ['10.201.0.2'], listen6: ['2001:db8:201::2'],
      neighbors: [{ name: 'dut4', address: dut4, asn: 64500, families: [4] }, { name: 'dut6', address: dut6, asn: 64500, families: [6] }],
    });
    g = new GoBgp({
      ns: lab.nsRtr, dir: join(lab.dir, 'gobgp'), asn: 64602, routerId: '10.201.0.3', listen4: ['10.201.0.3'], listen6: [],
      neighbors: [{ name: 'dut4', address: dut4, asn: 64500, families: [4] }],
    });
    await a.start();
    await b.start();
    await g.start();
    // a route of another protocol at our metric: we must leave it alone
    must('ip', ['-n', lab.nsDut, 'route', 'add', '10.66.0.0/24', 'via', '10.201.0.3', 'proto', 'static', 'metric', '20']);
    // a stale route of ours left by a "crashed" previous run
    must('ip', ['-n', lab.nsDut, 'route', 'add', '10.55.0.0/24', 'via', '10.201.0.3', 'proto', 'bgp', 'metric', '20']);
    cfgPath = join(lab.dir, 'agent.json');
    statusPath = join(lab.dir, 'agent-status.json');
    const all = { mode: 'all', prefixes: [] };
    writeFileSync(cfgPath, JSON.stringify({
      node: 'dut', routerId: dut4,
      sessions: [
        { name: 'a4', address: '10.201.0.1', myASN: 64500, peerASN: 64600, receive: all },
        { name: 'a6', address: '2001:db8:201::1', myASN: 64500, peerASN: 64600, receive: all },
        {
          name: 'b4', address: '10.201.0.2', myASN: 64500, peerASN: 64601,
          receive: { mode: 'filtered', prefixes: [{ prefix: '10.77.0.0/24' }, { prefix: '10.88.0.0/16', ge: 24, le: 26 }] },
        },
        { name: 'b6', address: '2001:db8:201::2', myASN: 64500, peerASN: 64601 },
        { name: 'g4', address: '10.201.0.3', myASN: 64500, peerASN: 64602, receive: { mode: 'all', prefixes: [], maxPrefixes: 20 } },
      ],
    }));
    startAgent();
    await waitFor('agent status', () => (existsSync(statusPath) ? true : undefined), 20000);
  });

  after(() => stopAll([agent, a, b, g], () => lab?.destroy()));

  it('at start, our stale routes are deleted and routes of other protocols stay', async (t) => {
    if (!need(t) || !lab) return;
    await waitKernel('stale route removed', []);
    assert.equal(status().kernel.staleRemoved, 1);
    assert.match(run('ip', ['-n', lab.nsDut, 'route', 'show', '10.66.0.0/24']).stdout, /via 10\.201\.0\.3 dev eth0 proto static metric 20/);
  });

  it('FRR announces v4 and v6 (mode all): in the kernel with proto bgp; withdraw removes them', async (t) => {
    if (!need(t) || !a) return;
    await a.waitEstablished(['10.201.0.101', '2001:db8:201::101']);
    await a.network(['10.77.0.0/24', '10.78.1.0/24', '2001:db8:77::/48']);
    await waitKernel('A routes', [
      '10.77.0.0/24 via 10.201.0.1 dev eth0 proto bgp metric 20',
      '10.78.1.0/24 via 10.201.0.1 dev eth0 proto bgp metric 20',
      '2001:db8:77::/48 via 2001:db8:201::1 dev eth0 proto bgp metric 20',
    ]);
    // the status file is rewritten every 100 ms: the kernel can be ahead of it
    await waitFor('a4 accepted 2 prefixes in status', () => (session('a4')?.acceptedPrefixes === 2 ? true : undefined));
    await a.network(['10.78.1.0/24'], true);
    await waitKernel('10.78.1.0/24 withdrawn', [
      '10.77.0.0/24 via 10.201.0.1 dev eth0 proto bgp metric 20',
      '2001:db8:77::/48 via 2001:db8:201::1 dev eth0 proto bgp metric 20',
    ]);
  });

  it('a route another protocol holds at our metric is left alone and reported', async (t) => {
    if (!need(t) || !a || !lab) return;
    await a.network(['10.66.0.0/24']);
    await waitFor('failure reported', () => (status().kernel.failed.some((f) => f.prefix === '10.66.0.0/24') ? true : undefined));
    assert.match(status().kernel.failed.find((f) => f.prefix === '10.66.0.0/24')?.error ?? '', /another protocol/);
    assert.match(run('ip', ['-n', lab.nsDut, 'route', 'show', '10.66.0.0/24']).stdout, /via 10\.201\.0\.3 dev eth0 proto static metric 20/);
    await a.network(['10.66.0.0/24'], true);
  });

  it('two routers announce the same prefix: one ECMP route with two next hops; filtered mode ge/le', async (t) => {
    if (!need(t) || !b) return;
    await b.waitEstablished(['10.201.0.101', '2001:db8:201::101']);
    // 10.77.0.0/24 exact entry; 10.88.0.0/16 ge 24 le 26 accepts only the /24 and /26 here
    await b.network(['10.77.0.0/24', '10.88.0.0/16', '10.88.1.0/24', '10.88.2.64/26', '10.88.3.0/27', '10.89.0.0/24', '10.77.0.0/25']);
    // B's IPv6 session has no receive policy: 2001:db8:77::/48 from B is not imported
    await b.network(['2001:db8:77::/48', '2001:db8:99::/48']);
    await waitKernel('ECMP + filtered', [
      '10.77.0.0/24 proto bgp metric 20 nexthop via 10.201.0.1 dev eth0 weight 1 nexthop via 10.201.0.2 dev eth0 weight 1',
      '10.88.1.0/24 via 10.201.0.2 dev eth0 proto bgp metric 20',
      '10.88.2.64/26 via 10.201.0.2 dev eth0 proto bgp metric 20',
      '2001:db8:77::/48 via 2001:db8:201::1 dev eth0 proto bgp metric 20',
    ]);
    await waitFor('b4 counts in status', () => (session('b4')?.acceptedPrefixes === 3 ? true : undefined));
    assert.deepEqual([session('b4')?.receivedPrefixes, session('b4')?.acceptedPrefixes], [7, 3]);
    assert.equal(session('b6')?.state, 'Established');
    assert.equal(session('b6')?.acceptedPrefixes, undefined, 'no policy: nothing counted or imported');
    // one of the two withdraws: back to a single next hop
    await b.network(['10.77.0.0/24'], true);
    await waitKernel('single next hop again', [
      '10.77.0.0/24 via 10.201.0.1 dev eth0 proto bgp metric 20',
      '10.88.1.0/24 via 10.201.0.2 dev eth0 proto bgp metric 20',
      '10.88.2.64/26 via 10.201.0.2 dev eth0 proto bgp metric 20',
      '2001:db8:77::/48 via 2001:db8:201::1 dev eth0 proto bgp metric 20',
    ]);
  });

  it('GoBGP floods more than maxPrefixes: Cease 6/1, nothing of it in the kernel', async (t) => {
    if (!need(t) || !g) return;
    await g.waitEstablished(['10.201.0.101']);
    for (let i = 0; i < 25; i++) await g.gobgp(['global', 'rib', 'add', '-a', 'ipv4', `10.100.${i}.0/24`]);
    await waitFor('Cease 6/1 sent', () => ((session('g4')?.counters.notificationsSent ?? 0) > 0 ? true : undefined));
    assert.match(session('g4')?.lastError ?? '', /prefix limit 20/);
    const log = readFileSync(join(g.opts.dir, 'gobgpd.log'), 'utf8');
    assert.match(log, /Cease|code 6|Maximum Number of Prefixes/i, 'GoBGP received the NOTIFICATION');
    assert.ok(kernelRoutes(lab?.nsDut ?? '').every((r) => !r.startsWith('10.100.')), 'nothing from the flooding peer');
  });

  it('FRR killed: its routes leave the kernel', async (t) => {
    if (!need(t) || !b) return;
    await b.kill();
    await waitKernel('B routes gone', [
      '10.77.0.0/24 via 10.201.0.1 dev eth0 proto bgp metric 20',
      '2001:db8:77::/48 via 2001:db8:201::1 dev eth0 proto bgp metric 20',
    ]);
  });

  it('SIGTERM: every route we installed is deleted', async (t) => {
    if (!need(t) || !agent) return;
    await agent.stop(10000);
    assert.equal(agent.exitCode, 0);
    assert.deepEqual(kernelRoutes(lab?.nsDut ?? ''), []);
  });
});

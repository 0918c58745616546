// Layer 2 mode end to end with real frames: three node namespaces each running a speaker
// (src/layer2/main.ts) and a client namespace, bridged in a hub namespace (see lab.ts).
// arping / ndisc6 from the client resolve service IPs to the elected owner's MAC; tcpdump
// confirms gratuitous ARPs and unsolicited NAs on takeover; kill -9 of the owner, link down on
// the owner's data interface, and a partitioned owner all move the IP to a survivor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { electL2Owner } from '../../../src/planner/elect.ts';
import { Lab, arpingOnce, ndiscOnce, missingPrerequisites, sleep, waitFor, sh, type NodeSpec } from './lab.ts';

const missing = missingPrerequisites();
const mustRun = process.env.CI === 'true';

const SECRET = 'layer2-integration-test-secret';
const V4 = ['10.77.0.50', '10.77.0.51', '10.77.0.52', '10.77.0.53', '10.77.0.54', '10.77.0.55'];
const CONFIGURED_IP = '10.90.0.70'; // interfaces: [eth1] (management bridge only)
const NO_IFACE_IP = '10.91.0.1'; // no subnet anywhere, only veths: nobody may answer

let lab: Lab | undefined;
const names = ['node1', 'node2', 'node3'];
const cands = names.map((name) => ({ name, labels: {} }));
const ownerOf = (ip: string, alive: string[] = names): string => {
  const o = electL2Owner(ip, cands.filter((c) => alive.includes(c.name)), []);
  if (!o) throw new Error(`no owner for ${ip}`);
  return o;
};
const S1 = V4[0] ?? '';
const X = ownerOf(S1);
// an IPv6 service owned by the same node as S1, so one kill exercises both families
const V6 = Array.from({ length: 32 }, (_, i) => `2001:db8:77::${(0x50 + i).toString(16)}`).find((ip) => ownerOf(ip) === X) ?? '';
const V6_OTHER = Array.from({ length: 32 }, (_, i) => `2001:db8:77::${(0x90 + i).toString(16)}`).find((ip) => ownerOf(ip) !== X) ?? '';

function node(name: string): NodeSpec {
  const n = lab?.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}

function configFor(n: NodeSpec): object {
  return {
    node: n.name,
    secret: SECRET,
    bind: { address: n.mgmt, port: 7946 },
    members: lab?.nodes.map((m) => ({ name: m.name, address: m.mgmt, port: 7946 })) ?? [],
    services: [
      ...V4.map((ip) => ({ ip })),
      { ip: V6 },
      { ip: V6_OTHER },
      { ip: CONFIGURED_IP, interfaces: ['eth1'] },
      { ip: NO_IFACE_IP },
    ],
    logLevel: 'info',
  };
}

function start(name: string): void {
  lab?.startNode(node(name), configFor(node(name)));
}

/** Waits until every running node sees `alive` and the client resolves S1 to `owner`. */
async function converge(alive: string[], owner: string, ms = 20_000): Promise<void> {
  const l = lab;
  if (!l) throw new Error('no lab');
  await waitFor(`speakers ${alive.join(',')} to see each other`, ms, () =>
    alive.every((a) => JSON.stringify(l.status(node(a))?.alive ?? []) === JSON.stringify([...alive].sort())),
  );
  await waitFor(`${S1} to resolve to ${owner}`, ms, () => {
    const macs = arpingOnce(l.client, 'eth0', S1, 1);
    return macs.length === 1 && macs[0] === node(owner).mac0;
  });
}

/** Streams `arping -r` from the client and resolves with the time the reply MAC becomes `mac`. */
function watchARP(ip: string): { until(mac: string, timeoutMs: number): Promise<number>; stop(): Promise<void> } {
  const l = lab;
  if (!l) throw new Error('no lab');
  const arp = l.streamIn(l.client, ['stdbuf', '-oL', 'arping', '-r', '-i', 'eth0', '-W', '0.02', ip]);
  return {
    async until(mac, timeoutMs) {
      const hit = await waitFor(`ARP for ${ip} to answer ${mac}`, timeoutMs, () => arp.lines.find((s) => s.text === mac));
      return hit.at;
    },
    stop: () => arp.stop(),
  };
}

/** Starts tcpdump on the client's data interface; returns a stopper giving the decoded lines. */
async function capture(): Promise<() => Promise<string[]>> {
  const l = lab;
  if (!l) throw new Error('no lab');
  const file = join(l.dir, `cap-${Date.now()}.pcap`);
  const log = `${file}.log`;
  const p = l.spawnIn(l.client, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-w', file, 'arp or icmp6'], log);
  await waitFor('tcpdump to listen', 10_000, () => /listening on/.test(sh('cat', [log], true)));
  return async () => {
    await l.stopProc(p, 'SIGINT');
    return sh('tcpdump', ['-r', file, '-e', '-n'], true).split('\n');
  };
}

const garpsFrom = (lines: string[], mac: string, ip: string): number =>
  lines.filter((l) => l.startsWith(`${mac} > ff:ff:ff:ff:ff:ff`) || l.includes(` ${mac} > ff:ff:ff:ff:ff:ff`)).filter((l) => l.includes(`who-has ${ip} tell ${ip}`)).length;
const unsolicitedNAsFrom = (lines: string[], mac: string, ip: string): number =>
  lines.filter((l) => l.includes(`${mac} > 33:33:00:00:00:01`) && l.includes(`${ip} > ff02::1`) && l.includes(`neighbor advertisement, tgt is ${ip}`)).length;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

before(() => {
  if (missing) return;
  lab = new Lab('t');
  lab.setup();
  for (const n of names) start(n);
});

after(async () => {
  if (lab) {
    const keep = process.env.L2_KEEP_LOGS === '1';
    if (keep) process.stderr.write(`layer2 lab logs kept in ${lab.dir}\n`);
    await lab.teardown(keep);
  }
});

test('layer 2: three speakers, one client', { timeout: 300_000 }, async (t) => {
  if (missing) {
    if (mustRun) assert.fail(`CI=true but prerequisite missing: ${missing}`);
    t.skip(missing);
    return;
  }
  const l = lab;
  assert.ok(l);
  const Y = ownerOf(S1, names.filter((n) => n !== X));
  t.diagnostic(`S1=${S1} owner ${X}, successor ${Y}; v6 ${V6} (owner ${X}), ${V6_OTHER} (owner ${ownerOf(V6_OTHER)})`);

  await t.test('every IP resolves to the elected owner (arping, ndisc6)', async () => {
    await converge(names, X);
    for (const ip of V4) assert.deepEqual(arpingOnce(l.client, 'eth0', ip), [node(ownerOf(ip)).mac0], ip);
    assert.equal(ndiscOnce(l.client, 'eth0', V6), node(X).mac0);
    assert.equal(ndiscOnce(l.client, 'eth0', V6_OTHER), node(ownerOf(V6_OTHER)).mac0);
    // the owners are spread over the nodes, not all on one
    assert.ok(new Set(V4.map((ip) => ownerOf(ip))).size >= 2);
    // per-IP metrics on the owner: requests seen, replies sent, gratuitous ARPs at takeover
    const metric = (text: string, name: string, ip: string): number => {
      const m = new RegExp(`^${name}\\{ip="${ip.replace(/\./g, '\\.')}"\\} (\\d+)$`, 'm').exec(text);
      return m?.[1] ? Number(m[1]) : 0;
    };
    const text = await waitFor('owner metrics', 5000, () => {
      const st = l.status(node(X)) as { metrics?: string } | null;
      return st?.metrics && metric(st.metrics, 'metallb_layer2_responses_sent', S1) >= 1 ? st.metrics : null;
    });
    assert.ok(metric(text, 'metallb_layer2_requests_received', S1) >= 1);
    assert.ok(metric(text, 'metallb_layer2_gratuitous_sent', S1) >= 3);
    const other = node(names.find((n) => n !== X) ?? '');
    const otherText = (l.status(other) as { metrics?: string } | null)?.metrics ?? '';
    assert.equal(metric(otherText, 'metallb_layer2_responses_sent', S1), 0, 'non-owners never answer');
  });

  await t.test('interface selection: answers only on the selected interface', () => {
    // automatic: 10.77.0.0/24 lives on eth0 (data); the management bridge gets no answer
    assert.deepEqual(arpingOnce(l.client, 'eth1', S1), []);
    // configured interfaces: [eth1]: answered on the management bridge with eth1's MAC only
    const owner = node(ownerOf(CONFIGURED_IP));
    assert.deepEqual(arpingOnce(l.client, 'eth1', CONFIGURED_IP), [owner.mac1]);
    assert.deepEqual(arpingOnce(l.client, 'eth0', CONFIGURED_IP), []);
    // no interface carries the subnet and the only NICs are veths: nobody answers anywhere
    assert.deepEqual(arpingOnce(l.client, 'eth0', NO_IFACE_IP), []);
    assert.deepEqual(arpingOnce(l.client, 'eth1', NO_IFACE_IP), []);
    const st = l.status(node(X));
    assert.ok(st);
    assert.equal(st.owners[NO_IFACE_IP], null);
  });

  const times: number[] = [];
  await t.test('failover: kill -9 the owner, the client resolves to the successor (5 runs)', async () => {
    for (let run = 1; run <= 5; run++) {
      await converge(names, X);
      const stopCap = await capture();
      const w = watchARP(S1);
      await w.until(node(X).mac0, 5000);
      const t0 = Date.now();
      await l.killNode(node(X), 'SIGKILL');
      const at = await w.until(node(Y).mac0, 15_000);
      times.push(at - t0);
      await w.stop();
      await sleep(2500); // the whole gratuitous series (0, 0.5, 1, 2 s)
      const lines = await stopCap();
      assert.ok(garpsFrom(lines, node(Y).mac0, S1) >= 3, `gratuitous ARPs for ${S1} from ${Y}:\n${lines.join('\n')}`);
      const v6new = node(ownerOf(V6, names.filter((n) => n !== X)));
      assert.ok(unsolicitedNAsFrom(lines, v6new.mac0, V6) >= 3, `unsolicited NAs for ${V6} from ${v6new.name}`);
      assert.equal(ndiscOnce(l.client, 'eth0', V6), v6new.mac0);
      // IPs of surviving owners did not move
      for (const ip of V4.filter((i) => ownerOf(i) !== X)) assert.deepEqual(arpingOnce(l.client, 'eth0', ip, 1), [node(ownerOf(ip)).mac0]);
      start(X);
    }
    t.diagnostic(`failover times (ms): ${times.join(', ')}; median ${median(times)}`);
    assert.ok(times.every((x) => x < 10_000), 'sanity bound');
  });

  await t.test('graceful stop (SIGTERM): the leaving heartbeat moves the IP without waiting for the timeout', async () => {
    const gtimes: number[] = [];
    for (let run = 1; run <= 3; run++) {
      await converge(names, X);
      const w = watchARP(S1);
      await w.until(node(X).mac0, 5000);
      const t0 = Date.now();
      await l.killNode(node(X), 'SIGTERM');
      const at = await w.until(node(Y).mac0, 10_000);
      gtimes.push(at - t0);
      await w.stop();
      assert.match(l.log(node(Y)), /"leaving":true/);
      start(X);
    }
    t.diagnostic(`SIGTERM failover times (ms): ${gtimes.join(', ')}; median ${median(gtimes)}`);
    assert.ok(gtimes.every((x) => x < 10_000), 'sanity bound');
  });

  await t.test('link down on the owner data interface moves the IP (gossip still up)', async () => {
    const ltimes: number[] = [];
    for (let run = 1; run <= 3; run++) {
      await converge(names, X);
      const w = watchARP(S1);
      await w.until(node(X).mac0, 5000);
      const t0 = Date.now();
      sh('ip', ['-n', node(X).ns, 'link', 'set', 'dev', 'eth0', 'down']);
      const at = await w.until(node(Y).mac0, 10_000);
      ltimes.push(at - t0);
      await w.stop();
      const st = await waitFor('the others to learn that X cannot announce S1', 5000, (): ReturnType<Lab['status']> => {
        const s = l.status(node(Y));
        return s && s.owners[S1] === Y ? s : null;
      });
      assert.equal(st.alive.length, 3, 'X is alive, only ineligible');
      sh('ip', ['-n', node(X).ns, 'link', 'set', 'dev', 'eth0', 'up']);
      sh('ip', ['-n', node(X).ns, '-6', 'addr', 'replace', `2001:db8:77::1${node(X).idx}/64`, 'dev', 'eth0', 'nodad']);
    }
    t.diagnostic(`link-down failover times (ms): ${ltimes.join(', ')}; median ${median(ltimes)}`);
    assert.ok(ltimes.every((x) => x < 10_000), 'sanity bound');
  });

  await t.test('repeated quick link flaps: the owner answers again after each', async () => {
    await converge(names, X);
    for (let i = 0; i < 3; i++) {
      sh('sh', ['-c', `ip -n ${node(X).ns} link set dev eth0 down && ip -n ${node(X).ns} link set dev eth0 up`]);
      await sleep(1500);
      await waitFor(`${S1} to answer from ${X} after the flap`, 5000, () => {
        const macs = arpingOnce(l.client, 'eth0', S1, 2);
        return macs.length === 1 && macs[0] === node(X).mac0;
      });
    }
    sh('ip', ['-n', node(X).ns, '-6', 'addr', 'replace', `2001:db8:77::1${node(X).idx}/64`, 'dev', 'eth0', 'nodad']);
  });

  await t.test('the owner interface changes its MAC: replies and gratuitous ARPs carry the new one', async () => {
    await converge(names, X);
    const newMac = '02:00:00:77:00:aa';
    const stopCap = await capture();
    sh('ip', ['-n', node(X).ns, 'link', 'set', 'dev', 'eth0', 'address', newMac]);
    try {
      await waitFor(`${S1} to resolve to the new MAC`, 10_000, () => {
        const macs = arpingOnce(l.client, 'eth0', S1, 1);
        return macs.length === 1 && macs[0] === newMac;
      });
      await sleep(2500);
      const lines = await stopCap();
      assert.ok(garpsFrom(lines, newMac, S1) >= 3, 'gratuitous ARPs with the new MAC');
    } finally {
      sh('ip', ['-n', node(X).ns, 'link', 'set', 'dev', 'eth0', 'address', node(X).mac0]);
    }
    await converge(names, X);
  });

  await t.test('a partitioned owner stops answering; the majority takes over', async () => {
    await converge(names, X);
    sh('ip', ['-n', node(X).ns, 'link', 'set', 'dev', 'eth1', 'down']);
    try {
      await waitFor(`${S1} to resolve only to ${Y}`, 10_000, () => {
        const macs = arpingOnce(l.client, 'eth0', S1, 3);
        return macs.length === 1 && macs[0] === node(Y).mac0;
      });
      await sleep(1500);
      // still only the successor after the partition settled: X does not answer any more
      assert.deepEqual(arpingOnce(l.client, 'eth0', S1, 4), [node(Y).mac0]);
      const st = l.status(node(X));
      assert.ok(st);
      assert.deepEqual(st.announcing, [], 'without a majority it announces nothing');
    } finally {
      sh('ip', ['-n', node(X).ns, 'link', 'set', 'dev', 'eth1', 'up']);
    }
    await converge(names, X);
  });

  await t.test('single node (standalone): no members, it owns every IP it can serve', async () => {
    for (const n of names) await l.killNode(node(n), 'SIGTERM');
    const solo = node('node3');
    l.startNode(solo, { ...configFor(solo), members: [], secret: undefined, bind: undefined });
    await waitFor('the single node to answer every data IP', 20_000, () =>
      V4.every((ip) => {
        const macs = arpingOnce(l.client, 'eth0', ip, 1);
        return macs.length === 1 && macs[0] === solo.mac0;
      }),
    );
    assert.equal(ndiscOnce(l.client, 'eth0', V6), solo.mac0);
    assert.deepEqual(arpingOnce(l.client, 'eth1', CONFIGURED_IP), [solo.mac1]);
    assert.deepEqual(arpingOnce(l.client, 'eth0', NO_IFACE_IP), []);
  });
});

// Layer 2 handover on a planned stop, with real frames: two node namespaces each running a
// speaker (src/layer2/main.ts, whose SIGTERM is the planned stop: leave, wait for the new owner,
// then stop) and a client namespace (see lab.ts). While the owner of an IPv4 and an IPv6 address
// stops, the client asks continuously — Debian's arping (Thomas Habets') every 40 ms, which
// prints "Timeout" for a request nobody answered before the next one, and ndisc6 in a loop — and
// must get an answer to every request, the MAC moving to the other speaker. The leaving speaker's
// log says the new owner confirmed; tcpdump sees the new owner's gratuitous ARPs and unsolicited NAs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { electL2Owner } from '../../../src/planner/elect.ts';
import { Lab, arpingOnce, ndiscOnce, missingPrerequisites, sh, waitFor, sleep, type NodeSpec } from './lab.ts';

const missing = missingPrerequisites();
const mustRun = process.env.CI === 'true';
const SECRET = 'layer2-handover-test-secret';
const names = ['node1', 'node2'];
const cands = names.map((name) => ({ name, labels: {} }));
const ownerOf = (ip: string): string => electL2Owner(ip, cands, []) ?? '';
const V4 = '10.77.0.60';
const X = ownerOf(V4);
const Y = names.find((n) => n !== X) ?? '';
const V6 = Array.from({ length: 32 }, (_, i) => `2001:db8:77::${(0x60 + i).toString(16)}`).find((ip) => ownerOf(ip) === X) ?? '';

let lab: Lab | undefined;
const node = (name: string): NodeSpec => {
  const n = lab?.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
};
function start(name: string): void {
  const n = node(name);
  lab?.startNode(n, {
    node: n.name,
    secret: SECRET,
    bind: { address: n.mgmt, port: 7946 },
    members: lab.nodes.map((m) => ({ name: m.name, address: m.mgmt, port: 7946 })),
    services: [{ ip: V4 }, { ip: V6 }],
    logLevel: 'info',
  });
}

const MAC = /([0-9a-f]{2}:){5}[0-9a-f]{2}/;

before(() => {
  if (missing) return;
  lab = new Lab('h', 2);
  lab.setup();
  for (const n of names) start(n);
});

after(async () => {
  if (lab) {
    const keep = process.env.L2_KEEP_LOGS === '1';
    if (keep) process.stderr.write(`layer2 handover lab logs kept in ${lab.dir}\n`);
    await lab.teardown(keep);
  }
});

test('layer 2 handover: the owner stops (SIGTERM = planned stop), every ARP/NDP request is answered, the MAC moves', { timeout: 180_000 }, async (t) => {
  if (missing) {
    if (mustRun) assert.fail(`CI=true but prerequisites are missing: ${missing}`);
    t.skip(missing);
    return;
  }
  const l = lab;
  assert.ok(l && X && Y && V6, 'setup');
  for (let run = 1; run <= 2; run++) {
    await waitFor('both speakers see each other', 20_000, () => names.every((n) => JSON.stringify(l.status(node(n))?.alive ?? []) === JSON.stringify(names)));
    await waitFor(`${V4} resolves to ${X}`, 20_000, () => JSON.stringify(arpingOnce(l.client, 'eth0', V4, 1)) === JSON.stringify([node(X).mac0]));
    await waitFor(`${V6} resolves to ${X}`, 20_000, () => ndiscOnce(l.client, 'eth0', V6) === node(X).mac0);
    const pcap = join(l.dir, `handover-${run}.pcap`);
    const dump = await l.captureClient(pcap);
    const { arp, nd } = l.probeClient(V4, V6);
    await waitFor('arping answered by the owner', 10_000, () => arp.lines.some((x) => x.text.includes(node(X).mac0)));
    await waitFor('ndisc6 answered by the owner', 10_000, () => nd.lines.some((x) => x.text === node(X).mac0));
    const t0 = Date.now();
    await l.killNode(node(X), 'SIGTERM');
    const exited = Date.now();
    await waitFor(`arping answered by ${Y}`, 10_000, () => arp.lines.some((x) => x.at >= t0 && x.text.includes(node(Y).mac0)));
    await waitFor(`ndisc6 answered by ${Y}`, 10_000, () => nd.lines.some((x) => x.at >= exited && x.text === node(Y).mac0));
    await sleep(1000); // keep asking after the old owner is gone
    await arp.stop();
    await nd.stop();
    await l.stopProc(dump, 'SIGINT');
    const window = (xs: { at: number; text: string }[]) => xs.filter((x) => x.at >= t0 - 500);
    const arpLines = window(arp.lines);
    const timeouts = arpLines.filter((x) => x.text.startsWith('timeout'));
    const replies = arpLines.filter((x) => MAC.test(x.text));
    assert.deepEqual(timeouts, [], `unanswered ARP requests during the handover (run ${run})`);
    assert.ok(replies.length > 20, `arping kept asking: ${replies.length} replies`);
    const lastArp = replies.filter((x) => x.at >= exited).map((x) => MAC.exec(x.text)?.[0]);
    assert.ok(lastArp.length > 5 && lastArp.every((m) => m === node(Y).mac0), `after the stop only ${Y} answers: ${JSON.stringify([...new Set(lastArp)])}`);
    const ndLines = window(nd.lines);
    assert.deepEqual(ndLines.filter((x) => x.text === 'miss'), [], `unanswered neighbor solicitations during the handover (run ${run})`);
    const lastNd = ndLines.filter((x) => x.at >= exited).map((x) => x.text);
    assert.ok(lastNd.length > 2 && lastNd.every((m) => m === node(Y).mac0), `after the stop only ${Y} answers NDP: ${JSON.stringify([...new Set(lastNd)])}`);
    const switchedAt = replies.find((x) => x.text.includes(node(Y).mac0))?.at ?? 0;
    t.diagnostic(`run ${run}: first ARP reply from ${Y} ${switchedAt - t0} ms after SIGTERM; ${X} exited after ${exited - t0} ms; ${replies.length} ARP replies, ${ndLines.length} NDP answers, 0 unanswered`);
    // the new owner announced itself: gratuitous ARP and unsolicited NA from its MAC
    const cap = sh('tcpdump', ['-r', pcap, '-e', '-n'], true).split('\n');
    assert.ok(cap.some((c) => c.includes(`${node(Y).mac0} > ff:ff:ff:ff:ff:ff`) && c.includes(`who-has ${V4} tell ${V4}`)), `gratuitous ARP from ${Y}`);
    assert.ok(cap.some((c) => c.includes(`${node(Y).mac0} > 33:33:00:00:00:01`) && c.includes(`tgt is ${V6}`)), `unsolicited NA from ${Y}`);
    assert.ok((l.log(node(X)).match(/handover confirmed by the new owner/g) ?? []).length >= 2 * run, `${X} saw the new owner confirm both addresses`);
    start(X);
  }
});

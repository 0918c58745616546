// Layer 2 moves between two LIVE speakers, with real frames (see lab.ts): three node namespaces
// each running a speaker (src/layer2/main.ts) and a client namespace. For one IPv4 and one IPv6
// address, node A wins the election over {A, B, C} and B wins over {B, C}:
//
//   1. failback: B owns the addresses while A's speaker is away; A's speaker starts again and
//      wins the election back;
//   2. A stops being a candidate (its node no longer selected) and A sees that first: the
//      addresses move to B, whose view catches up a second later;
//   3. A becomes a candidate again (node selected again) and B and C see it a second before A
//      does (membership/plan views converge at different times): the addresses move back to A.
//
// During each move the client asks continuously — Debian's arping (Thomas Habets') every 40 ms,
// which prints "Timeout" for a request nobody answered before the next one, ndisc6 in a loop —
// and must get an answer to every request. A ping keeps the client's kernel resolving the
// addresses; after the move its neighbour table must hold the new owner's MAC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { electL2Owner } from '../../../src/planner/elect.ts';
import { Lab, arpingOnce, ndiscOnce, missingPrerequisites, neighbourMAC, waitFor, sleep, type NodeSpec } from './lab.ts';

const missing = missingPrerequisites();
const mustRun = process.env.CI === 'true';
const SECRET = 'layer2-failback-test-secret';
const names = ['node1', 'node2', 'node3'];
const elect = (ip: string, among: string[]): string => electL2Owner(ip, among.map((name) => ({ name, labels: {} })), []) ?? '';
const V4 = '10.77.0.61';
const A = elect(V4, names);
const B = elect(V4, names.filter((n) => n !== A));
// an IPv6 address with the same winners, so one move covers both families
const V6 = Array.from({ length: 64 }, (_, i) => `2001:db8:77::${(0x61 + i).toString(16)}`).find((ip) => elect(ip, names) === A && elect(ip, names.filter((n) => n !== A)) === B) ?? '';
const MAC = /([0-9a-f]{2}:){5}[0-9a-f]{2}/;
/** How much later A sees a change of its own candidacy than B and C (scenarios 2 and 3). */
const VIEW_LAG_MS = 1000;

let lab: Lab | undefined;
const node = (name: string): NodeSpec => {
  const n = lab?.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
};
function config(name: string, candidates: string[]): object {
  const l = lab;
  if (!l) throw new Error('no lab');
  const n = node(name);
  return {
    node: n.name,
    secret: SECRET,
    bind: { address: n.mgmt, port: 7946 },
    members: l.nodes.map((m) => ({ name: m.name, address: m.mgmt, port: 7946 })),
    services: [{ ip: V4, nodes: candidates }, { ip: V6, nodes: candidates }],
    logLevel: 'info',
  };
}

before(() => {
  if (missing) return;
  lab = new Lab('f', 3);
  lab.setup();
});

after(async () => {
  if (lab) {
    const keep = process.env.L2_KEEP_LOGS === '1';
    if (keep) process.stderr.write(`layer2 failback lab logs kept in ${lab.dir}\n`);
    await lab.teardown(keep);
  }
});

/** Probes the addresses while `move` runs; asserts every request was answered and `to` ends as the owner. */
async function probeMove(l: Lab, what: string, from: string, to: string, move: () => Promise<void>): Promise<string> {
  await waitFor(`${V4} resolves to ${from}`, 20_000, () => JSON.stringify(arpingOnce(l.client, 'eth0', V4, 1)) === JSON.stringify([node(from).mac0]));
  await waitFor(`${V6} resolves to ${from}`, 20_000, () => ndiscOnce(l.client, 'eth0', V6) === node(from).mac0);
  // the client's kernel resolves the addresses too (no echo replies: nobody holds them)
  const ping4 = l.streamIn(l.client, ['ping', '-n', '-i', '0.2', V4]);
  const ping6 = l.streamIn(l.client, ['ping', '-6', '-n', '-i', '0.2', V6]);
  await waitFor('the client kernel resolved both addresses', 10_000, () => neighbourMAC(l.client, 'eth0', V4) === node(from).mac0 && neighbourMAC(l.client, 'eth0', V6) === node(from).mac0);
  const arp = l.streamIn(l.client, ['stdbuf', '-oL', 'arping', '-i', 'eth0', '-W', '0.04', V4]);
  const nd = l.streamIn(l.client, ['sh', '-c', `while :; do ndisc6 -q -1 -r 1 -w 200 ${V6} eth0 || echo MISS; done`]);
  await waitFor('arping answered', 10_000, () => arp.lines.some((x) => x.text.includes(node(from).mac0)));
  await waitFor('ndisc6 answered', 10_000, () => nd.lines.some((x) => x.text === node(from).mac0));
  const t0 = Date.now();
  await move();
  await waitFor(`arping answered by ${to}`, 20_000, () => arp.lines.some((x) => x.at >= t0 && x.text.includes(node(to).mac0)));
  await waitFor(`ndisc6 answered by ${to}`, 20_000, () => nd.lines.some((x) => x.at >= t0 && x.text === node(to).mac0));
  const firstNew = arp.lines.find((x) => x.at >= t0 && x.text.includes(node(to).mac0))?.at ?? t0;
  // keep asking past the new owner's gratuitous schedule (0, 0.5, 1, 2 s) and the old owner's release
  await waitFor(`${from} stops answering`, 20_000, () => {
    const last = arp.lines.filter((x) => MAC.test(x.text)).slice(-10);
    return last.length === 10 && last.every((x) => x.text.includes(node(to).mac0));
  });
  await sleep(2500);
  await arp.stop();
  await nd.stop();
  const window = (xs: { at: number; text: string }[]) => xs.filter((x) => x.at >= t0 - 500);
  const arpLines = window(arp.lines);
  const replies = arpLines.filter((x) => MAC.test(x.text));
  const both = replies.filter((x) => x.text.includes(node(from).mac0) && x.at >= firstNew).length;
  assert.deepEqual(arpLines.filter((x) => x.text.startsWith('timeout')), [], `${what}: unanswered ARP requests`);
  assert.ok(replies.length > 20, `${what}: arping kept asking (${replies.length} replies)`);
  const ndLines = window(nd.lines);
  assert.deepEqual(ndLines.filter((x) => x.text === 'miss'), [], `${what}: unanswered neighbor solicitations`);
  const tail = (xs: string[]): string[] => [...new Set(xs.slice(-5))];
  assert.deepEqual(tail(replies.map((x) => MAC.exec(x.text)?.[0] ?? '')), [node(to).mac0], `${what}: only ${to} answers ARP in the end`);
  assert.deepEqual(tail(ndLines.map((x) => x.text)), [node(to).mac0], `${what}: only ${to} answers NDP in the end`);
  // the client's kernel ends at the new owner (its last gratuitous ARP / unsolicited NA came after the old owner stopped)
  await waitFor(`the client's neighbour table names ${to}`, 5000, () => neighbourMAC(l.client, 'eth0', V4) === node(to).mac0 && neighbourMAC(l.client, 'eth0', V6) === node(to).mac0);
  await ping4.stop();
  await ping6.stop();
  return `${what}: first ARP reply from ${to} ${firstNew - t0} ms after the trigger; ${replies.length} ARP replies (${both} from ${from} after ${to} answered), ${ndLines.length} NDP answers, 0 unanswered`;
}

test('layer 2 moves between live speakers are make-before-break: failback, candidacy lost and regained with lagging views', { timeout: 300_000 }, async (t) => {
  if (missing) {
    if (mustRun) assert.fail(`CI=true but prerequisites are missing: ${missing}`);
    t.skip(missing);
    return;
  }
  const l = lab;
  assert.ok(l && A && B && V6 && A !== B, 'setup');
  const C = names.find((n) => n !== A && n !== B) ?? '';
  t.diagnostic(`A=${A} B=${B} C=${C} V4=${V4} V6=${V6}`);
  const all = [A, B, C];
  const alive = (n: string, want: string[]): boolean => JSON.stringify(l.status(node(n))?.alive ?? []) === JSON.stringify([...want].sort());

  // 1. failback: B owns while A is away; A's speaker starts again and wins
  for (const n of [B, C]) l.startNode(node(n), config(n, all));
  await waitFor('B and C see each other', 30_000, () => alive(B, [B, C]) && alive(C, [B, C]));
  t.diagnostic(
    await probeMove(l, 'failback (A starts again)', B, A, async () => {
      l.startNode(node(A), config(A, all));
      await waitFor('everybody sees A', 30_000, () => all.every((n) => alive(n, all)));
    }),
  );

  // 2. A is no longer a candidate; A sees it VIEW_LAG_MS before B and C
  t.diagnostic(
    await probeMove(l, 'A deselected (A sees it first)', A, B, async () => {
      l.reconfigure(node(A), config(A, [B, C]));
      await sleep(VIEW_LAG_MS);
      for (const n of [B, C]) l.reconfigure(node(n), config(n, [B, C]));
    }),
  );

  // 3. A is a candidate again; B and C see it VIEW_LAG_MS before A
  t.diagnostic(
    await probeMove(l, 'A selected again (A sees it last)', B, A, async () => {
      for (const n of [B, C]) l.reconfigure(node(n), config(n, all));
      await sleep(VIEW_LAG_MS);
      l.reconfigure(node(A), config(A, all));
    }),
  );
});

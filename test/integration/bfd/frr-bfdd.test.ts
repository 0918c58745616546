// Our BFD (src/bfd) against FRR 8 bfdd in network namespaces: single hop IPv4 and IPv6 with
// 100 ms x 3, multi-hop IPv4 on 4784 with minimumTtl; FRR frozen (SIGSTOP) -> our session goes
// Down within the detection time and comes back Up on SIGCONT; our process frozen -> FRR's
// session goes Down. Hostile datagrams from the router namespace (TTL 64) are counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lib/netns.ts';
import { Frr } from '../lib/routers.ts';
import { runnable } from '../lib/prereq.ts';
import { must, startProcess, waitFor, type Managed } from '../lib/proc.ts';
import { REPO_ROOT } from '../lib/standalone.ts';
import { bfdTestsMissing } from './prereq.ts';
import type { BfdPeerSpec, BfdPeerStatus } from '../../../src/bfd/manager.ts';
import type { DropReason } from '../../../src/bfd/mux.ts';

const why = bfdTestsMissing();
let lab: Lab | undefined;
let frr: Frr | undefined;
let ours: Managed | undefined;
let statusFile = '';

const timers = { transmitIntervalMs: 100, receiveIntervalMs: 100, detectMultiplier: 3, passive: false };

interface View {
  at: number;
  sessions: BfdPeerStatus[];
  drops: Record<DropReason, number>;
}
const view = (): View | undefined => (existsSync(statusFile) ? (JSON.parse(readFileSync(statusFile, 'utf8')) as View) : undefined);
const ourState = (peer: string): string | undefined => view()?.sessions.find((s) => s.peerAddress === peer)?.state;

before(async () => {
  if (why) return;
  lab = new Lab('bfd').setup();
  const a = lab.addr;
  // A loopback on each side for the multi-hop session, routed over the veth.
  must('ip', ['-n', lab.nsRtr, 'addr', 'add', '10.210.0.1/32', 'dev', 'lo']);
  must('ip', ['-n', lab.nsRtr, 'link', 'set', 'lo', 'up']);
  must('ip', ['-n', lab.nsDut, 'addr', 'add', '10.210.0.101/32', 'dev', 'lo']);
  must('ip', ['-n', lab.nsDut, 'link', 'set', 'lo', 'up']);
  must('ip', ['-n', lab.nsRtr, 'route', 'add', '10.210.0.101/32', 'via', a.dut4[0]!]);
  must('ip', ['-n', lab.nsDut, 'route', 'add', '10.210.0.1/32', 'via', a.rtr4[0]!]);
  frr = new Frr({
    ns: lab.nsRtr,
    dir: join(lab.dir, 'frr'),
    asn: 64500,
    routerId: a.rtr4[0]!,
    listen4: [a.rtr4[0]!],
    listen6: [a.rtr6[0]!],
    neighbors: [],
    bfd: {
      receiveMs: 100,
      transmitMs: 100,
      detectMultiplier: 3,
      peers: [
        { address: a.dut4[0]!, local: a.rtr4[0]!, iface: 'eth0' },
        { address: a.dut6[0]!, local: a.rtr6[0]!, iface: 'eth0' },
        { address: '10.210.0.101', local: '10.210.0.1', multihop: true, minimumTtl: 250 },
      ],
    },
  });
  await frr.start();
  const specs: BfdPeerSpec[] = [
    { key: 'v4', peerAddress: a.rtr4[0]!, localAddress: a.dut4[0]!, multihop: false, minimumTtl: 254, timers },
    { key: 'v6', peerAddress: a.rtr6[0]!, localAddress: a.dut6[0]!, multihop: false, minimumTtl: 254, timers },
    { key: 'mh', peerAddress: '10.210.0.1', localAddress: '10.210.0.101', multihop: true, minimumTtl: 250, timers },
  ];
  statusFile = join(lab.dir, 'ours.json');
  ours = startProcess(
    'bfd-peer',
    'ip',
    ['netns', 'exec', lab.nsDut, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test/integration/bfd/bfd-peer.ts'), JSON.stringify(specs), statusFile],
    join(lab.dir, 'ours.log'),
  );
});

after(async () => {
  ours?.signal('SIGCONT');
  await ours?.stop();
  for (const p of frr?.pids() ?? []) process.kill(p, 'SIGCONT');
  await frr?.stop();
  lab?.destroy();
});

async function frrState(peer: string): Promise<string | undefined> {
  return (await frr!.bfdPeers()).find((p) => p.peer === peer)?.status;
}

test('sessions Up on both sides: single hop IPv4 + IPv6 at 100 ms x 3, multi-hop IPv4', async (t) => {
  if (!runnable(t, why)) return;
  const a = lab!.addr;
  for (const [ourPeer, theirPeer] of [
    [a.rtr4[0]!, a.dut4[0]!],
    [a.rtr6[0]!, a.dut6[0]!],
    ['10.210.0.1', '10.210.0.101'],
  ] as const) {
    await waitFor(`our session to ${ourPeer} Up`, () => (ourState(ourPeer) === 'Up' ? true : undefined), 15000, 50);
    await waitFor(`FRR session to ${theirPeer} up`, async () => ((await frrState(theirPeer)) === 'up' ? true : undefined), 15000, 100);
  }
  const v4 = (await frr!.bfdPeers()).find((p) => p.peer === a.dut4[0]);
  assert.equal(v4?.['remote-receive-interval'], 100, 'FRR sees our 100 ms receive interval');
  assert.equal(v4?.['remote-transmit-interval'], 100);
  assert.equal(v4?.['remote-detect-multiplier'], 3);
  const s = view()!.sessions.find((x) => x.peerAddress === a.rtr4[0])!;
  assert.equal(s.detectionTimeMs, 300);
  assert.equal(s.txIntervalMs, 100);
  // FRR sends with TTL 255 (single hop and multi-hop): nothing of FRR's was dropped for TTL.
  assert.equal(view()!.drops.ttl, 0);
});

test('FRR frozen (SIGSTOP): our sessions go Down within the detection time; SIGCONT: Up again', async (t) => {
  if (!runnable(t, why)) return;
  const a = lab!.addr;
  const bfdd = frr!.daemon('bfdd');
  const t0 = Date.now();
  bfdd.signal('SIGSTOP');
  try {
    await waitFor('our IPv4 session Down', () => (ourState(a.rtr4[0]!) === 'Down' ? true : undefined), 5000, 10);
    const elapsed = Date.now() - t0;
    const s = view()!.sessions.find((x) => x.peerAddress === a.rtr4[0])!;
    assert.equal(s.localDiag, 'control detection time expired');
    // Not a speed assertion: Down must come from the detection timer, long before 3 x 1 s.
    assert.ok(elapsed < 3000, `went down after ${elapsed} ms`);
    t.diagnostic(`our session Down ${elapsed} ms after SIGSTOP of bfdd (detection time 300 ms)`);
    await waitFor('all our sessions Down', () => (view()!.sessions.every((x) => x.state === 'Down') ? true : undefined), 5000, 20);
  } finally {
    bfdd.signal('SIGCONT');
  }
  for (const p of [a.rtr4[0]!, a.rtr6[0]!, '10.210.0.1']) await waitFor(`our session to ${p} Up again`, () => (ourState(p) === 'Up' ? true : undefined), 15000, 50);
  // At least the one Down and the Up after it (a loaded machine may add a flap of its own).
  assert.ok(view()!.sessions.every((x) => x.upEvents >= 2 && x.downEvents >= 1), JSON.stringify(view()!.sessions));
});

test('our process frozen (SIGSTOP): FRR goes Down; SIGCONT: Up again', async (t) => {
  if (!runnable(t, why)) return;
  const a = lab!.addr;
  const t0 = Date.now();
  ours!.signal('SIGSTOP');
  try {
    await waitFor('FRR IPv4 session down', async () => ((await frrState(a.dut4[0]!)) === 'down' ? true : undefined), 5000, 20);
    t.diagnostic(`FRR saw the session down ${Date.now() - t0} ms after SIGSTOP (includes vtysh polling)`);
    const p = (await frr!.bfdPeers()).find((x) => x.peer === a.dut4[0]);
    assert.match(p?.diagnostic ?? '', /control detection time expired/);
  } finally {
    ours!.signal('SIGCONT');
  }
  for (const p of [a.dut4[0]!, a.dut6[0]!, '10.210.0.101']) await waitFor(`FRR session to ${p} up again`, async () => ((await frrState(p)) === 'up' ? true : undefined), 15000, 100);
});

test('hostile datagrams from the router namespace are dropped and counted, sessions stay Up', async (t) => {
  if (!runnable(t, why)) return;
  const a = lab!.addr;
  const before = view()!.drops;
  // From the router namespace: TTL 64 single hop (GTSM), version 2, detect mult 0, zero discriminators.
  const script = `
    const { loadUdpAddon } = await import(${JSON.stringify(join(REPO_ROOT, 'src/native/udp.ts'))});
    const { encodeControl } = await import(${JSON.stringify(join(REPO_ROOT, 'src/bfd/codec.ts'))});
    const A = loadUdpAddon();
    const p = (o) => encodeControl({ diag: 0, state: 1, poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscr: 99, yourDiscr: 0, desiredMinTx: 1e6, requiredMinRx: 1e6, requiredMinEchoRx: 0, ...o });
    const ttl64 = new A.UdpSocket(4, ${JSON.stringify(a.rtr4[0])}, 0, 64, '', null);
    const s = new A.UdpSocket(4, ${JSON.stringify(a.rtr4[0])}, 0, 255, '', null);
    const to = ${JSON.stringify(a.dut4[0])};
    ttl64.send(p({}), to, 3784);
    const v2 = p({}); v2[0] = 0x40; s.send(v2, to, 3784);
    const dm = p({}); dm[2] = 0; s.send(dm, to, 3784);
    s.send(p({ myDiscr: 0 }), to, 3784);
    s.send(p({ state: 3 }), to, 3784);
    s.send(Buffer.from('garbage'), to, 3784);
    ttl64.close(); s.close();`;
  must('ip', ['netns', 'exec', lab!.nsRtr, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]);
  const d = await waitFor(
    'six drops counted',
    () => {
      const now = view()!.drops;
      const sum = (x: Record<string, number>): number => Object.values(x).reduce((s, v) => s + v, 0);
      return sum(now) - sum(before) >= 6 ? now : undefined;
    },
    5000,
    20,
  );
  assert.equal(d.ttl - before.ttl, 1);
  assert.equal(d.version - before.version, 1);
  assert.equal(d['detect-mult-zero'] - before['detect-mult-zero'], 1);
  assert.equal(d['my-discriminator-zero'] - before['my-discriminator-zero'], 1);
  assert.equal(d['your-discriminator-zero'] - before['your-discriminator-zero'], 1);
  assert.equal(d.short - before.short, 1);
  assert.ok(ours!.alive());
  // every hostile datagram was dropped above (none reached a session); the session is Up (on a
  // loaded machine a 300 ms detection time may flap and recover on its own, hence the wait)
  await waitFor('our IPv4 session Up', () => (ourState(a.rtr4[0]!) === 'Up' ? true : undefined), 15000, 50);
});

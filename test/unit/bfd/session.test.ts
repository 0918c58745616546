import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BfdDiag, BfdState, type ControlPacket } from '../../../src/bfd/codec.ts';
import { BfdSession, type BfdAction, type BfdTimers } from '../../../src/bfd/session.ts';

const FAST: BfdTimers = { transmitIntervalMs: 100, receiveIntervalMs: 100, detectMultiplier: 3, passive: false };

/** Seeded RNG (mulberry32) so jitter is exercised but runs are repeatable. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sent {
  at: number;
  from: 'a' | 'b';
  p: ControlPacket;
}

/**
 * Two sessions joined by a link with 1 ms latency, driven by a fake clock. `cut` drops
 * packets from one side (a frozen process).
 */
class Link {
  now = 0;
  readonly sent: Sent[] = [];
  readonly changes: { at: number; who: 'a' | 'b'; to: BfdState; diag: BfdDiag }[] = [];
  cut = { a: false, b: false };
  private queue: { at: number; to: 'a' | 'b'; p: ControlPacket }[] = [];
  constructor(
    readonly a: BfdSession,
    readonly b: BfdSession,
  ) {}
  handle(who: 'a' | 'b', actions: BfdAction[]): void {
    for (const x of actions) {
      if (x.kind === 'state') this.changes.push({ at: this.now, who, to: x.to, diag: x.diag });
      else {
        this.sent.push({ at: this.now, from: who, p: x.packet });
        if (!this.cut[who]) this.queue.push({ at: this.now + 1, to: who === 'a' ? 'b' : 'a', p: x.packet });
      }
    }
  }
  /** Runs until `until` (ms), processing deliveries and timers in time order. */
  run(until: number): void {
    for (;;) {
      const q = this.queue.reduce<number | undefined>((m, e) => (m === undefined || e.at < m ? e.at : m), undefined);
      const da = this.cut.a ? undefined : this.a.nextDeadline();
      const db = this.cut.b ? undefined : this.b.nextDeadline();
      const next = Math.min(q ?? Infinity, da ?? Infinity, db ?? Infinity);
      if (next > until) break;
      this.now = Math.max(this.now, next);
      const due = this.queue.filter((e) => e.at <= this.now);
      this.queue = this.queue.filter((e) => e.at > this.now);
      for (const d of due) if (!this.cut[d.to]) this.handle(d.to, (d.to === 'a' ? this.a : this.b).receive(d.p, this.now));
      if (!this.cut.a && da !== undefined && da <= this.now) this.handle('a', this.a.timers(this.now));
      if (!this.cut.b && db !== undefined && db <= this.now) this.handle('b', this.b.timers(this.now));
    }
    this.now = until;
  }
}

function pair(ta: BfdTimers = FAST, tb: BfdTimers = FAST): Link {
  return new Link(new BfdSession(0xa, ta, rng(1), 0), new BfdSession(0xb, tb, rng(2), 0));
}

test('three-way handshake: Down -> Init -> Up on both sides, slow 1 s rate before Up', () => {
  const l = pair();
  l.run(5);
  assert.equal(l.a.state, BfdState.Up);
  assert.equal(l.b.state, BfdState.Up);
  const firstA = l.sent.find((s) => s.from === 'a')!;
  assert.equal(firstA.p.state, BfdState.Down);
  assert.equal(firstA.p.yourDiscr, 0);
  assert.equal(firstA.p.desiredMinTx, 1_000_000, 'slow rate advertised until Up');
  assert.equal(firstA.p.requiredMinRx, 100_000);
  // Both went through Init or straight to Up (the one that hears Init first); never AdminDown.
  assert.ok(l.changes.every((c) => c.to === BfdState.Init || c.to === BfdState.Up));
  assert.equal(l.a.status().upEvents, 1);
});

test('after Up a Poll Sequence moves to the configured rate; periodic packets are jittered 75-100 %', () => {
  const l = pair();
  l.run(3000);
  const polls = l.sent.filter((s) => s.from === 'a' && s.p.poll);
  assert.ok(polls.length >= 1, 'a polled');
  assert.equal(polls[0]!.p.desiredMinTx, 100_000);
  assert.ok(l.sent.some((s) => s.from === 'b' && s.p.final), 'b answered with Final');
  assert.equal(l.a.status().pollActive, false);
  const periodic = l.sent.filter((s) => s.from === 'a' && s.at > 1000 && !s.p.final);
  const gaps = periodic.slice(1).map((s, i) => s.at - periodic[i]!.at);
  assert.ok(gaps.length > 15, `${gaps.length} packets`);
  for (const g of gaps) assert.ok(g >= 75 && g <= 100, `gap ${g} ms outside 75..100`);
  assert.ok(new Set(gaps.map((g) => Math.round(g))).size > 3, 'gaps vary (jitter)');
  assert.equal(l.a.status().detectionTimeMs, 300);
  assert.equal(l.a.status().txIntervalMs, 100);
});

test('a silent peer: Down with "control detection time expired" within the detection time', () => {
  const l = pair();
  l.run(2000);
  l.cut.b = true; // b frozen: sends nothing, hears nothing
  const lastFromB = l.sent.filter((s) => s.from === 'b').at(-1)!.at;
  l.run(4000);
  const down = l.changes.find((c) => c.who === 'a' && c.to === BfdState.Down);
  assert.ok(down, 'a went down');
  assert.equal(down.diag, BfdDiag.ControlDetectionExpired);
  const heardAt = lastFromB + 1;
  assert.ok(down.at - heardAt <= 300 && down.at - heardAt >= 299, `down after ${down.at - heardAt} ms`);
  assert.equal(l.a.status().remoteDiscr, 0, 'remote discriminator reset');
  assert.equal(l.a.status().downEvents, 1);
  // Slow rate again while Down.
  const after = l.sent.filter((s) => s.from === 'a' && s.at > down.at + 1);
  assert.ok(after.every((s) => s.p.desiredMinTx === 1_000_000 && s.p.state === BfdState.Down));
  // The peer comes back: Up again.
  l.cut.b = false;
  l.run(9000);
  assert.equal(l.a.state, BfdState.Up);
  assert.equal(l.b.state, BfdState.Up);
  assert.equal(l.a.status().upEvents, 2);
});

test('peer signals Down or AdminDown: Down with "neighbor signaled session down"', () => {
  const l = pair();
  l.run(1500);
  const st = l.a.status();
  const pkt = (state: BfdState): ControlPacket => ({
    diag: BfdDiag.AdministrativelyDown,
    state,
    poll: false,
    final: false,
    cpi: false,
    demand: false,
    detectMult: 3,
    myDiscr: st.remoteDiscr,
    yourDiscr: st.localDiscr,
    desiredMinTx: 100_000,
    requiredMinRx: 100_000,
    requiredMinEchoRx: 0,
  });
  const acts = l.a.receive(pkt(BfdState.AdminDown), 1501);
  assert.deepEqual(acts.find((x) => x.kind === 'state'), { kind: 'state', from: BfdState.Up, to: BfdState.Down, diag: BfdDiag.NeighborSignaledDown });
  const send = acts.find((x) => x.kind === 'send');
  assert.ok(send && send.kind === 'send' && send.packet.state === BfdState.Down, 'tells the peer at once');
  // Down -> (peer Down) -> Init.
  const b2 = l.b.receive({ ...pkt(BfdState.Down), myDiscr: 0xa, yourDiscr: 0 }, 1502);
  assert.equal(b2.find((x) => x.kind === 'state')?.kind, 'state');
  assert.equal(l.b.state, BfdState.Down);
});

test('a Poll from the peer is answered at once with Final (and P clear)', () => {
  const l = pair();
  l.run(1500);
  const st = l.a.status();
  const acts = l.a.receive(
    { diag: 0, state: BfdState.Up, poll: true, final: false, cpi: false, demand: false, detectMult: 5, myDiscr: st.remoteDiscr, yourDiscr: st.localDiscr, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0 },
    1500.5,
  );
  const sends = acts.filter((x) => x.kind === 'send');
  assert.equal(sends.length, 1);
  assert.ok(sends[0]!.kind === 'send' && sends[0]!.packet.final && !sends[0]!.packet.poll);
  // Detection time now uses the peer's multiplier: 5 x max(100 ms ours, 50 ms theirs).
  assert.equal(l.a.status().detectionTimeMs, 500);
});

test('passive role: nothing is sent until the peer has sent', () => {
  const l = pair(FAST, { ...FAST, passive: true });
  l.cut.a = true;
  l.run(5000);
  assert.equal(l.sent.filter((s) => s.from === 'b').length, 0);
  l.cut.a = false;
  l.a.setTimers(FAST, l.now);
  l.run(8000);
  assert.equal(l.b.state, BfdState.Up);
  assert.ok(l.sent.some((s) => s.from === 'b'));
  // a goes silent: b goes down and stops sending after the detection time.
  l.cut.a = true;
  l.run(9000);
  assert.equal(l.b.state, BfdState.Down);
  const lastB = l.sent.filter((s) => s.from === 'b').at(-1)!.at;
  l.run(15000);
  assert.equal(l.sent.filter((s) => s.from === 'b').at(-1)!.at, lastB, 'passive side stopped transmitting');
});

test('changing timers while Up: Poll Sequence, the old (longer) receive interval counts until Final', () => {
  const l = pair();
  l.run(2000);
  l.cut.b = true; // the Final will not arrive
  l.handle('a', l.a.setTimers({ ...FAST, receiveIntervalMs: 50, transmitIntervalMs: 50 }, l.now));
  const st = l.a.status();
  assert.equal(st.pollActive, true);
  const poll = l.sent.at(-1)!;
  assert.equal(poll.p.poll, true);
  assert.equal(poll.p.requiredMinRx, 50_000);
  assert.equal(st.detectionTimeMs, 300, 'old 100 ms x 3 until the poll ends');
  l.cut.b = false;
  l.run(3000);
  assert.equal(l.a.status().pollActive, false);
  assert.equal(l.a.state, BfdState.Up);
  // b still requires 100 ms between packets: a sends every 100 ms, b detects in 3 x 100 ms.
  assert.equal(l.a.status().txIntervalMs, 100);
  assert.equal(l.b.status().detectionTimeMs, 300);
  l.handle('b', l.b.setTimers({ ...FAST, receiveIntervalMs: 50, transmitIntervalMs: 50 }, l.now));
  l.run(4000);
  assert.equal(l.a.status().txIntervalMs, 50);
  assert.equal(l.a.status().detectionTimeMs, 150);
  assert.equal(l.b.status().detectionTimeMs, 150);
});

test('detect multiplier 1: intervals between 75 % and 90 %', () => {
  const one = { ...FAST, detectMultiplier: 1 };
  const l = pair(one, one);
  l.run(3000);
  const periodic = l.sent.filter((s) => s.from === 'a' && s.at > 1500 && !s.p.final);
  const gaps = periodic.slice(1).map((s, i) => s.at - periodic[i]!.at);
  assert.ok(gaps.length > 10);
  for (const g of gaps) assert.ok(g >= 75 && g <= 90, `gap ${g}`);
});

test('AdminDown: one AdminDown packet with diag 7, received packets ignored, adminUp restarts', () => {
  const l = pair();
  l.run(1500);
  const acts = l.a.adminDown(l.now);
  const send = acts.find((x) => x.kind === 'send');
  assert.ok(send && send.kind === 'send' && send.packet.state === BfdState.AdminDown && send.packet.diag === BfdDiag.AdministrativelyDown);
  l.handle('a', acts);
  l.run(3000);
  assert.equal(l.a.state, BfdState.AdminDown);
  assert.equal(l.b.state, BfdState.Down);
  assert.equal(l.b.status().localDiag, BfdDiag.NeighborSignaledDown);
  l.handle('a', l.a.adminUp(l.now));
  l.run(6000);
  assert.equal(l.a.state, BfdState.Up);
  assert.equal(l.b.state, BfdState.Up);
});

test('bad parameters are rejected', () => {
  assert.throws(() => new BfdSession(0, FAST, Math.random, 0), RangeError);
  assert.throws(() => new BfdSession(1, { ...FAST, detectMultiplier: 0 }, Math.random, 0), RangeError);
  assert.throws(() => new BfdSession(1, { ...FAST, transmitIntervalMs: 0 }, Math.random, 0), RangeError);
});

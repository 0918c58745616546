import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandoverState, type HandoverStep, type HandoverView } from '../../../src/layer2/handover.ts';
import type { OwnedEntry } from '../../../src/layer2/announcer.ts';

const X = '10.0.0.5';
const Y = '2001:db8::5';
const e = (ip: string, interfaces: string[] = []): OwnedEntry => ({ ip, interfaces });

/** A view with defaults: quorum, peers n2 and n3 alive, nobody else announcing anything. */
function view(over: Partial<HandoverView>): HandoverView {
  return {
    now: 0,
    owned: [],
    owners: {},
    hasQuorum: true,
    peersAlive: ['n2', 'n3'],
    announcersOf: () => [],
    othersAnswer: () => false,
    timeoutMs: 3000,
    ...over,
  };
}
const ips = (s: HandoverStep): string[] => s.answer.map((a) => a.ip);

test('an address elected to another live speaker stays answered until that speaker announces it', () => {
  const h = new HandoverState();
  assert.deepEqual(ips(h.step(view({ owned: [e(X, ['eth0'])], owners: { [X]: 'n1' } }))), [X]);
  // n2 wins now (failback): n1 keeps answering, with the interfaces it answered on
  const s1 = h.step(view({ now: 100, owners: { [X]: 'n2' } }));
  assert.deepEqual(s1.answer, [e(X, ['eth0'])]);
  assert.deepEqual(s1.started.map((x) => [x.ip, x.to, x.until]), [[X, 'n2', 3100]]);
  assert.equal(s1.nextDeadline, 3100);
  // another speaker announcing it is no confirmation: the elected new owner must
  const s2 = h.step(view({ now: 200, owners: { [X]: 'n2' }, announcersOf: () => ['n3'] }));
  assert.deepEqual(ips(s2), [X]);
  assert.deepEqual(s2.ended, []);
  const s3 = h.step(view({ now: 350, owners: { [X]: 'n2' }, announcersOf: (ip) => (ip === X ? ['n2', 'n3'] : []) }));
  assert.deepEqual(s3.answer, []);
  assert.deepEqual(s3.ended, [{ ip: X, to: 'n2', reason: 'confirmed', by: 'n2', afterMs: 250 }]);
  assert.equal(s3.nextDeadline, undefined);
  assert.deepEqual(h.handingOver(), []);
});

test('a new owner that never confirms: the address is released when the timeout passes, not before', () => {
  const h = new HandoverState();
  h.step(view({ owned: [e(X)], owners: { [X]: 'n1' } }));
  h.step(view({ now: 1000, owners: { [X]: 'n2' } }));
  assert.deepEqual(ips(h.step(view({ now: 3999, owners: { [X]: 'n2' } }))), [X]);
  const s = h.step(view({ now: 4000, owners: { [X]: 'n2' } }));
  assert.deepEqual(s.answer, []);
  assert.deepEqual(s.ended, [{ ip: X, to: 'n2', reason: 'timeout', afterMs: 3000 }]);
});

test('a shorter timeout later (leaving during a move) shortens a running handover; a longer one never lengthens it', () => {
  const h = new HandoverState();
  h.step(view({ owned: [e(X)], owners: { [X]: 'n1' } }));
  assert.equal(h.step(view({ now: 0, owners: { [X]: 'n2' } })).nextDeadline, 3000);
  assert.equal(h.step(view({ now: 500, owners: { [X]: 'n2' }, timeoutMs: 1500 })).nextDeadline, 2000);
  assert.equal(h.step(view({ now: 600, owners: { [X]: 'n2' }, timeoutMs: 3000 })).nextDeadline, 2000);
  assert.deepEqual(h.step(view({ now: 2000, owners: { [X]: 'n2' } })).ended.map((x) => x.reason), ['timeout']);
});

test('no longer a candidate here: any other speaker announcing the address confirms; nobody alive: released at once', () => {
  const h = new HandoverState();
  h.step(view({ owned: [e(X), e(Y)], owners: { [X]: 'n1', [Y]: 'n1' } }));
  // both addresses left this node's plan (node no longer selected)
  const s1 = h.step(view({ now: 10, owners: {} }));
  assert.deepEqual(s1.started.map((x) => [x.ip, x.to]), [[X, null], [Y, null]]);
  assert.deepEqual(ips(s1), [X, Y]);
  const s2 = h.step(view({ now: 20, owners: {}, announcersOf: (ip) => (ip === Y ? ['n3'] : []) }));
  assert.deepEqual(ips(s2), [X]);
  assert.deepEqual(s2.ended, [{ ip: Y, to: null, reason: 'confirmed', by: 'n3', afterMs: 10 }]);
  const s3 = h.step(view({ now: 30, owners: {}, peersAlive: [] }));
  assert.deepEqual(s3.answer, []);
  assert.deepEqual(s3.ended.map((x) => [x.ip, x.reason]), [[X, 'no-peer']]);
});

test('released at once: nobody elected, quorum lost; elected back while handing over: owned again', () => {
  const h = new HandoverState();
  h.step(view({ owned: [e(X), e(Y)], owners: { [X]: 'n1', [Y]: 'n1' } }));
  // nobody can take X (every other candidate ineligible); Y moves to n2
  const s1 = h.step(view({ now: 5, owners: { [X]: null, [Y]: 'n2' } }));
  assert.deepEqual(s1.ended.map((x) => [x.ip, x.reason]), [[X, 'no-owner']]);
  assert.deepEqual(ips(s1), [Y]);
  // Y elected back to this node: answered as owned, once
  const s2 = h.step(view({ now: 6, owned: [e(Y)], owners: { [X]: null, [Y]: 'n1' } }));
  assert.deepEqual(s2.ended.map((x) => [x.ip, x.reason]), [[Y, 'owned-again']]);
  assert.deepEqual(ips(s2), [Y]);
  // moves again, then the partition rule: without quorum nothing is answered
  assert.deepEqual(ips(h.step(view({ now: 7, owners: { [Y]: 'n2' } }))), [Y]);
  const s3 = h.step(view({ now: 8, owners: { [Y]: 'n2' }, hasQuorum: false }));
  assert.deepEqual(s3.answer, []);
  assert.deepEqual(s3.ended.map((x) => [x.ip, x.reason]), [[Y, 'no-quorum']]);
});

test('the new owner announces again once every other speaker stopped answering the address', () => {
  const h = new HandoverState();
  let others = new Set<string>([X]);
  const at = (now: number): HandoverStep => h.step(view({ now, owned: [e(X), e(Y)], owners: { [X]: 'n1', [Y]: 'n1' }, othersAnswer: (ip) => others.has(ip) }));
  assert.deepEqual(at(0).reannounce, []); // gained X while the old owner still answers it; Y uncontested
  assert.deepEqual(at(100).reannounce, []);
  others = new Set();
  assert.deepEqual(at(200).reannounce, [X]); // the old owner went quiet: the last announcement is ours
  assert.deepEqual(at(300).reannounce, [], 'once');
  // an address this node hands over itself is not re-announced by it
  others = new Set([Y]);
  h.step(view({ now: 400, owned: [e(X)], owners: { [X]: 'n1', [Y]: 'n2' }, othersAnswer: (ip) => others.has(ip) }));
  others = new Set();
  assert.deepEqual(h.step(view({ now: 500, owned: [e(X)], owners: { [X]: 'n1', [Y]: 'n2' } })).reannounce, []);
});

/**
 * Two speakers as pure state machines exchanging their heartbeat lists ("a": owned and answered,
 * "h": handed over). n1 owns X; both views then move X to n2, in either order and with the
 * other's view lagging; after every step at least one of them answers X, and in the end only n2
 * does, having announced again after n1 stopped.
 */
test('simulated failback: whatever order the two views change in, X is never unanswered', () => {
  for (const order of [['n1', 'n2'], ['n2', 'n1']] as const) {
    const state = { n1: new HandoverState(), n2: new HandoverState() };
    const owner = { n1: 'n1', n2: 'n1' } as Record<'n1' | 'n2', string>;
    const sent = { n1: { a: [] as string[], h: [] as string[] }, n2: { a: [] as string[], h: [] as string[] } };
    const answering = { n1: [] as string[], n2: [] as string[] };
    const reannounced: string[] = [];
    let now = 0;
    const run = (self: 'n1' | 'n2'): void => {
      const peer = self === 'n1' ? 'n2' : 'n1';
      const owned = owner[self] === self ? [e(X)] : [];
      const s = state[self].step(
        view({
          now,
          owned,
          owners: { [X]: owner[self] },
          peersAlive: [peer],
          announcersOf: (ip) => (sent[peer].a.includes(ip) ? [peer] : []),
          othersAnswer: (ip) => sent[peer].a.includes(ip) || sent[peer].h.includes(ip),
        }),
      );
      answering[self] = ips(s);
      sent[self] = { a: owned.map((o) => o.ip), h: s.handingOver.map((x) => x.ip) };
      if (s.reannounce.length > 0) reannounced.push(`${self}@${now}`);
    };
    const both = (): void => {
      run('n1');
      run('n2');
      assert.ok(answering.n1.includes(X) || answering.n2.includes(X), `X unanswered at ${now} (order ${order.join(',')})`);
      now += 100;
    };
    both();
    both();
    for (const who of order) {
      owner[who] = 'n2';
      both();
      both(); // the other one lags one more round
    }
    for (let i = 0; i < 3; i++) both();
    assert.deepEqual(answering, { n1: [], n2: [X] }, `order ${order.join(',')}`);
    assert.equal(reannounced.length, 1, `n2 announced again once after n1 stopped: ${reannounced.join(' ')}`);
    assert.ok(reannounced[0]?.startsWith('n2@'));
  }
});

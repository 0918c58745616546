// The weight rate limit (src/node/weightlimit.ts) with an injected clock: isolated changes pass at
// once, a burst gives one immediate and one trailing update carrying the final weight, first
// announcements / withdrawals / fallback transitions are never held, per-route intervals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WeightLimiter } from '../../../src/node/weightlimit.ts';
import { parsePrefix } from '../../../src/ip/index.ts';
import type { PlannedRoute, SessionPlan } from '../../../src/planner/types.ts';
import { peer } from '../allocator/helpers.ts';

const P = '198.51.100.7/32';
const Q = '2001:db8::7/128';

function route(prefix: string, weight?: number, more: Partial<PlannedRoute> = {}): PlannedRoute {
  const p = parsePrefix(prefix);
  if (!p) throw new Error(prefix);
  return { prefix: p, communities: [], largeCommunities: [], ...(weight !== undefined ? { weight } : {}), ...more };
}

function session(name: string, routes: PlannedRoute[]): SessionPlan {
  return { node: 'n1', peer: name, config: peer(name, '10.0.0.1', 64512, 64513), ebgp: true, routes };
}

/** The weights the speaker gets, per session: prefix -> weight. */
function sent(out: SessionPlan[]): Record<string, Record<string, number | undefined>> {
  return Object.fromEntries(out.map((s) => [s.peer, Object.fromEntries(s.routes.map((r) => [`${r.prefix.family === 4 ? '4' : '6'}:${r.prefix.length}`, r.weight]))]));
}

test('an isolated change passes at once; a change within the interval is held and sent when due (trailing), with the newest weight', () => {
  const l = new WeightLimiter(1000);
  let r = l.limit([session('a', [route(P, 1)])], 0);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 1, 'first announcement at once');
  assert.equal(r.nextDueAt, undefined);
  r = l.limit([session('a', [route(P, 2)])], 5000);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 2, 'isolated change at once');
  assert.equal(r.nextDueAt, undefined);
  // burst: 3, 4, 5 within 300 ms of the last send
  for (const [t, w] of [[5100, 3], [5200, 4], [5300, 5]] as const) {
    r = l.limit([session('a', [route(P, w)])], t);
    assert.equal(r.sessions[0]?.routes[0]?.weight, 2, `weight ${w} held at ${t}`);
    assert.equal(r.nextDueAt, 6000);
  }
  assert.deepEqual(l.status().pending, [{ peer: 'a', prefix: P, sent: 2, planned: 5, dueAt: 6000 }]);
  // too early: still held
  r = l.limit([session('a', [route(P, 5)])], 5999);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 2);
  // due: the final weight goes out, nothing pending
  r = l.limit([session('a', [route(P, 5)])], 6000);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 5);
  assert.equal(r.nextDueAt, undefined);
  const st = l.status();
  assert.deepEqual([st.immediate, st.held, st.trailing, st.pending.length], [1, 1, 1, 0]);
  // the trailing send starts a new interval: the next change is held until 7000
  r = l.limit([session('a', [route(P, 6)])], 6500);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 5);
  assert.equal(r.nextDueAt, 7000);
});

test('a burst of N changes at 10 ms steps yields at most 1 + duration/interval weight changes, the last one final', () => {
  const l = new WeightLimiter(1000);
  l.limit([session('a', [route(P, 1)])], 0);
  let now = 10_000;
  let due: number | undefined;
  const seen: number[] = [];
  let last = 1;
  const observe = (out: SessionPlan[]): void => {
    const w = out[0]?.routes[0]?.weight ?? -1;
    if (w !== last) seen.push(w);
    last = w;
  };
  for (let i = 0; i < 300; i++) {
    // the trailing timer fires when due (as the NodeAgent does)
    if (due !== undefined && due <= now) {
      const r = l.limit([session('a', [route(P, i % 7 + 1)])], due);
      observe(r.sessions);
      due = r.nextDueAt;
    }
    const r = l.limit([session('a', [route(P, (i + 1) % 7 + 1)])], now);
    observe(r.sessions);
    due = r.nextDueAt;
    now += 10;
  }
  const final = (300 % 7) + 1;
  while (due !== undefined) {
    const r = l.limit([session('a', [route(P, final)])], due);
    observe(r.sessions);
    due = r.nextDueAt;
  }
  assert.ok(seen.length <= 1 + Math.ceil(3000 / 1000) + 1, `${seen.length} changes sent: ${seen.join(',')}`);
  assert.equal(last, final, 'the final weight is sent');
});

test('first announcements, withdrawals, weight added or removed and fallback transitions are never held', () => {
  const l = new WeightLimiter(1000);
  l.limit([session('a', [route(P, 1)])], 0);
  // a new prefix and a new session: at once, even right after another send
  let r = l.limit([session('a', [route(P, 1), route(Q, 4)]), session('b', [route(P, 9)])], 10);
  assert.deepEqual(sent(r.sessions), { a: { '4:32': 1, '6:128': 4 }, b: { '4:32': 9 } });
  // withdrawn and announced again at once: a first announcement again
  r = l.limit([session('a', [route(Q, 4)]), session('b', [route(P, 9)])], 20);
  assert.deepEqual(sent(r.sessions), { a: { '6:128': 4 }, b: { '4:32': 9 } });
  r = l.limit([session('a', [route(P, 3), route(Q, 4)]), session('b', [route(P, 9)])], 30);
  assert.deepEqual(sent(r.sessions), { a: { '4:32': 3, '6:128': 4 }, b: { '4:32': 9 } });
  // the weight removed (annotation off) and back: never held
  r = l.limit([session('a', [route(P), route(Q, 4)])], 40);
  assert.equal(r.sessions[0]?.routes[0]?.weight, undefined);
  r = l.limit([session('a', [route(P, 7), route(Q, 4)])], 50);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 7);
  // fallback -> real endpoint: at once (going back to normal)
  r = l.limit([session('a', [route(P, 0.01, { fallback: true })])], 60);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 0.01);
  r = l.limit([session('a', [route(P, 1)])], 70);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 1);
  assert.equal(r.nextDueAt, undefined);
  assert.equal(l.status().held, 0);
});

test('other attributes change at once with the held weight; a weight back to the sent one cancels the trailing update', () => {
  const l = new WeightLimiter(1000);
  l.limit([session('a', [route(P, 2)])], 0);
  let r = l.limit([session('a', [route(P, 3, { communities: [7] })])], 100);
  assert.deepEqual([r.sessions[0]?.routes[0]?.weight, r.sessions[0]?.routes[0]?.communities], [2, [7]]);
  assert.equal(r.nextDueAt, 1000);
  r = l.limit([session('a', [route(P, 2, { communities: [7] })])], 200);
  assert.equal(r.nextDueAt, undefined, 'nothing pending');
  assert.deepEqual(l.status().pending, []);
});

test('per-route interval (annotation) wins over the default; 0 = no limit; unweighted sessions pass as the same objects', () => {
  const l = new WeightLimiter(1000);
  const plain = session('c', [route(P)]);
  l.limit([session('a', [route(P, 1, { weightIntervalMs: 0 })]), plain], 0);
  const r0 = l.limit([session('a', [route(P, 2, { weightIntervalMs: 0 })]), plain], 1);
  assert.equal(r0.sessions[0]?.routes[0]?.weight, 2);
  assert.equal(r0.sessions[1], plain);
  const m = new WeightLimiter(1000);
  m.limit([session('a', [route(P, 1, { weightIntervalMs: 5000 })])], 0);
  const r = m.limit([session('a', [route(P, 2, { weightIntervalMs: 5000 })])], 2000);
  assert.equal(r.sessions[0]?.routes[0]?.weight, 1);
  assert.equal(r.nextDueAt, 5000);
});

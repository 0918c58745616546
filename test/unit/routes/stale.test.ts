// Graceful restart, receiving side (RFC 4724 §4.2, RFC 8538 §4): received routes kept as stale
// while the peer restarts, refreshed when announced again, removed at End-of-RIB or when the
// deadline passes. Pure Adj-RIB-In with explicit times, then the session's receive side with an
// injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { UpdateMessage } from '../../../src/bgp/codec/messages.ts';
import { parseIP, parsePrefix } from '../../../src/ip/index.ts';
import type { RouteChange } from '../../../src/routes/ribin.ts';
import { AdjRibIn, STALE_PATH_TIME_MS, routeKey } from '../../../src/routes/ribin.ts';
import { ReceiveSide, peerRetention } from '../../../src/bgp/speaker/receive.ts';
import type { Negotiated } from '../../../src/bgp/session/types.ts';
import { FakeClock } from '../helpers/clock.ts';

const nlri = (s: string) => {
  const p = parsePrefix(s);
  return { family: p.family, network: p.network, length: p.length };
};
const key = (s: string) => {
  const n = nlri(s);
  return routeKey(n.family, n.network, n.length);
};
function announce(v4: string[], v6: string[] = [], withdrawn: string[] = []): UpdateMessage {
  return {
    type: 2,
    withdrawn: withdrawn.map(nlri),
    nlri: v4.map(nlri),
    attributes: {
      origin: 0,
      asPath: [{ type: 2, asns: [64600] }],
      nextHop: { family: 4, value: parseIP('10.0.0.1').value },
      ...(v6.length > 0 ? { mpReach: { afi: 2, safi: 1, nextHops: [{ family: 6 as const, value: parseIP('2001:db8::1').value }], nlri: v6.map(nlri) } } : {}),
    },
  };
}
const EOR4: UpdateMessage = { type: 2, withdrawn: [], nlri: [], attributes: {} };
const EOR6: UpdateMessage = { type: 2, withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } } };
const removed = (c: RouteChange[]) => c.filter((x) => x.path === undefined).map((x) => x.key).sort();
const all = { mode: 'all' as const, prefixes: [], prefixLimit: 100 };

test('Adj-RIB-In: stale routes are kept, refreshed when announced again, the rest removed at End-of-RIB', () => {
  const rib = new AdjRibIn(all, { ebgp: true, localASN: 64500 });
  rib.apply(announce(['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16'], ['2001:db8:1::/48']));
  assert.equal(rib.accepted, 4);
  // the peer kept forwarding state for IPv4 only: IPv6 goes at once
  assert.deepEqual(removed(rib.markStale([4], 120_000)), [key('2001:db8:1::/48')]);
  assert.deepEqual([rib.accepted, rib.staleCount, rib.nextStaleDeadline()], [3, 3, 120_000]);
  // back with graceful restart: the deadline becomes the stale-path time, nothing removed
  assert.deepEqual(rib.peerReturned([4], 5_000), []);
  assert.equal(rib.nextStaleDeadline(), 5_000);
  const r = rib.apply(announce(['10.1.0.0/16']));
  assert.equal(r.changes.length, 1, 'announced again: the same route, now fresh');
  rib.apply(announce([], [], ['10.2.0.0/16']));
  assert.deepEqual([rib.accepted, rib.staleCount], [2, 1]);
  assert.deepEqual(removed(rib.endOfRib(6)), [], 'End-of-RIB of another family removes nothing');
  assert.deepEqual(removed(rib.endOfRib(4)), [key('10.3.0.0/16')]);
  assert.deepEqual([rib.accepted, rib.staleCount, rib.nextStaleDeadline()], [1, 0, undefined]);
});

test('Adj-RIB-In: the deadline removes stale routes; a peer back without graceful restart loses them at once', () => {
  const rib = new AdjRibIn(all, { ebgp: true, localASN: 64500 });
  rib.apply(announce(['10.1.0.0/16'], ['2001:db8:1::/48']));
  rib.markStale([4, 6], 1_000);
  assert.deepEqual(rib.expire(999), []);
  assert.deepEqual(removed(rib.expire(1_000)), [key('10.1.0.0/16'), key('2001:db8:1::/48')]);
  assert.equal(rib.accepted, 0);

  rib.apply(announce(['10.1.0.0/16'], ['2001:db8:1::/48']));
  rib.markStale([4, 6], 1_000);
  // back, F bit for IPv6 only (or no graceful restart at all: keep = [])
  assert.deepEqual(removed(rib.peerReturned([6], 2_000)), [key('10.1.0.0/16')]);
  assert.deepEqual(removed(rib.peerReturned([], 2_000)), [key('2001:db8:1::/48')]);
  assert.deepEqual([rib.accepted, rib.staleCount], [0, 0]);
});

function negotiated(over: Partial<Negotiated> = {}): Negotiated {
  return {
    peerASN: 64600, peerRouterId: 1, holdTime: 90, keepaliveTime: 30,
    families: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }],
    fourOctetAS: true, peerRouteRefresh: true, gracefulRestart: true, gracefulNotification: false, extendedNextHop: false,
    restarted: false, peerRestarted: false,
    peerGracefulRestart: { restartTime: 120, families: [{ afi: 1, safi: 1 }], forwarding: [] },
    ...over,
  };
}

test('retention rules: graceful restart negotiated, restart time > 0, the families of its capability (F bit matters only on return); a NOTIFICATION keeps it only with N and no Hard Reset', () => {
  assert.deepEqual(peerRetention(negotiated(), undefined), { families: [4], restartTime: 120 });
  assert.equal(peerRetention(undefined, undefined), undefined);
  assert.equal(peerRetention(negotiated({ gracefulRestart: false }), undefined), undefined);
  assert.equal(peerRetention(negotiated({ peerGracefulRestart: { restartTime: 0, families: [{ afi: 1, safi: 1 }], forwarding: [] } }), undefined), undefined);
  assert.equal(peerRetention(negotiated({ peerGracefulRestart: { restartTime: 120, families: [], forwarding: [] } }), undefined), undefined, 'no family in the capability: nothing kept');
  assert.equal(peerRetention(negotiated(), { code: 6, subcode: 2 }), undefined, 'NOTIFICATION without N bit ends graceful restart');
  assert.deepEqual(peerRetention(negotiated({ gracefulNotification: true }), { code: 4, subcode: 0 }), { families: [4], restartTime: 120 }, 'RFC 8538: hold timer expiry keeps it');
  assert.equal(peerRetention(negotiated({ gracefulNotification: true }), { code: 6, subcode: 9 }), undefined, 'Hard Reset');
});

test('receive side: down with retention keeps routes for the restart time (injected clock), End-of-RIB after return removes the rest', () => {
  const clock = new FakeClock();
  const emitted: RouteChange[][] = [];
  const side = new ReceiveSide(all, pino({ level: 'silent' }), (c) => emitted.push(c), clock);
  const ctx = { ebgp: false, localASN: 64600 };
  side.up(ctx, undefined);
  side.update(announce(['10.1.0.0/16', '10.2.0.0/16']));
  assert.equal(side.accepted, 2);
  emitted.length = 0;
  side.down({ families: [4], restartTime: 120 });
  assert.equal(emitted.length, 0, 'nothing leaves the kernel while the peer restarts');
  assert.deepEqual([side.stale, side.staleUntil], [2, clock.now() + 120_000]);
  clock.advance(60_000);
  side.up(ctx, undefined, { forwarding: [4] });
  assert.deepEqual([side.stale, side.staleUntil], [2, clock.now() + STALE_PATH_TIME_MS]);
  side.update(announce(['10.1.0.0/16']));
  emitted.length = 0;
  side.update(EOR6);
  assert.equal(emitted.length, 0);
  side.update(EOR4);
  assert.deepEqual(emitted.flat().map((c) => [c.key, c.path]), [[key('10.2.0.0/16'), undefined]]);
  assert.deepEqual([side.accepted, side.stale, side.staleUntil, clock.pending()], [1, 0, undefined, 0]);
});

test('receive side: the restart time runs out → stale routes removed; back without graceful restart → removed at once', () => {
  const clock = new FakeClock();
  const emitted: RouteChange[][] = [];
  const side = new ReceiveSide(all, pino({ level: 'silent' }), (c) => emitted.push(c), clock);
  const ctx = { ebgp: false, localASN: 64600 };
  side.up(ctx, undefined);
  side.update(announce(['10.1.0.0/16']));
  emitted.length = 0;
  side.down({ families: [4], restartTime: 30 });
  clock.advance(29_999);
  assert.equal(emitted.length, 0);
  clock.advance(1);
  assert.deepEqual(emitted.flat().map((c) => c.key), [key('10.1.0.0/16')]);
  assert.deepEqual([side.accepted, side.stale, clock.pending()], [0, 0, 0]);

  side.up(ctx, undefined);
  side.update(announce(['10.1.0.0/16']));
  side.down({ families: [4], restartTime: 30 });
  emitted.length = 0;
  side.up(ctx, undefined);
  assert.deepEqual(emitted.flat().map((c) => c.key), [key('10.1.0.0/16')], 'peer back without graceful restart');
  assert.deepEqual([side.accepted, clock.pending()], [0, 0]);

  side.update(announce(['10.1.0.0/16']));
  emitted.length = 0;
  side.down();
  assert.deepEqual(emitted.flat().map((c) => c.key), [key('10.1.0.0/16')], 'no retention: removed at once');
});

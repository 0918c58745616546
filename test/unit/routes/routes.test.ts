// Receive policy, Adj-RIB-In, Loc-RIB selection (ECMP) and the kernel reconciler: pure code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpdateMessage } from '../../../src/bgp/codec/messages.ts';
import { formatIP, parseIP, parsePrefix } from '../../../src/ip/index.ts';
import type { EffectiveReceive } from '../../../src/config/receive.ts';
import { AdjRibIn, routeKey } from '../../../src/routes/ribin.ts';
import type { Candidate } from '../../../src/routes/locrib.ts';
import { LocRib, selectPaths } from '../../../src/routes/locrib.ts';
import type { KernelRoute } from '../../../src/routes/kernel.ts';
import { kernelRouteOf, reconcileKernel } from '../../../src/routes/kernel.ts';

const P = (s: string) => parsePrefix(s);
/** A filtered policy as the config model builds it from FRRConfiguration toReceive. */
const filtered = (ranges: [string, number, number][], prefixLimit = 10000): EffectiveReceive => ({
  mode: 'filtered',
  prefixes: ranges.map(([p, minLength, maxLength]) => ({ prefix: P(p), minLength, maxLength })),
  prefixLimit,
});

const nlri = (s: string) => {
  const p = P(s);
  return { family: p.family, network: p.network, length: p.length };
};
function v4update(prefixes: string[], nh: string, over: Partial<UpdateMessage['attributes']> = {}, withdrawn: string[] = []): UpdateMessage {
  return {
    type: 2,
    withdrawn: withdrawn.map(nlri),
    nlri: prefixes.map(nlri),
    attributes: { origin: 0, asPath: [{ type: 2, asns: [64600] }], nextHop: { family: 4, value: parseIP(nh).value }, ...over },
  };
}
function v6update(prefixes: string[], hops: string[]): UpdateMessage {
  return {
    type: 2,
    withdrawn: [],
    nlri: [],
    attributes: {
      origin: 0,
      asPath: [{ type: 2, asns: [64600, 64601] }],
      mpReach: { afi: 2, safi: 1, nextHops: hops.map((h) => ({ family: 6 as const, value: parseIP(h).value })), nlri: prefixes.map(nlri) },
    },
  };
}
const keyOf = (s: string) => {
  const p = P(s);
  return routeKey(p.family, p.network, p.length);
};

test('Adj-RIB-In: announce, filter, withdraw (classic and MP), treat-as-withdraw, loop, counts', () => {
  const rib = new AdjRibIn(filtered([['10.0.0.0/8', 8, 24], ['2001:db8::/32', 32, 64]]), { ebgp: true, localASN: 64500 });
  let r = rib.apply(v4update(['10.1.0.0/16', '11.0.0.0/8'], '10.201.0.1', { localPref: 300, med: 5 }));
  assert.deepEqual(r.changes.map((c) => [c.key, c.path && formatIP(c.path.nextHop)]), [[keyOf('10.1.0.0/16'), '10.201.0.1']]);
  assert.equal(r.changes[0]?.path?.localPref, 100, 'LOCAL_PREF from an eBGP peer is not used');
  assert.equal(r.changes[0]?.path?.med, 5);
  assert.equal(r.changes[0]?.path?.asPathLength, 1);
  assert.deepEqual([rib.received, rib.accepted], [2, 1]);
  r = rib.apply(v6update(['2001:db8:1::/48'], ['2001:db8:201::1', 'fe80::1']));
  assert.equal(r.changes.length, 1);
  assert.equal(formatIP(r.changes[0]?.path?.nextHop ?? parseIP('::')), '2001:db8:201::1');
  assert.equal(formatIP(r.changes[0]?.path?.linkLocal ?? parseIP('::')), 'fe80::1');
  assert.equal(r.changes[0]?.path?.asPathLength, 2);
  // withdraw classic and MP
  r = rib.apply(v4update([], '10.201.0.1', {}, ['10.1.0.0/16', '11.0.0.0/8']));
  assert.deepEqual(r.changes, [{ key: keyOf('10.1.0.0/16'), path: undefined }]);
  r = rib.apply({ type: 2, withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [nlri('2001:db8:1::/48')] } } });
  assert.deepEqual(r.changes, [{ key: keyOf('2001:db8:1::/48'), path: undefined }]);
  assert.deepEqual([rib.received, rib.accepted], [0, 0]);
  // treat-as-withdraw removes what the UPDATE carried
  rib.apply(v4update(['10.2.0.0/16'], '10.201.0.1'));
  r = rib.apply(v4update(['10.2.0.0/16'], '10.201.0.1'), true);
  assert.deepEqual(r.changes, [{ key: keyOf('10.2.0.0/16'), path: undefined }]);
  // our own AS in the path (eBGP): rejected, and an accepted path for that prefix goes away
  rib.apply(v4update(['10.3.0.0/16'], '10.201.0.1'));
  r = rib.apply(v4update(['10.3.0.0/16'], '10.201.0.1', { asPath: [{ type: 2, asns: [64600, 64500] }] }));
  assert.deepEqual(r.changes, [{ key: keyOf('10.3.0.0/16'), path: undefined }]);
  assert.deepEqual([rib.received, rib.accepted], [1, 0]);
});

test('Adj-RIB-In: iBGP keeps LOCAL_PREF; over the prefix limit everything is dropped and reported', () => {
  const rib = new AdjRibIn({ mode: 'all', prefixes: [], prefixLimit: 3 }, { ebgp: false, localASN: 64500 });
  let r = rib.apply(v4update(['10.0.1.0/24', '10.0.2.0/24'], '10.201.0.1', { asPath: [], localPref: 250 }));
  assert.equal(r.changes[0]?.path?.localPref, 250);
  assert.equal(r.overLimit, undefined);
  r = rib.apply(v4update(['10.0.3.0/24'], '10.201.0.1'));
  assert.equal(r.overLimit, undefined, 'exactly the limit is allowed');
  r = rib.apply(v4update(['10.0.4.0/24', '10.0.5.0/24'], '10.201.0.1'));
  assert.deepEqual(r.overLimit, { accepted: 5, max: 3, family: 4 });
  assert.equal(rib.accepted, 0);
  // applied in order, the changes leave nothing behind
  const state = new Map<string, boolean>();
  for (const c of r.changes) state.set(c.key, c.path !== undefined);
  assert.ok([...state.values()].every((v) => !v));
});

const cand = (nh: string, over: Partial<Candidate> = {}): Candidate => ({
  prefix: P('10.9.0.0/16'),
  nextHop: parseIP(nh),
  localPref: 100,
  asPathLength: 1,
  origin: 0,
  med: 0,
  ebgp: true,
  ...over,
});

test('selection: preference order, ECMP across equal paths, deduplicated sorted next hops', () => {
  const hops = (cs: Candidate[]) => selectPaths(cs)?.nexthops.map((h) => formatIP(h.gateway));
  assert.deepEqual(hops([cand('10.0.0.2'), cand('10.0.0.1')]), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(hops([cand('10.0.0.2'), cand('10.0.0.1', { localPref: 200, ebgp: false })]), ['10.0.0.1'], 'LOCAL_PREF first');
  assert.deepEqual(hops([cand('10.0.0.2', { asPathLength: 2 }), cand('10.0.0.1')]), ['10.0.0.1'], 'shorter AS path');
  assert.deepEqual(hops([cand('10.0.0.2', { origin: 2 }), cand('10.0.0.1')]), ['10.0.0.1'], 'lower origin');
  assert.deepEqual(hops([cand('10.0.0.2', { med: 10 }), cand('10.0.0.1', { med: 5 })]), ['10.0.0.1'], 'lower MED');
  assert.deepEqual(hops([cand('10.0.0.2', { ebgp: false }), cand('10.0.0.1')]), ['10.0.0.1'], 'eBGP over iBGP');
  assert.deepEqual(hops([cand('10.0.0.1'), cand('10.0.0.1')]), ['10.0.0.1'], 'same next hop once');
  assert.equal(selectPaths([]), undefined);
  const ll = selectPaths([cand('fe80::1', { prefix: P('2001:db8::/48'), viaInterface: 'eth0' })]);
  assert.equal(ll?.nexthops[0]?.viaInterface, 'eth0', 'link-local next hops keep their interface');
});

test('Loc-RIB + reconciler: add, ECMP replace, withdraw back to one, delete; installed state drives ops', () => {
  const rib = new LocRib();
  const installed = new Map<string, KernelRoute>();
  const step = () => {
    const ops = reconcileKernel(installed, rib.takeDirty(), (k) => {
      const s = rib.selected(k);
      return s ? kernelRouteOf(s) : undefined;
    });
    for (const op of ops) {
      if (op.kind === 'delete') installed.delete(op.key);
      else installed.set(op.key, op.route);
    }
    return ops.map((o) => `${o.kind} ${o.route.dst}/${o.route.prefixLen} ${o.route.nexthops.map((h) => h.gateway).join(',')}`);
  };
  const k = keyOf('10.9.0.0/16');
  rib.set('a', k, cand('10.0.0.1'));
  assert.deepEqual(step(), ['add 10.9.0.0/16 10.0.0.1']);
  rib.set('b', k, cand('10.0.0.2'));
  assert.deepEqual(step(), ['replace 10.9.0.0/16 10.0.0.1,10.0.0.2']);
  rib.set('b', k, cand('10.0.0.2'));
  assert.deepEqual(step(), [], 'same selection: nothing to do');
  rib.set('a', k, undefined);
  assert.deepEqual(step(), ['replace 10.9.0.0/16 10.0.0.2']);
  rib.set('a', k, undefined);
  assert.deepEqual(step(), [], 'removing an absent path is a no-op');
  rib.set('b', k, undefined);
  assert.deepEqual(step(), ['delete 10.9.0.0/16 10.0.0.2']);
  assert.equal(rib.size, 0);
  // stale routes (installed, never selected) are deleted when their keys are reconciled
  installed.set(k, { family: 4, dst: '10.9.0.0', prefixLen: 16, nexthops: [{ gateway: '10.0.0.9' }] });
  assert.deepEqual(
    reconcileKernel(installed, installed.keys(), () => undefined).map((o) => o.kind),
    ['delete'],
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRib, diffRib, groupEntries, prefixKey } from '../../../../src/bgp/speaker/rib.ts';
import type { AdjRibOut, RibContext } from '../../../../src/bgp/speaker/rib.ts';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../../../src/bgp/session/open.ts';
import { parseIP, parsePrefix } from '../../../../src/ip/index.ts';
import { route } from './fakepeer.ts';

const v4 = parseIP('10.0.0.5');
const v6 = parseIP('2001:db8::5');

function at(rib: AdjRibOut, prefix: string) {
  const p = parsePrefix(prefix);
  return rib.get(prefixKey(p.family, p.network, p.length));
}

function ctx(over: Partial<RibContext> = {}): RibContext {
  return { ebgp: true, localASN: 64500, localAddress: { 4: v4 }, families: [IPV4_UNICAST], ...over };
}

test('eBGP attributes: ORIGIN ?, AS_PATH [local AS], NEXT_HOP local, no LOCAL_PREF', () => {
  const { rib, skipped } = buildRib([route('192.0.2.1/32', { localPref: 50 })], ctx());
  assert.deepEqual(skipped, []);
  const e = at(rib, '192.0.2.1/32');
  assert.deepEqual(e?.attributes, { origin: 2, asPath: [{ type: 2, asns: [64500] }], nextHop: { family: 4, value: v4.value } });
});

test('iBGP: empty AS_PATH and LOCAL_PREF (0 when not configured); route next hop wins', () => {
  const nh = parseIP('10.9.9.9');
  const { rib } = buildRib([route('192.0.2.1/32'), route('192.0.2.2/32', { localPref: 100, nextHop: nh })], ctx({ ebgp: false }));
  assert.deepEqual(at(rib, '192.0.2.1/32')?.attributes, { origin: 2, asPath: [], nextHop: { family: 4, value: v4.value }, localPref: 0 });
  assert.deepEqual(at(rib, '192.0.2.2/32')?.attributes.nextHop, { family: 4, value: nh.value });
  assert.equal(at(rib, '192.0.2.2/32')?.attributes.localPref, 100);
});

test('families: routes of a family not negotiated are skipped with a reason', () => {
  const { rib, skipped } = buildRib([route('2001:db8:1::/64')], ctx());
  assert.equal(rib.size, 0);
  assert.match(skipped[0]?.reason ?? '', /IPv6 unicast was not negotiated/);
});

test('dual-stack: IPv6 over an IPv4 session needs a real IPv6 next hop (node address or route)', () => {
  const c = ctx({ families: [IPV4_UNICAST, IPV6_UNICAST] });
  const none = buildRib([route('2001:db8:1::1/128')], c);
  assert.equal(none.rib.size, 0);
  assert.match(none.skipped[0]?.reason ?? '', /no IPv6 next hop/);
  const node = buildRib([route('2001:db8:1::1/128')], { ...c, otherAddress: { 6: v6 } });
  assert.deepEqual(at(node.rib, '2001:db8:1::1/128')?.attributes.mpReach, { afi: 2, safi: 1, nextHops: [v6], nlri: [] });
  const own = buildRib([route('2001:db8:1::1/128', { nextHop: parseIP('2001:db8::77') })], c);
  assert.equal(at(own.rib, '2001:db8:1::1/128')?.attributes.mpReach?.nextHops[0]?.value, parseIP('2001:db8::77').value);
  const wrong = buildRib([route('2001:db8:1::1/128', { nextHop: v4 })], c);
  assert.match(wrong.skipped[0]?.reason ?? '', /not an IPv6 address/);
});

test('diff: withdraw removed, announce added and changed, keep identical; grouping by attributes', () => {
  const a = buildRib([route('192.0.2.1/32'), route('192.0.2.2/32'), route('192.0.2.3/32')], ctx()).rib;
  const b = buildRib([route('192.0.2.1/32'), route('192.0.2.3/32', { communities: [7] }), route('192.0.2.4/32')], ctx()).rib;
  const d = diffRib(a, b);
  assert.deepEqual(d.withdraw.map((n) => n.network), [parseIP('192.0.2.2').value]);
  assert.equal(d.announce.length, 2, 'two attribute sets');
  assert.deepEqual(
    d.announce.map((g) => g.prefixes.length),
    [1, 1],
  );
  assert.deepEqual(diffRib(b, b), { announce: [], withdraw: [] });
  assert.equal(groupEntries(a.values()).length, 1);
  assert.equal(groupEntries(a.values())[0]?.prefixes.length, 3);
});

test('unnumbered: IPv6 and (with RFC 8950) IPv4 routes carry the link-local next hop in MP_REACH_NLRI; global first when the interface has one', () => {
  const ll = parseIP('fe80::200:ff:fe00:1');
  const global = parseIP('2001:db8:1::7');
  const both = [IPV4_UNICAST, IPV6_UNICAST];
  const routes = [route('192.0.2.1/32'), route('2001:db8:5::10/128')];
  const base = ctx({ localAddress: { 6: ll }, families: both, linkNextHops: [ll] });
  const plain = buildRib(routes, { ...base, extendedNextHop: false });
  assert.equal(plain.rib.size, 1, 'IPv4 needs the extended next hop capability');
  assert.match(plain.skipped[0]?.reason ?? '', /did not negotiate the extended next hop capability \(RFC 8950\)/);
  assert.deepEqual(at(plain.rib, '2001:db8:5::10/128')?.attributes.mpReach, { afi: 2, safi: 1, nextHops: [{ family: 6, value: ll.value }], nlri: [] });
  const enhe = buildRib(routes, { ...base, extendedNextHop: true });
  assert.deepEqual(enhe.skipped, []);
  const a4 = at(enhe.rib, '192.0.2.1/32')?.attributes;
  assert.equal(a4?.nextHop, undefined);
  assert.deepEqual(a4?.mpReach, { afi: 1, safi: 1, nextHops: [{ family: 6, value: ll.value }], nlri: [] });
  const withGlobal = buildRib(routes, { ...base, extendedNextHop: true, linkNextHops: [global, ll] });
  const hops = [
    { family: 6, value: global.value },
    { family: 6, value: ll.value },
  ];
  assert.deepEqual(at(withGlobal.rib, '192.0.2.1/32')?.attributes.mpReach?.nextHops, hops);
  assert.deepEqual(at(withGlobal.rib, '2001:db8:5::10/128')?.attributes.mpReach?.nextHops, hops);
  const unknown = buildRib(routes, { ...base, extendedNextHop: true, linkNextHops: [] });
  assert.equal(unknown.rib.size, 0);
  assert.match(unknown.skipped[0]?.reason ?? '', /link-local address on the interface is not known/);
});

// Rules cross-checked against MetalLB's own validation (internal/config): what it accepts must
// load here, what it rejects must be rejected here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfd, bgpAdv, ebgpPeer, load, peer, pool } from './helpers.ts';

test('aggregationLength on a range that is not CIDR-aligned is bounded by its widest CIDR only', () => {
  // 10.0.0.1-10.0.0.254 decomposes into /32 ... /26 pieces; the widest is a /26.
  const ok = load(pool('p', ['10.0.0.1-10.0.0.254']), bgpAdv('a', { ipAddressPools: ['p'], aggregationLength: 26 }));
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.config?.bgpAdvertisements[0]?.aggregationLength, 26);
  const bad = load(pool('p', ['10.0.0.1-10.0.0.254']), bgpAdv('a', { ipAddressPools: ['p'], aggregationLength: 25 }));
  assert.equal(bad.errors.length, 1);
  assert.equal(bad.errors[0]?.field, 'spec.aggregationLength');
  assert.match(bad.errors[0]?.message ?? '', /10\.0\.0\.(64|128)\/26/);
});

test('aggregationLengthV6 on an IPv6 range: widest CIDR of the range', () => {
  // fd00::1-fd00::ff: widest piece is fd00::80/121
  const ok = load(pool('p', ['fd00::1-fd00::ff']), bgpAdv('a', { aggregationLengthV6: 121 }));
  assert.deepEqual(ok.errors, []);
  const bad = load(pool('p', ['fd00::1-fd00::ff']), bgpAdv('a', { aggregationLengthV6: 120 }));
  assert.equal(bad.errors[0]?.field, 'spec.aggregationLengthV6');
});

test('different localPref is allowed when one advertisement has serviceSelectors (MetalLB skips the check)', () => {
  const sel = [{ matchLabels: { app: 'web' } }];
  const set = load(pool('p', ['10.0.0.0/24']), bgpAdv('a', { localPref: 100 }), bgpAdv('b', { localPref: 200, serviceSelectors: sel }));
  assert.deepEqual(set.errors, []);
  const both = load(pool('p', ['10.0.0.0/24']), bgpAdv('a', { localPref: 100, serviceSelectors: sel }), bgpAdv('b', { localPref: 200, serviceSelectors: sel }));
  assert.deepEqual(both.errors, []);
  // without serviceSelectors it is still a conflict
  const conflict = load(pool('p', ['10.0.0.0/24']), bgpAdv('a', { localPref: 100 }), bgpAdv('b', { localPref: 200 }));
  assert.equal(conflict.errors.length, 1);
  assert.equal(conflict.errors[0]?.field, 'spec.localPref');
});

test('timers that are not whole seconds are truncated like MetalLB does (warning, not error)', () => {
  const set = load(peer('r', ebgpPeer({ holdTime: '4500ms', keepaliveTime: '1.5s' })));
  assert.deepEqual(set.errors, []);
  const p = set.config?.peers[0];
  assert.equal(p?.holdTime, 4);
  assert.equal(p?.keepaliveTime, 1);
  assert.deepEqual(set.warnings.map((w) => w.field).filter((f) => f.includes('Time')).sort(), ['spec.holdTime', 'spec.keepaliveTime']);
});

test('BFD echo mode on a peer that receives IPv6 routes is rejected (MetalLB validateConfig)', () => {
  const bad = load(pool('v6', ['fd00::/120']), bfd('echo', { echoMode: true }), peer('r', ebgpPeer({ bfdProfile: 'echo' })), bgpAdv('a', {}));
  assert.deepEqual(bad.errors.map((e) => [e.kind, e.name, e.field]), [['BGPPeer', 'r', 'spec.bfdProfile']]);
  assert.match(bad.errors[0]?.message ?? '', /echoMode.*IPv6.*IPAddressPool\/v6.*BGPAdvertisement\/a/);
  // an IPv4-only pool, echo off, or the advertisement going to another peer: fine
  assert.deepEqual(load(pool('v4', ['10.0.0.0/24']), bfd('echo', { echoMode: true }), peer('r', ebgpPeer({ bfdProfile: 'echo' })), bgpAdv('a', {})).errors, []);
  assert.deepEqual(load(pool('v6', ['fd00::/120']), bfd('b', { echoMode: false }), peer('r', ebgpPeer({ bfdProfile: 'b' })), bgpAdv('a', {})).errors, []);
  assert.deepEqual(
    load(pool('v6', ['fd00::/120']), bfd('echo', { echoMode: true }), peer('r', ebgpPeer({ bfdProfile: 'echo' })), peer('s', ebgpPeer({ peerAddress: '192.0.2.9' })), bgpAdv('a', { peers: ['s'] })).errors,
    [],
  );
});

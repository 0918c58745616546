// Router discovery for unnumbered BGP: parsing the Router Advertisement FRR 8.4's zebra sends
// for `neighbor eth0 interface` (bytes captured with tcpdump -xx), building and parsing our own
// advertisements and solicitations, RFC 4861 §6.1 validity checks, and which router is the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIP, isLinkLocal, parseIP } from '../../../../src/ip/index.ts';
import { FrameError } from '../../../../src/layer2/ethernet.ts';
import { buildNeighborSolicitationFrame, icmpv6Checksum } from '../../../../src/layer2/ndp.ts';
import {
  ALL_ROUTERS,
  buildRouterAdvertisementFrame,
  buildRouterSolicitationFrame,
  parseRouterDiscoveryFrame,
} from '../../../../src/bgp/unnumbered/ndisc.ts';
import { LinkPeerTable } from '../../../../src/bgp/unnumbered/peers.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

// FRR 8.4.4 zebra, RA for a BGP unnumbered neighbor: hop limit 64, router lifetime 30 s, source link-layer option.
const FRR_RA = hex(`
  3333 0000 0001 9e2f 74b6 845f 86dd 6004
  94dc 0018 3aff fe80 0000 0000 0000 9c2f
  74ff feb6 845f ff02 0000 0000 0000 0000
  0000 0000 0001 8600 0f7e 4000 001e 0000
  0000 0000 0000 0101 9e2f 74b6 845f`);

const MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const LL = parseIP('fe80::200:ff:fe00:1');

test('the Router Advertisement of FRR zebra: its source is the BGP peer address', () => {
  const m = parseRouterDiscoveryFrame(FRR_RA);
  assert.ok(m);
  assert.equal(m.type, 'advertisement');
  assert.equal(formatIP(m.src), 'fe80::9c2f:74ff:feb6:845f');
  assert.equal(m.routerLifetime, 30);
  assert.deepEqual(m.sourceMAC, Buffer.from('9e2f74b6845f', 'hex'));
});

test('our advertisement: to all-nodes from the link-local address, hop limit 255, lifetime 0, source link-layer option; parses back', () => {
  const f = buildRouterAdvertisementFrame(LL, MAC);
  assert.deepEqual(f.subarray(0, 6), Buffer.from('333300000001', 'hex'));
  assert.deepEqual(f.subarray(6, 12), MAC);
  assert.equal(f.readUInt16BE(12), 0x86dd);
  assert.equal(f[14 + 7], 255, 'hop limit');
  assert.equal(f[14 + 6], 58, 'ICMPv6');
  assert.equal(f.readUInt16BE(14 + 4), 24, 'payload: 16-byte RA + 8-byte option');
  assert.equal(f[54], 134);
  const m = parseRouterDiscoveryFrame(f);
  assert.ok(m);
  assert.equal(m.type, 'advertisement');
  assert.equal(formatIP(m.src), formatIP(LL));
  assert.equal(m.routerLifetime, 0);
  assert.deepEqual(m.sourceMAC, MAC);
});

test('our solicitation: to all-routers (33:33:00:00:00:02), parses back', () => {
  const f = buildRouterSolicitationFrame(LL, MAC);
  assert.deepEqual(f.subarray(0, 6), Buffer.from('333300000002', 'hex'));
  assert.equal(formatIP(ALL_ROUTERS), 'ff02::2');
  const m = parseRouterDiscoveryFrame(f);
  assert.equal(m?.type, 'solicitation');
  assert.deepEqual(m?.sourceMAC, MAC);
});

test('invalid router discovery frames are refused (hop limit, code, checksum, length, non-link-local source)', () => {
  const mutate = (fn: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(FRR_RA);
    fn(b);
    return b;
  };
  assert.throws(() => parseRouterDiscoveryFrame(mutate((b) => (b[21] = 64))), /hop limit 64/);
  assert.throws(() => parseRouterDiscoveryFrame(mutate((b) => (b[55] = 1))), /code 1/);
  assert.throws(() => parseRouterDiscoveryFrame(mutate((b) => (b[60] = 0x41))), /checksum/);
  // 12-byte ICMPv6 message: shorter than an RA
  const short = mutate((b) => b.writeUInt16BE(12, 18)).subarray(0, 54 + 12);
  assert.throws(() => parseRouterDiscoveryFrame(short), /too short/);
  assert.throws(() => buildRouterAdvertisementFrame(parseIP('2001:db8::1'), MAC), FrameError);
  // an RA from a global address (valid checksum) is not a router on this link
  const global = parseIP('2001:db8::1');
  const f = buildRouterAdvertisementFrame(LL, MAC);
  Buffer.from(hex('20010db8000000000000000000000001')).copy(f, 22);
  f.writeUInt16BE(0, 56);
  f.writeUInt16BE(icmpv6Checksum(global, parseIP('ff02::1'), f.subarray(54)), 56);
  assert.throws(() => parseRouterDiscoveryFrame(f), /not a link-local/);
});

test('other IPv6 frames are not router discovery', () => {
  assert.equal(parseRouterDiscoveryFrame(buildNeighborSolicitationFrame(LL, MAC, parseIP('fe80::1'))), null);
  assert.ok(isLinkLocal(parseIP('fe80::1')) && isLinkLocal(parseIP('febf::1')));
  assert.ok(!isLinkLocal(parseIP('fec0::1')) && !isLinkLocal(parseIP('2001:db8::1')) && !isLinkLocal(parseIP('10.0.0.1')));
});

test('the peer is the first router heard; another replaces it only after the hold time of silence', () => {
  const t = new LinkPeerTable(60_000);
  const a = parseIP('fe80::a');
  const b = parseIP('fe80::b');
  assert.equal(t.peer, undefined);
  assert.equal(t.heard(a, 0), true);
  assert.equal(t.heard(a, 10_000), false, 'the same router again: no change');
  assert.equal(t.heard(b, 20_000), false, 'a second router while the first advertises: ignored');
  assert.equal(formatIP(t.peer!), 'fe80::a');
  assert.deepEqual(t.routers(20_000).map((r) => formatIP(r.address)), ['fe80::a', 'fe80::b']);
  assert.equal(t.heard(b, 70_000), false, 'a was heard 60 s ago: not yet silent for longer than the hold time');
  assert.equal(t.heard(b, 70_001), true, 'a silent for more than 60 s: b is the peer');
  assert.equal(formatIP(t.peer!), 'fe80::b');
  assert.deepEqual(t.routers(70_001).map((r) => formatIP(r.address)), ['fe80::b']);
  // silence alone never drops the peer: the BGP session does not need RAs
  assert.equal(formatIP(t.peer!), 'fe80::b');
  assert.deepEqual(t.routers(10_000_000).map((r) => formatIP(r.address)), ['fe80::b']);
});

// Byte-exact encoder tests against buffers built by hand from the RFC layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AS_TRANS,
  decodeMessage,
  extendedCommunitiesOf,
  linkBandwidth,
  parseLinkBandwidth,
  BGPEncodeError,
  encodeKeepalive,
  encodeMessage,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  encodeUpdate,
  endOfRib,
  notificationName,
  parseShutdownCommunication,
  shutdownCommunication,
  twoOctetAS,
} from '../../../../src/bgp/codec/index.ts';
import { parseIP, parsePrefix } from '../../../../src/ip/index.ts';
import type { NLRI } from '../../../../src/bgp/codec/index.ts';
import { MARKER, hex, toHex } from './helpers.ts';

const FOUR = { fourOctetAS: true };
const TWO = { fourOctetAS: false };

function pfx(s: string): NLRI {
  const p = parsePrefix(s);
  return { family: p.family, network: p.network, length: p.length };
}

function v4(s: string): { family: 4; value: bigint } {
  const ip = parseIP(s);
  assert.equal(ip.family, 4);
  return { family: 4, value: ip.value };
}

test('KEEPALIVE is 19 bytes: marker, length 0x0013, type 4', () => {
  assert.equal(toHex(encodeKeepalive()), MARKER + '0013' + '04');
  assert.equal(toHex(encodeMessage({ type: 4 }, FOUR)), MARKER + '001304');
});

test('NOTIFICATION Cease/Administrative Shutdown, with and without data', () => {
  assert.equal(toHex(encodeNotification(6, 2)), MARKER + '0015' + '03' + '0602');
  assert.equal(toHex(encodeNotification({ code: 2, subcode: 1, data: hex('0004') })), MARKER + '0017' + '03' + '0201' + '0004');
  assert.equal(toHex(encodeMessage({ type: 3, code: 4, subcode: 0, data: new Uint8Array(0) }, FOUR)), MARKER + '0015030400');
  // Oversized data is truncated so that the message stays within 4096 bytes.
  assert.equal(encodeNotification(6, 2, new Uint8Array(5000)).length, 4096);
});

test('ROUTE-REFRESH for IPv4 and IPv6 unicast (RFC 2918, RFC 7313 subtype)', () => {
  assert.equal(toHex(encodeRouteRefresh(1, 1)), MARKER + '0017' + '05' + '0001' + '00' + '01');
  assert.equal(toHex(encodeRouteRefresh(2, 1, 1)), MARKER + '0017' + '05' + '0002' + '01' + '01');
  assert.equal(toHex(encodeMessage({ type: 5, afi: 2, safi: 1, subtype: 2 }, FOUR)), MARKER + '0017050002' + '0201');
});

test('OPEN with multiprotocol, route refresh and 4-octet AS capabilities', () => {
  const bytes = encodeOpen({
    version: 4,
    myAS: 65001,
    holdTime: 90,
    bgpId: 0x0a000001,
    capabilities: [
      { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
      { code: 2, kind: 'route-refresh' },
      { code: 65, kind: 'four-octet-as', asn: 65001 },
    ],
  });
  const expected =
    MARKER +
    '002d' + // 19 + 10 + 16 = 45
    '01' +
    '04' + // version
    'fde9' + // AS 65001
    '005a' + // hold time 90
    '0a000001' + // BGP identifier 10.0.0.1
    '10' + // optional parameters length 16
    '02' + '0e' + // parameter type 2 (capabilities), length 14
    '01' + '04' + '0001' + '00' + '01' + // MP IPv4 unicast
    '02' + '00' + // route refresh
    '41' + '04' + '0000fde9'; // 4-octet AS 65001
  assert.equal(toHex(bytes), expected);
});

test('OPEN for a 4-byte ASN puts AS_TRANS in My Autonomous System; graceful restart and Cisco route refresh', () => {
  assert.equal(twoOctetAS(4200000000), AS_TRANS);
  assert.equal(twoOctetAS(64512), 64512);
  const bytes = encodeOpen({
    version: 4,
    myAS: twoOctetAS(4200000000),
    holdTime: 0,
    bgpId: 0x7f000001,
    capabilities: [
      { code: 128, kind: 'route-refresh' },
      { code: 64, kind: 'graceful-restart', restartState: true, restartTime: 120, families: [{ afi: 2, safi: 1, forwardingState: true }] },
      { code: 65, kind: 'four-octet-as', asn: 4200000000 },
      { code: 73, kind: 'unknown', data: hex('0568656c6c6f') },
    ],
  });
  const expected =
    MARKER +
    '0037' + // 19 + 10 + 26 = 55
    '01' +
    '04' + '5ba0' + '0000' + '7f000001' +
    '1a' + // 26
    '02' + '18' + // 2 + 8 + 6 + 8 = 24
    '80' + '00' +
    '40' + '06' + '8078' + '0002' + '01' + '80' + // R bit + 120 s, IPv6 unicast with F bit
    '41' + '04' + 'fa56ea00' +
    '49' + '06' + '0568656c6c6f';
  assert.equal(toHex(bytes), expected);
});

test('OPEN with more than 255 bytes of capabilities uses RFC 9072 extended parameters', () => {
  const caps = Array.from({ length: 70 }, (_, i) => ({ code: 1 as const, kind: 'multiprotocol' as const, afi: 1, safi: i + 1 }));
  const bytes = encodeOpen({ version: 4, myAS: 65001, holdTime: 90, bgpId: 1, capabilities: caps });
  // 70 capabilities of 6 bytes = 420 bytes: split into a 252-byte and a 168-byte parameter.
  assert.equal(bytes[28], 255); // non-extended length field
  assert.equal(bytes[29], 255); // extended marker
  assert.equal((bytes[30]! << 8) | bytes[31]!, 3 + 252 + 3 + 168);
  assert.equal(toHex(bytes.subarray(32, 35)), '0200fc');
  assert.equal(bytes.length, 19 + 10 + 3 + 3 + 252 + 3 + 168);
});

test('UPDATE with ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF, COMMUNITIES and one /32 (4-octet session)', () => {
  const bytes = encodeUpdate(
    {
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [{ type: 2, asns: [65001] }],
        nextHop: v4('192.0.2.1'),
        localPref: 100,
        communities: [0xffffff02],
      },
      nlri: [pfx('198.51.100.10/32')],
    },
    FOUR,
  );
  const expected =
    MARKER +
    '003e' + // 19 + 2 + 2 + 34 + 5 = 62
    '02' +
    '0000' + // withdrawn routes length
    '0022' + // total path attribute length 34
    '40010100' + // ORIGIN IGP
    '4002060201' + '0000fde9' + // AS_PATH AS_SEQUENCE [65001]
    '400304c0000201' + // NEXT_HOP 192.0.2.1
    '40050400000064' + // LOCAL_PREF 100
    'c00804ffffff02' + // COMMUNITIES NO_ADVERTISE
    '20c633640a'; // 198.51.100.10/32
  assert.equal(toHex(bytes), expected);
});

test('UPDATE on a 2-octet session: AS_TRANS in AS_PATH/AGGREGATOR plus AS4_PATH/AS4_AGGREGATOR', () => {
  const bytes = encodeUpdate(
    {
      withdrawn: [pfx('10.0.0.0/8')],
      attributes: {
        origin: 2,
        asPath: [{ type: 2, asns: [65001, 4200000000] }],
        med: 5,
        atomicAggregate: true,
        aggregator: { asn: 4200000000, address: v4('10.0.0.1').value },
      },
      nlri: [],
    },
    TWO,
  );
  const attrs =
    '40010102' + // ORIGIN INCOMPLETE
    '40020602' + '02' + 'fde9' + '5ba0' + // AS_PATH [65001, AS_TRANS]
    '80040400000005' + // MED 5
    '400600' + // ATOMIC_AGGREGATE
    'c00706' + '5ba0' + '0a000001' + // AGGREGATOR AS_TRANS 10.0.0.1
    'c0110a' + '0202' + '0000fde9' + 'fa56ea00' + // AS4_PATH [65001, 4200000000]
    'c01208' + 'fa56ea00' + '0a000001'; // AS4_AGGREGATOR
  const attrLen = attrs.length / 2;
  const total = 19 + 2 + 2 + 2 + attrLen;
  assert.equal(toHex(bytes), MARKER + total.toString(16).padStart(4, '0') + '02' + '0002' + '080a' + attrLen.toString(16).padStart(4, '0') + attrs);
});

test('UPDATE with MP_REACH_NLRI (IPv6, global + link-local next hop), LARGE_COMMUNITIES, unknown attribute', () => {
  const nh = parseIP('2001:db8::1').value;
  const ll = parseIP('fe80::1').value;
  const bytes = encodeUpdate(
    {
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [],
        largeCommunities: [[64512, 1, 2]],
        mpReach: { afi: 2, safi: 1, nextHops: [{ family: 6, value: nh }, { family: 6, value: ll }], nlri: [pfx('2001:db8:1::/48')] },
        unknown: [{ flags: 0xc0, type: 99, value: hex('abcd') }],
      },
      nlri: [],
    },
    FOUR,
  );
  const mp = '0002' + '01' + '20' + '20010db8000000000000000000000001' + 'fe800000000000000000000000000001' + '00' + '30' + '20010db80001';
  const attrs =
    '800e' + (mp.length / 2).toString(16).padStart(2, '0') + mp + // MP_REACH_NLRI first (RFC 7606 §5.1)
    '40010100' +
    '400200' + // empty AS_PATH (iBGP)
    'c0200c' + '0000fc00' + '00000001' + '00000002' +
    'e06302abcd'; // unknown optional transitive: Partial bit added
  const attrLen = attrs.length / 2;
  assert.equal(toHex(bytes), MARKER + (23 + attrLen).toString(16).padStart(4, '0') + '02' + '0000' + attrLen.toString(16).padStart(4, '0') + attrs);
});

test('attribute longer than 255 bytes uses the extended length flag', () => {
  const communities = Array.from({ length: 100 }, (_, i) => 0xfde90000 + i);
  const bytes = encodeUpdate({ withdrawn: [], attributes: { communities }, nlri: [] }, FOUR);
  assert.equal(toHex(bytes.subarray(23, 27)), 'd0080190'); // flags 0xC0|0x10, type 8, length 400
  assert.equal(bytes.length, 23 + 4 + 400);
});

test('End-of-RIB: IPv4 is an empty UPDATE, IPv6 an empty MP_UNREACH_NLRI', () => {
  assert.equal(toHex(endOfRib(4, FOUR)), MARKER + '0017' + '02' + '0000' + '0000');
  assert.equal(toHex(endOfRib(6, FOUR)), MARKER + '001d' + '02' + '0000' + '0006' + '800f03' + '000201');
});

test('invalid input throws BGPEncodeError', () => {
  const bad: (() => unknown)[] = [
    () => encodeUpdate({ withdrawn: [], attributes: {}, nlri: [{ family: 4, network: 0x0a000001n, length: 8 }] }, FOUR),
    () => encodeUpdate({ withdrawn: [], attributes: {}, nlri: [{ family: 4, network: 0n, length: 33 }] }, FOUR),
    () => encodeUpdate({ withdrawn: [], attributes: {}, nlri: [pfx('2001:db8::/32')] }, FOUR),
    () => encodeUpdate({ withdrawn: [], attributes: { origin: 3 }, nlri: [] }, FOUR),
    () => encodeUpdate({ withdrawn: [], attributes: { med: -1 }, nlri: [] }, FOUR),
    () => encodeUpdate({ withdrawn: [], attributes: { unknown: [{ flags: 0xc0, type: 8, value: new Uint8Array(4) }] }, nlri: [] }, FOUR),
    () => encodeUpdate({ withdrawn: [], attributes: { communities: Array.from({ length: 1100 }, () => 1) }, nlri: [] }, FOUR),
    () => encodeOpen({ version: 4, myAS: 70000, holdTime: 90, bgpId: 1, capabilities: [] }),
    () => encodeRouteRefresh(65536, 1),
  ];
  for (const f of bad) assert.throws(f, (e: unknown) => e instanceof BGPEncodeError && e.code === 'ERR_BGP_ENCODE');
});

test('notificationName covers RFC 4271, RFC 4486, RFC 5492, RFC 7313', () => {
  assert.equal(notificationName(6, 2), 'Cease/Administrative Shutdown');
  assert.equal(notificationName(1, 1), 'Message Header Error/Connection Not Synchronized');
  assert.equal(notificationName(1, 2), 'Message Header Error/Bad Message Length');
  assert.equal(notificationName(1, 3), 'Message Header Error/Bad Message Type');
  assert.equal(notificationName(2, 7), 'OPEN Message Error/Unsupported Capability');
  assert.equal(notificationName(2, 6), 'OPEN Message Error/Unacceptable Hold Time');
  assert.equal(notificationName(3, 11), 'UPDATE Message Error/Malformed AS_PATH');
  assert.equal(notificationName(4, 0), 'Hold Timer Expired');
  assert.equal(notificationName(5, 0), 'Finite State Machine Error/Unspecified Error');
  assert.equal(notificationName(7, 1), 'ROUTE-REFRESH Message Error/Invalid Message Length');
  assert.equal(notificationName(6, 0), 'Cease');
  assert.equal(notificationName(6, 99), 'Cease/Unknown Subcode 99');
  assert.equal(notificationName(42, 1), 'Unknown Error Code 42/1');
  for (let s = 1; s <= 8; s++) assert.doesNotMatch(notificationName(6, s), /Unknown/);
  for (const s of [1, 2, 3, 4, 6, 7]) assert.doesNotMatch(notificationName(2, s), /Unknown/);
  for (let s = 1; s <= 11; s++) assert.doesNotMatch(notificationName(3, s), /Unknown/);
});

test('RFC 9003 shutdown communication in Cease NOTIFICATION data', () => {
  assert.equal(toHex(shutdownCommunication('bye')), '03627965');
  assert.equal(toHex(encodeNotification(6, 2, shutdownCommunication('bye'))), MARKER + '0019' + '03' + '0602' + '03627965');
  assert.equal(parseShutdownCommunication(hex('03627965')), 'bye');
  assert.equal(parseShutdownCommunication(hex('0562')), undefined); // truncated
  assert.equal(parseShutdownCommunication(hex('02c328')), undefined); // invalid UTF-8
  assert.equal(parseShutdownCommunication(new Uint8Array(0)), undefined);
  const long = shutdownCommunication('é'.repeat(200)); // 400 bytes of UTF-8: cut at 254 (a boundary)
  assert.equal(long[0], 254);
  assert.equal(parseShutdownCommunication(long), 'é'.repeat(127));
});

test('AS_PATH segments longer than 255 ASNs are split into consecutive segments', () => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + i);
  const bytes = encodeUpdate({ withdrawn: [], attributes: { asPath: [{ type: 2, asns }] }, nlri: [] }, FOUR);
  // flags 0x50 (extended length), type 2, length 2 + 255*4 + 2 + 45*4 = 1204
  assert.equal(toHex(bytes.subarray(23, 29)), '500204b402ff');
  assert.equal(toHex(bytes.subarray(29 + 255 * 4, 31 + 255 * 4)), '022d');
});

test('link bandwidth extended community (draft-ietf-idr-link-bandwidth): 0x40 0x04, AS, IEEE float bytes/s', () => {
  // 125000 bytes/s = 1 Mbit/s = float 0x47f42400; AS 64720 = 0xfcd0
  assert.equal(linkBandwidth(64720, 125000), 0x4004fcd047f42400n);
  // a 4-octet AS is written as AS_TRANS (23456 = 0x5ba0)
  assert.equal(linkBandwidth(4200000000, 375000), 0x40045ba048b71b00n);
  assert.deepEqual(parseLinkBandwidth(0x4004fcd047f42400n), { asn: 64720, bytesPerSecond: 125000, transitive: false });
  assert.equal(parseLinkBandwidth(0x0002fcd000000064n), undefined); // a route target
  // in an UPDATE: EXTENDED_COMMUNITIES, optional transitive (0xc0), Partial clear, 8 octets
  const bytes = encodeUpdate(
    { withdrawn: [], attributes: { origin: 2, asPath: [{ type: 2, asns: [64720] }], nextHop: { family: 4, value: 0x0ac90065n }, extendedCommunities: [linkBandwidth(64720, 375000)] }, nlri: [{ family: 4, network: 0xc633644dn, length: 32 }] },
    { fourOctetAS: true },
  );
  assert.match(toHex(bytes), /c010084004fcd048b71b00/);
  const r = decodeMessage(2, bytes.subarray(19), { fourOctetAS: true, ebgp: true });
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok' && r.message.type === 2) {
    assert.deepEqual(extendedCommunitiesOf(r.message.attributes), [0x4004fcd048b71b00n]);
    assert.deepEqual(parseLinkBandwidth(extendedCommunitiesOf(r.message.attributes)[0] ?? 0n), { asn: 64720, bytesPerSecond: 375000, transitive: false });
  }
});

// Every check of the error-handling table in docs/bgp-codec.md: malformed input → outcome
// (session reset with NOTIFICATION code/subcode, treat-as-withdraw, attribute discard).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeUpdate } from '../../../../src/bgp/codec/index.ts';
import type { CodecOptions, DecodeResult } from '../../../../src/bgp/codec/index.ts';
import { AS_PATH_65001, MANDATORY, NEXT_HOP_192_0_2_1, NLRI_ONE, ORIGIN_IGP, attr, concat, hex, toHex, updateBody } from './helpers.ts';

const FOUR: CodecOptions = { fourOctetAS: true };
const TWO: CodecOptions = { fourOctetAS: false };
const NONE = new Uint8Array(0);

function upd(attrs: Uint8Array, nlri: Uint8Array = NLRI_ONE, opts: CodecOptions = FOUR, withdrawn: Uint8Array = NONE): DecodeResult {
  return decodeMessage(2, updateBody(withdrawn, attrs, nlri), opts);
}

function expectError(r: DecodeResult, code: number, subcode: number, data?: string): void {
  assert.equal(r.kind, 'error', `expected error ${code}/${subcode}, got ${r.kind}${'reason' in r ? ': ' + r.reason : ''}`);
  if (r.kind !== 'error') return;
  assert.equal(r.notification.code, code, r.reason);
  assert.equal(r.notification.subcode, subcode, r.reason);
  if (data !== undefined) assert.equal(toHex(r.notification.data), data);
  assert.ok(r.reason.length > 0);
}

function expectWithdraw(r: DecodeResult, re?: RegExp): void {
  assert.equal(r.kind, 'treat-as-withdraw', `expected treat-as-withdraw, got ${r.kind}${'reason' in r ? ': ' + r.reason : ''}`);
  if (r.kind === 'treat-as-withdraw' && re) assert.match(r.reason, re);
}

function expectDiscard(r: DecodeResult, types: number[]): void {
  assert.equal(r.kind, 'ok', `expected ok with discard, got ${r.kind}${'reason' in r ? ': ' + r.reason : ''}`);
  if (r.kind === 'ok') assert.deepEqual(r.discarded, types);
}

// ---------------------------------------------------------------------------------------------
// Header-level errors reachable through decodeMessage directly

test('decodeMessage: unknown type → 1/3 with the type as data; short bodies → 1/2', () => {
  expectError(decodeMessage(9, NONE, FOUR), 1, 3, '09');
  expectError(decodeMessage(4, hex('00'), FOUR), 1, 2, '0014');
  expectError(decodeMessage(3, hex('06'), FOUR), 1, 2, '0014');
  expectError(decodeMessage(1, hex('04fde9'), FOUR), 1, 2, '0016');
  expectError(decodeMessage(2, hex('0000'), FOUR), 1, 2, '0015');
  expectError(decodeMessage(5, hex('000100'), FOUR), 1, 2, '0016');
});

// ---------------------------------------------------------------------------------------------
// OPEN (RFC 4271 §6.2, RFC 5492, RFC 7607, RFC 9072)

function open(version = 4, as = 0xfde9, hold = 90, id = 0x0a000001, params = hex('00')): Uint8Array {
  return concat(Uint8Array.of(version, as >> 8, as & 0xff, hold >> 8, hold & 0xff, id >>> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff), params);
}

test('OPEN: valid message with capabilities decodes', () => {
  const r = decodeMessage(1, open(4, 65001, 90, 0x0a000001, hex('10 02 0e 0104 00010001 0200 4104 0000fde9')), FOUR);
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok' || r.message.type !== 1) return;
  assert.deepEqual(r.message, {
    type: 1,
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
});

test('OPEN: unsupported version → 2/1 with the supported version (4) as data', () => {
  expectError(decodeMessage(1, open(3), FOUR), 2, 1, '0004');
  expectError(decodeMessage(1, open(5), FOUR), 2, 1, '0004');
});

test('OPEN: AS 0 → 2/2 Bad Peer AS (RFC 7607), also in the 4-octet AS capability', () => {
  expectError(decodeMessage(1, open(4, 0), FOUR), 2, 2);
  expectError(decodeMessage(1, open(4, 23456, 90, 1, hex('08 02 06 4104 00000000')), FOUR), 2, 2);
});

test('OPEN: hold time 1 or 2 → 2/6; 0 and 3 are acceptable', () => {
  expectError(decodeMessage(1, open(4, 65001, 1), FOUR), 2, 6);
  expectError(decodeMessage(1, open(4, 65001, 2), FOUR), 2, 6);
  assert.equal(decodeMessage(1, open(4, 65001, 0), FOUR).kind, 'ok');
  assert.equal(decodeMessage(1, open(4, 65001, 3), FOUR).kind, 'ok');
});

test('OPEN: BGP identifier 0 → 2/3', () => {
  expectError(decodeMessage(1, open(4, 65001, 90, 0), FOUR), 2, 3);
});

test('OPEN: optional parameter other than Capabilities → 2/4', () => {
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('04 01 02 0000')), FOUR), 2, 4);
});

test('OPEN: malformed optional parameters/capabilities → 2/0', () => {
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('05 02 02 0200')), FOUR), 2, 0); // length mismatch
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('03 02 05 02')), FOUR), 2, 0); // parameter overruns
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('04 02 02 0205')), FOUR), 2, 0); // capability overruns
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('07 02 05 0103 000101')), FOUR), 2, 0); // MP length 3
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('05 02 03 4001 00')), FOUR), 2, 0); // GR length 1
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('07 02 05 4103 000001')), FOUR), 2, 0); // 4-octet length 3
});

test('OPEN: unknown capabilities are preserved, Cisco route refresh (128) accepted', () => {
  const r = decodeMessage(1, open(4, 65001, 90, 1, hex('0b 02 09 4603 010203 8000 4600')), FOUR);
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok' || r.message.type !== 1) return;
  assert.deepEqual(r.message.capabilities, [
    { code: 70, kind: 'unknown', data: hex('010203') },
    { code: 128, kind: 'route-refresh' },
    { code: 70, kind: 'unknown', data: new Uint8Array(0) },
  ]);
});

test('OPEN: RFC 9072 extended optional parameters are decoded', () => {
  const r = decodeMessage(1, open(4, 65001, 90, 1, hex('ff ff 0009 02 0006 0104 00020001')), FOUR);
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok' && r.message.type === 1) assert.deepEqual(r.message.capabilities, [{ code: 1, kind: 'multiprotocol', afi: 2, safi: 1 }]);
  expectError(decodeMessage(1, open(4, 65001, 90, 1, hex('ff ff 0010 02 0006 0104 00020001')), FOUR), 2, 0);
});

// ---------------------------------------------------------------------------------------------
// ROUTE-REFRESH (RFC 2918, RFC 7313)

test('ROUTE-REFRESH: subtypes 1/2 with a wrong length → 7/1 with the whole message as data', () => {
  expectError(decodeMessage(5, hex('0001 01 01 00'), FOUR), 7, 1, 'ffffffffffffffffffffffffffffffff' + '0018' + '05' + '0001010100');
  const orf = decodeMessage(5, hex('0001 00 01 01 02 03'), FOUR); // subtype 0 with ORF entries: ignored
  assert.equal(orf.kind, 'ok');
  if (orf.kind === 'ok') assert.deepEqual(orf.message, { type: 5, afi: 1, subtype: 0, safi: 1 });
});

// ---------------------------------------------------------------------------------------------
// UPDATE: session reset

test('UPDATE: withdrawn routes length or total attribute length beyond the message → 3/1', () => {
  expectError(decodeMessage(2, hex('0010 0000'), FOUR), 3, 1);
  expectError(decodeMessage(2, hex('0000 0010 400101'), FOUR), 3, 1);
  expectError(decodeMessage(2, hex('0001'), FOUR), 1, 2);
});

test('UPDATE: NLRI / withdrawn routes syntax errors → 3/10 Invalid Network Field', () => {
  expectError(upd(MANDATORY, hex('21 0a000000 00')), 3, 10); // /33
  expectError(upd(MANDATORY, hex('18 0a00')), 3, 10); // /24 with 2 bytes
  expectError(upd(NONE, NONE, FOUR, hex('21 0a0000000a')), 3, 10);
  expectError(upd(NONE, NONE, FOUR, hex('10 0a')), 3, 10);
});

test('UPDATE: MP_REACH_NLRI / MP_UNREACH_NLRI malformed → session reset 3/9, flags → 3/4, duplicate → 3/1', () => {
  const nh16 = '20010db8000000000000000000000001';
  // next hop length 5 for IPv6
  expectError(upd(concat(ORIGIN_IGP, AS_PATH_65001, attr(0x80, 14, hex('0002 01 05 0102030405 00'))), NONE), 3, 9);
  // next hop overruns the attribute
  expectError(upd(concat(ORIGIN_IGP, AS_PATH_65001, attr(0x80, 14, hex('0002 01 20 00'))), NONE), 3, 9);
  // NLRI overruns
  expectError(upd(concat(ORIGIN_IGP, AS_PATH_65001, attr(0x80, 14, hex('0002 01 10' + nh16 + '00 40 2001'))), NONE), 3, 9);
  // prefix length 129
  expectError(upd(concat(ORIGIN_IGP, AS_PATH_65001, attr(0x80, 14, hex('0002 01 10' + nh16 + '00 81' + nh16 + '00'))), NONE), 3, 9);
  // too short
  expectError(upd(attr(0x80, 14, hex('0002')), NONE), 3, 9);
  expectError(upd(attr(0x80, 15, hex('0002')), NONE), 3, 9);
  expectError(upd(attr(0x80, 15, hex('0002 01 81')), NONE), 3, 9);
  // flags: MP_REACH marked transitive
  expectError(upd(concat(ORIGIN_IGP, AS_PATH_65001, attr(0xc0, 14, hex('0002 01 10' + nh16 + '00'))), NONE), 3, 4);
  // appears twice
  expectError(upd(concat(attr(0x80, 15, hex('000201')), attr(0x80, 15, hex('000201'))), NONE), 3, 1);
});

test('UPDATE: unrecognized well-known attribute → 3/2 with the attribute as data', () => {
  expectError(upd(concat(MANDATORY, attr(0x40, 99, hex('01')))), 3, 2, '406301' + '01');
});

test('UPDATE: session reset wins over treat-as-withdraw found earlier', () => {
  expectError(upd(concat(hex('40 01 01 07'), attr(0x80, 15, hex('0002'))), NLRI_ONE), 3, 9);
});

// ---------------------------------------------------------------------------------------------
// UPDATE: treat-as-withdraw (RFC 7606)

test('UPDATE: attribute overrunning the attribute list / trailing bytes → treat-as-withdraw (RFC 7606 §4)', () => {
  expectWithdraw(upd(concat(MANDATORY, hex('c0 08 08 ffffff02'))), /overruns/);
  expectWithdraw(upd(concat(MANDATORY, hex('c0 08'))), /overruns/);
  expectWithdraw(upd(concat(MANDATORY, hex('d0 08 00'))), /overruns/);
  const r = upd(concat(MANDATORY, hex('c0 08 08 ffffff02')));
  if (r.kind === 'treat-as-withdraw') assert.equal(r.message.nlri.length, 1); // NLRI still located
});

test('UPDATE: ORIGIN errors → treat-as-withdraw', () => {
  expectWithdraw(upd(concat(hex('40 01 02 0000'), AS_PATH_65001, NEXT_HOP_192_0_2_1)), /ORIGIN length/);
  expectWithdraw(upd(concat(hex('40 01 01 03'), AS_PATH_65001, NEXT_HOP_192_0_2_1)), /ORIGIN value/);
  expectWithdraw(upd(concat(hex('c0 01 01 00'), AS_PATH_65001, NEXT_HOP_192_0_2_1)), /flags/);
});

test('UPDATE: AS_PATH errors → treat-as-withdraw', () => {
  const bad = ['40 02 06 05 01 0000fde9', '40 02 02 02 00', '40 02 06 02 02 0000fde9', '40 02 01 02', '80 02 06 02 01 0000fde9', '40 02 06 02 01 00000000'];
  for (const a of bad) expectWithdraw(upd(concat(ORIGIN_IGP, hex(a), NEXT_HOP_192_0_2_1)));
  // A 2-octet AS_PATH read on a 4-octet session is malformed too.
  expectWithdraw(upd(concat(ORIGIN_IGP, hex('40 02 06 02 02 fde9 fdea'), NEXT_HOP_192_0_2_1), NLRI_ONE, FOUR));
  assert.equal(upd(concat(ORIGIN_IGP, hex('40 02 06 02 02 fde9 fdea'), NEXT_HOP_192_0_2_1), NLRI_ONE, TWO).kind, 'ok');
});

test('UPDATE: NEXT_HOP errors → treat-as-withdraw', () => {
  for (const nh of ['40 03 05 c000020100', '40 03 04 00000000', '40 03 04 e0000001', '40 03 04 ffffffff', 'c0 03 04 c0000201']) {
    expectWithdraw(upd(concat(ORIGIN_IGP, AS_PATH_65001, hex(nh))));
  }
});

test('UPDATE: MED, LOCAL_PREF, COMMUNITIES, LARGE_COMMUNITIES errors → treat-as-withdraw', () => {
  for (const a of [
    '80 04 03 000001',
    '40 04 04 00000001', // MED flagged well-known
    '40 05 02 0064',
    '80 05 04 00000064', // LOCAL_PREF flagged optional
    'c0 08 03 ffffff',
    'c0 08 00',
    '40 08 04 ffffff02',
    'c0 20 08 0000fde900000001',
    'c0 20 00',
    '80 20 0c 0000fde9 00000001 00000002',
  ]) {
    expectWithdraw(upd(concat(MANDATORY, hex(a))));
  }
});

test('UPDATE: missing well-known mandatory attributes with NLRI → treat-as-withdraw', () => {
  expectWithdraw(upd(concat(AS_PATH_65001, NEXT_HOP_192_0_2_1)), /missing well-known attribute 1/);
  expectWithdraw(upd(concat(ORIGIN_IGP, NEXT_HOP_192_0_2_1)), /missing well-known attribute 2/);
  expectWithdraw(upd(concat(ORIGIN_IGP, AS_PATH_65001)), /missing well-known attribute 3/);
  // MP_REACH_NLRI needs ORIGIN and AS_PATH, but not NEXT_HOP.
  const mp = attr(0x80, 14, hex('0002 01 10 20010db8000000000000000000000001 00 30 20010db80001'));
  expectWithdraw(upd(concat(ORIGIN_IGP, mp), NONE), /missing well-known attribute 2/);
  assert.equal(upd(concat(mp, ORIGIN_IGP, AS_PATH_65001), NONE).kind, 'ok');
  // Without NLRI nothing is mandatory: a pure withdrawal.
  assert.equal(upd(NONE, NONE, FOUR, NLRI_ONE).kind, 'ok');
});

// ---------------------------------------------------------------------------------------------
// UPDATE: attribute discard

test('UPDATE: duplicate attributes other than MP_* → later copies discarded (RFC 7606 §3.g)', () => {
  const r = upd(concat(MANDATORY, hex('40 01 01 02')));
  expectDiscard(r, [1]);
  if (r.kind === 'ok' && r.message.type === 2) assert.equal(r.message.attributes.origin, 0);
});

test('UPDATE: ATOMIC_AGGREGATE / AGGREGATOR errors → attribute discard', () => {
  expectDiscard(upd(concat(MANDATORY, hex('40 06 01 00'))), [6]);
  expectDiscard(upd(concat(MANDATORY, hex('c0 06 00'))), [6]);
  expectDiscard(upd(concat(MANDATORY, hex('c0 07 06 fde9 0a000001'))), [7]); // 4-octet session wants 8
  expectDiscard(upd(concat(MANDATORY, hex('c0 07 08 00000000 0a000001'))), [7]); // AS 0
  expectDiscard(upd(concat(MANDATORY, hex('80 07 08 0000fde9 0a000001'))), [7]); // flags
});

test('UPDATE: AS4_PATH / AS4_AGGREGATOR errors → attribute discard; from a 4-octet peer → discarded', () => {
  const two = concat(ORIGIN_IGP, hex('40 02 04 02 01 5ba0'), NEXT_HOP_192_0_2_1);
  expectDiscard(upd(concat(two, hex('c0 11 05 02 01 0000fd')), NLRI_ONE, TWO), [17]);
  expectDiscard(upd(concat(two, hex('c0 11 06 03 01 0000fde9')), NLRI_ONE, TWO), [17]); // confed segment
  expectDiscard(upd(concat(two, hex('c0 12 06 0000fde9 0a00')), NLRI_ONE, TWO), [18]);
  expectDiscard(upd(concat(two, hex('c0 11 02 02 00')), NLRI_ONE, TWO), [17]); // empty segment
  expectDiscard(upd(concat(two, hex('c0 11 06 02 01 00000000')), NLRI_ONE, TWO), [17]); // AS 0
  expectDiscard(upd(concat(MANDATORY, hex('c0 11 06 02 01 fa56ea00'))), [17]); // 4-octet session ignores AS4_PATH
  expectDiscard(upd(concat(MANDATORY, hex('c0 12 08 fa56ea00 0a000001'))), [18]); // ... and AS4_AGGREGATOR
  const r = upd(concat(two, hex('c0 11 06 02 01 fa56ea00')), NLRI_ONE, TWO);
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok' && r.message.type === 2) assert.deepEqual(r.message.attributes.asPath, [{ type: 2, asns: [4200000000] }]);
});

test('UPDATE: AS4_PATH longer than AS_PATH is ignored; AGGREGATOR not AS_TRANS makes AS4_* ignored', () => {
  const base = concat(ORIGIN_IGP, hex('40 02 04 02 01 5ba0'), NEXT_HOP_192_0_2_1);
  const r = upd(concat(base, hex('c0 11 0a 02 02 fa56ea00 fa56ea01')), NLRI_ONE, TWO);
  expectDiscard(r, [17]);
  if (r.kind === 'ok' && r.message.type === 2) assert.deepEqual(r.message.attributes.asPath, [{ type: 2, asns: [23456] }]);
  const r2 = upd(concat(base, hex('c0 07 06 fde9 0a000001 c0 11 06 02 01 fa56ea00 c0 12 08 fa56ea00 0a000001')), NLRI_ONE, TWO);
  expectDiscard(r2, [18, 17]);
  if (r2.kind === 'ok' && r2.message.type === 2) {
    assert.deepEqual(r2.message.attributes.aggregator, { asn: 65001, address: 0x0a000001n });
    assert.deepEqual(r2.message.attributes.asPath, [{ type: 2, asns: [23456] }]);
  }
});

test('UPDATE: AS4_PATH merge keeps the leading ASes a 2-octet speaker prepended (RFC 6793 §4.2.3)', () => {
  // AS_PATH [65010, 65001, AS_TRANS], AS4_PATH [65001, 4200000000] → [65010, 65001, 4200000000]
  const a = concat(ORIGIN_IGP, hex('40 02 08 02 03 fdf2 fde9 5ba0'), NEXT_HOP_192_0_2_1, hex('c0 11 0a 02 02 0000fde9 fa56ea00'));
  const r = upd(a, NLRI_ONE, TWO);
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok' && r.message.type === 2) assert.deepEqual(r.message.attributes.asPath, [{ type: 2, asns: [65010, 65001, 4200000000] }]);
});

test('UPDATE: MP_REACH_NLRI for an unsupported AFI/SAFI is ignored (attribute discard)', () => {
  expectDiscard(upd(attr(0x80, 14, hex('0001 80 04 0a000001 00')), NONE), [14]);
  expectDiscard(upd(attr(0x80, 15, hex('0019 46')), NONE), [15]);
});

test('UPDATE: unknown optional attributes are kept opaque and re-encoded with the Partial bit', () => {
  const r = upd(concat(MANDATORY, attr(0xc0, 99, hex('abcd')), attr(0x80, 98, hex('01'))));
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok' || r.message.type !== 2) return;
  assert.deepEqual(r.message.attributes.unknown, [
    { flags: 0xc0, type: 99, value: hex('abcd') },
    { flags: 0x80, type: 98, value: hex('01') },
  ]);
  const again = encodeUpdate(r.message, FOUR);
  const s = toHex(again);
  assert.ok(s.includes('e06302abcd'), s); // optional transitive: Partial set
  assert.ok(s.includes('80620101'), s); // optional non-transitive: unchanged
});

test('UPDATE: extended-length attributes decode', () => {
  const r = upd(concat(hex('50 01 0001 00'), hex('50 02 0006 02 01 0000fde9'), hex('50 03 0004 c0000201')));
  assert.equal(r.kind, 'ok');
});

test('UPDATE: LOCAL_PREF from an external peer is discarded (RFC 7606 §7.5)', () => {
  const r = upd(concat(MANDATORY, hex('40 05 04 00000064')), NLRI_ONE, { fourOctetAS: true, ebgp: true });
  expectDiscard(r, [5]);
  if (r.kind === 'ok' && r.message.type === 2) assert.equal(r.message.attributes.localPref, undefined);
  const i = upd(concat(MANDATORY, hex('40 05 04 00000064')));
  assert.equal(i.kind === 'ok' && i.message.type === 2 && i.message.attributes.localPref, 100);
});

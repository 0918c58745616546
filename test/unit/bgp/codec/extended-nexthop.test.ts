// RFC 8950: the extended next hop capability (code 5) and IPv4 NLRI with IPv6 next hops in
// MP_REACH_NLRI (AFI 1), byte-exact against the RFC layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BGPEncodeError, MessageFramer, decodeMessage, encodeOpen, packUpdates } from '../../../../src/bgp/codec/index.ts';
import type { NLRI, OpenMessage, PathAttributes, UpdateMessage } from '../../../../src/bgp/codec/index.ts';
import { hex, toHex } from './helpers.ts';

const FOUR = { fourOctetAS: true };
const LL = 0xfe80000000000000020000fffe000001n; // fe80::200:ff:fe00:1
const GLOBAL = (0x20010db8n << 96n) | 1n; // 2001:db8::1

function decodeAll(bytes: Uint8Array[]): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  for (const b of bytes) {
    const f = new MessageFramer();
    f.push(b);
    const fr = f.next();
    assert.ok(fr && fr.kind === 'frame');
    const r = decodeMessage(fr.type, fr.body, FOUR);
    assert.equal(r.kind, 'ok', r.kind === 'ok' ? '' : r.reason);
    if (r.kind === 'ok' && r.message.type === 2) out.push(r.message);
  }
  return out;
}

test('extended next hop capability: encoded as code 5 with AFI/SAFI/next hop AFI triples and decoded back', () => {
  const open: Omit<OpenMessage, 'type'> = {
    version: 4,
    myAS: 64500,
    holdTime: 90,
    bgpId: 0x0a000001,
    capabilities: [{ code: 5, kind: 'extended-nexthop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }],
  };
  const bytes = encodeOpen(open);
  // optional parameters length 10; parameter 2 (capabilities), length 8: capability 5, length 6, 0001 0001 0002
  assert.ok(toHex(bytes).endsWith('0a02080506000100010002'), toHex(bytes));
  const r = decodeMessage(1, bytes.subarray(19), FOUR);
  assert.equal(r.kind, 'ok');
  assert.ok(r.kind === 'ok' && r.message.type === 1);
  assert.deepEqual((r.message as OpenMessage).capabilities, open.capabilities);
});

test('extended next hop capability: several entries; a length that is not a multiple of 6 stays opaque', () => {
  const body = (cap: string): Uint8Array => {
    const capBytes = hex(cap);
    return new Uint8Array([4, 0xfb, 0xf4, 0, 90, 10, 0, 0, 1, capBytes.length + 2, 2, capBytes.length, ...capBytes]);
  };
  const two = decodeMessage(1, body('05 0c 0001 0001 0002 0001 0080 0002'), FOUR);
  assert.ok(two.kind === 'ok' && two.message.type === 1);
  assert.deepEqual((two.message as OpenMessage).capabilities, [
    {
      code: 5,
      kind: 'extended-nexthop',
      entries: [
        { afi: 1, safi: 1, nextHopAfi: 2 },
        { afi: 1, safi: 128, nextHopAfi: 2 },
      ],
    },
  ]);
  const odd = decodeMessage(1, body('05 04 0001 0001'), FOUR);
  assert.ok(odd.kind === 'ok' && odd.message.type === 1);
  assert.deepEqual((odd.message as OpenMessage).capabilities, [{ code: 5, kind: 'unknown', data: hex('0001 0001') }]);
});

const v4 = (a: number, len = 32): NLRI => ({ family: 4, network: BigInt(a >>> 0), length: len });

test('IPv4 NLRI with a link-local IPv6 next hop go in MP_REACH_NLRI AFI 1 with a 16-byte next hop', () => {
  const attrs: PathAttributes = {
    origin: 2,
    asPath: [{ type: 2, asns: [64500] }],
    mpReach: { afi: 1, safi: 1, nextHops: [{ family: 6, value: LL }], nlri: [] },
  };
  const msgs = packUpdates([{ attributes: attrs, prefixes: [v4(0xc6336401), v4(0xc6336402)] }], [], FOUR);
  assert.equal(msgs.length, 1);
  const m = msgs[0] as Uint8Array;
  // no withdrawn routes, then MP_REACH_NLRI first: flags 0x90, type 14, extended length,
  // AFI 1, SAFI 1, next hop length 16, fe80::200:ff:fe00:1, reserved 0, two /32s
  const mp = '900e001f' + '0001' + '01' + '10' + 'fe80000000000000020000fffe000001' + '00' + '20c6336401' + '20c6336402';
  assert.equal(toHex(m.subarray(19, 21)), '0000');
  assert.equal(toHex(m.subarray(23, 23 + mp.length / 2)), mp);
  const [u] = decodeAll(msgs);
  assert.ok(u);
  assert.deepEqual(u.nlri, []);
  assert.equal(u.attributes.nextHop, undefined);
  assert.deepEqual(u.attributes.mpReach, { afi: 1, safi: 1, nextHops: [{ family: 6, value: LL }], nlri: [v4(0xc6336401), v4(0xc6336402)] });
  assert.deepEqual(u.attributes.asPath, [{ type: 2, asns: [64500] }]);
  assert.equal(u.attributes.origin, 2);
});

test('IPv4 NLRI with global + link-local next hops: a 32-byte next hop, many prefixes split under 4096 bytes', () => {
  const attrs: PathAttributes = {
    origin: 2,
    asPath: [],
    localPref: 100,
    mpReach: {
      afi: 1,
      safi: 1,
      nextHops: [
        { family: 6, value: GLOBAL },
        { family: 6, value: LL },
      ],
      nlri: [],
    },
  };
  const prefixes = Array.from({ length: 2000 }, (_, i) => v4(0x0a000000 + i));
  const msgs = packUpdates([{ attributes: attrs, prefixes }], [], FOUR);
  assert.ok(msgs.length >= 3, `${msgs.length} messages`);
  for (const m of msgs) assert.ok(m.length <= 4096);
  const ups = decodeAll(msgs);
  const got = ups.flatMap((u) => u.attributes.mpReach?.nlri ?? []);
  assert.deepEqual(got, prefixes);
  for (const u of ups) {
    assert.equal(u.attributes.mpReach?.afi, 1);
    assert.deepEqual(u.attributes.mpReach?.nextHops, attrs.mpReach?.nextHops);
    assert.equal(u.attributes.localPref, 100);
  }
});

test('IPv4 withdrawals stay in the classic Withdrawn Routes field; IPv4 next hops in MP_REACH AFI 1 are refused', () => {
  const msgs = packUpdates([], [v4(0xc6336401)], FOUR);
  assert.equal(msgs.length, 1);
  const [u] = decodeAll(msgs);
  assert.deepEqual(u?.withdrawn, [v4(0xc6336401)]);
  assert.throws(
    () => packUpdates([{ attributes: { origin: 2, asPath: [], mpReach: { afi: 1, safi: 1, nextHops: [{ family: 4, value: 0x0a000001n }], nlri: [] } }, prefixes: [v4(0xc6336401)] }], [], FOUR),
    BGPEncodeError,
  );
});

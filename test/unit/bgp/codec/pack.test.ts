// packUpdates: 4096-byte limit, ceil(N/cap) messages, IPv4 classic fields vs IPv6 MP_*,
// batched withdrawals, and End-of-RIB detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BGPEncodeError,
  MessageFramer,
  decodeMessage,
  encodeAttributes,
  endOfRib,
  isEndOfRib,
  packUpdates,
} from '../../../../src/bgp/codec/index.ts';
import type { NLRI, PathAttributes, UpdateMessage } from '../../../../src/bgp/codec/index.ts';
import { concat } from './helpers.ts';

const FOUR = { fourOctetAS: true };

function v4host(i: number): NLRI {
  return { family: 4, network: BigInt(0x0a000000 + i), length: 32 };
}
function v6host(i: number): NLRI {
  return { family: 6, network: (0x20010db8n << 96n) + BigInt(i), length: 128 };
}

const ATTRS4: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [64512] }],
  nextHop: { family: 4, value: 0xc0000201n },
  localPref: 100,
  communities: [0xffffff02],
  largeCommunities: [[64512, 1, 1]],
};
const ATTRS6: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [64512] }],
  mpReach: { afi: 2, safi: 1, nextHops: [{ family: 6, value: (0x20010db8n << 96n) + 1n }], nlri: [] },
  communities: [0xfde90001],
};

function decodeAll(msgs: Uint8Array[]): UpdateMessage[] {
  const f = new MessageFramer();
  f.push(concat(...msgs));
  const out: UpdateMessage[] = [];
  for (let r = f.next(); r; r = f.next()) {
    assert.equal(r.kind, 'frame');
    if (r.kind !== 'frame') continue;
    const d = decodeMessage(r.type, r.body, FOUR);
    assert.equal(d.kind, 'ok', 'reason' in d ? d.reason : '');
    if (d.kind === 'ok' && d.message.type === 2) out.push(d.message);
  }
  assert.equal(out.length, msgs.length);
  return out;
}

test('IPv4: N /32 with identical attributes fill ceil(N/cap) UPDATEs of at most 4096 bytes', () => {
  const attrLen = encodeAttributes(ATTRS4, FOUR, { omitMp: true }).length;
  const cap = Math.floor((4096 - 23 - attrLen) / 5);
  for (const n of [1, cap - 1, cap, cap + 1, 2000]) {
    const prefixes = Array.from({ length: n }, (_, i) => v4host(i));
    const msgs = packUpdates([{ attributes: ATTRS4, prefixes }], [], FOUR);
    assert.equal(msgs.length, Math.ceil(n / cap), `n=${n}`);
    for (const m of msgs) assert.ok(m.length <= 4096);
    const back = decodeAll(msgs);
    assert.deepEqual(back.flatMap((u) => u.nlri), prefixes);
    for (const u of back) {
      assert.deepEqual(u.attributes, ATTRS4);
      assert.equal(u.withdrawn.length, 0);
    }
    if (n > cap) assert.equal(msgs[0]!.length, 23 + attrLen + 5 * cap);
  }
});

test('IPv6: /128s go in MP_REACH_NLRI, packed within 4096 bytes', () => {
  const n = 700;
  const prefixes = Array.from({ length: n }, (_, i) => v6host(i));
  const msgs = packUpdates([{ attributes: ATTRS6, prefixes }], [], FOUR);
  const other = encodeAttributes(ATTRS6, FOUR, { omitMp: true, omitNextHop: true }).length;
  const cap = Math.floor((4096 - 23 - other - 4 - (5 + 16)) / 17);
  assert.equal(msgs.length, Math.ceil(n / cap));
  for (const m of msgs) assert.ok(m.length <= 4096);
  const back = decodeAll(msgs);
  assert.deepEqual(back.flatMap((u) => u.attributes.mpReach?.nlri ?? []), prefixes);
  for (const u of back) {
    assert.equal(u.nlri.length, 0);
    assert.equal(u.attributes.nextHop, undefined);
    assert.deepEqual(u.attributes.mpReach?.nextHops, ATTRS6.mpReach?.nextHops);
    assert.deepEqual(u.attributes.communities, [0xfde90001]);
  }
});

test('withdrawals are batched: IPv4 in Withdrawn Routes, IPv6 in MP_UNREACH_NLRI, before announcements', () => {
  const w4 = Array.from({ length: 1500 }, (_, i) => v4host(i));
  const w6 = Array.from({ length: 300 }, (_, i) => v6host(i));
  const msgs = packUpdates([{ attributes: ATTRS4, prefixes: [v4host(9999)] }], [...w4, ...w6], FOUR);
  const cap4 = Math.floor((4096 - 23) / 5);
  const cap6 = Math.floor((4096 - 23 - 7) / 17);
  assert.equal(msgs.length, Math.ceil(1500 / cap4) + Math.ceil(300 / cap6) + 1);
  for (const m of msgs) assert.ok(m.length <= 4096);
  const back = decodeAll(msgs);
  assert.deepEqual(back.flatMap((u) => u.withdrawn), w4);
  assert.deepEqual(back.flatMap((u) => u.attributes.mpUnreach?.withdrawn ?? []), w6);
  assert.deepEqual(back[back.length - 1]!.nlri, [v4host(9999)]);
});

test('several route groups with mixed families and prefix lengths', () => {
  const a: NLRI[] = [{ family: 4, network: 0xc6336400n, length: 24 }, { family: 4, network: 0n, length: 0 }, v6host(5), { family: 6, network: 0x20010db8n << 96n, length: 32 }];
  const b: NLRI[] = [v4host(1)];
  const msgs = packUpdates(
    [
      { attributes: { ...ATTRS4, mpReach: ATTRS6.mpReach }, prefixes: a },
      { attributes: { ...ATTRS4, localPref: 200 }, prefixes: b },
    ],
    [],
    FOUR,
  );
  assert.equal(msgs.length, 3);
  const back = decodeAll(msgs);
  assert.deepEqual(back[0]!.nlri, [a[0], a[1]]);
  assert.deepEqual(back[1]!.attributes.mpReach?.nlri, [a[2], a[3]]);
  assert.equal(back[2]!.attributes.localPref, 200);
});

test('a smaller maxMessageSize is respected', () => {
  const prefixes = Array.from({ length: 100 }, (_, i) => v4host(i));
  const msgs = packUpdates([{ attributes: ATTRS4, prefixes }], prefixes, { ...FOUR, maxMessageSize: 200 });
  for (const m of msgs) assert.ok(m.length <= 200);
  const back = decodeAll(msgs);
  assert.equal(back.flatMap((u) => u.nlri).length, 100);
  assert.equal(back.flatMap((u) => u.withdrawn).length, 100);
});

test('nothing to send → no messages', () => {
  assert.deepEqual(packUpdates([], [], FOUR), []);
  assert.deepEqual(packUpdates([{ attributes: ATTRS4, prefixes: [] }], [], FOUR), []);
});

test('invalid input → BGPEncodeError', () => {
  const isErr = (e: unknown): boolean => e instanceof BGPEncodeError;
  assert.throws(() => packUpdates([{ attributes: { origin: 0, asPath: [] }, prefixes: [v4host(1)] }], [], FOUR), isErr);
  assert.throws(() => packUpdates([{ attributes: ATTRS4, prefixes: [v6host(1)] }], [], FOUR), isErr);
  assert.throws(() => packUpdates([], [{ family: 4, network: 1n, length: 24 }], FOUR), isErr);
  assert.throws(() => packUpdates([{ attributes: { ...ATTRS4, communities: Array.from({ length: 1020 }, () => 1) }, prefixes: [v4host(1)] }], [], FOUR), isErr);
});

test('isEndOfRib recognises both markers and nothing else', () => {
  for (const fam of [4, 6] as const) {
    const back = decodeAll([endOfRib(fam, FOUR)]);
    assert.equal(isEndOfRib(back[0]!), fam);
  }
  const [withdrawal] = decodeAll(packUpdates([], [v4host(1)], FOUR));
  assert.equal(isEndOfRib(withdrawal!), undefined);
  const [announce] = decodeAll(packUpdates([{ attributes: ATTRS6, prefixes: [v6host(1)] }], [], FOUR));
  assert.equal(isEndOfRib(announce!), undefined);
  assert.equal(isEndOfRib({ type: 4 }), undefined);
  assert.equal(isEndOfRib({ type: 2, withdrawn: [], nlri: [], attributes: { origin: 0 } }), undefined);
});

test('IPv6 routes with an IPv4 next hop get an IPv4-mapped IPv6 next hop (RFC 4798)', () => {
  const attrs: PathAttributes = { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: [{ family: 4, value: 0xc0000201n }], nlri: [] } };
  const [u] = decodeAll(packUpdates([{ attributes: attrs, prefixes: [v6host(1)] }], [], FOUR));
  assert.deepEqual(u!.attributes.mpReach?.nextHops, [{ family: 6, value: (0xffffn << 32n) | 0xc0000201n }]);
});

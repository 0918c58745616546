// Property-based tests of the IP library (fast-check), IPv4 and IPv6, plus tables of inputs that
// must be rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  aggregate,
  bits,
  canonicalIP,
  formatIP,
  formatPrefix,
  ipFromBytes,
  ipToBytes,
  iterateRange,
  makePrefix,
  maxValue,
  parseCIDR,
  parseIP,
  parsePrefix,
  parseRangeOrCIDR,
  prefixContains,
  prefixFirst,
  prefixLast,
  prefixToRange,
  rangeContains,
  rangeSize,
  rangesOverlap,
  rangeToPrefixes,
  tryParseIP,
  type Family,
  type IP,
  type IPRange,
} from '../../../src/ip/index.ts';

const RUNS = { numRuns: 300 };

const v4 = fc.bigInt({ min: 0n, max: maxValue(4) }).map((value): IP => ({ family: 4, value }));
// IPv6 values biased toward zero runs (to exercise "::" compression) and v4-mapped forms.
const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const v6 = fc.array(group, { minLength: 8, maxLength: 8 }).map((gs): IP => ({
  family: 6,
  value: gs.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n),
}));
const anyIP = fc.oneof(v4, v6);
const familyArb = fc.constantFrom<Family>(4, 6);

function rangeArb(): fc.Arbitrary<IPRange> {
  return fc.oneof(v4, v6).chain((a) =>
    fc.bigInt({ min: 0n, max: 1n << 20n }).map((span): IPRange => {
      const last = a.value + span > maxValue(a.family) ? maxValue(a.family) : a.value + span;
      return { family: a.family, first: a.value, last };
    }),
  );
}

test('parse(format(ip)) round trips for IPv4 and IPv6', () => {
  fc.assert(fc.property(anyIP, (ip) => {
    const s = formatIP(ip);
    assert.deepEqual(parseIP(s), ip);
  }), RUNS);
});

test('formatting is RFC 5952 canonical', () => {
  fc.assert(fc.property(v6, (ip) => {
    const s = formatIP(ip);
    assert.equal(s, s.toLowerCase());
    assert.ok(!/(^|:)0[0-9a-f]/.test(s), `leading zero in ${s}`);
    assert.ok((s.match(/::/g) ?? []).length <= 1, s);
    // "::" never replaces a single zero group
    if (!s.includes('.') && s.includes('::')) {
      const groups = s.split('::').flatMap((p) => (p === '' ? [] : p.split(':')));
      assert.ok(groups.length <= 6, `"::" for a single group in ${s}`);
    }
    // formatting the parse of any spelling gives the same text
    const expanded = ipToBytes(ip);
    const full = Array.from({ length: 8 }, (_, i) => ((expanded[2 * i]! << 8) | expanded[2 * i + 1]!).toString(16).toUpperCase().padStart(4, '0')).join(':');
    assert.equal(canonicalIP(full), s);
  }), RUNS);
  const table: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['FE80::A', 'fe80::a'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ];
  for (const [input, want] of table) assert.equal(canonicalIP(input), want, input);
});

test('bytes round trip', () => {
  fc.assert(fc.property(anyIP, (ip) => {
    assert.deepEqual(ipFromBytes(ipToBytes(ip)), ip);
  }), RUNS);
});

test('prefix: containment matches first/last bounds; aggregate contains the address', () => {
  fc.assert(fc.property(anyIP, fc.integer({ min: 0, max: 128 }), anyIP, (ip, rawLen, other) => {
    const len = rawLen % (bits(ip.family) + 1);
    const p = aggregate(ip, len);
    assert.equal(p.length, len);
    assert.ok(prefixContains(p, ip));
    assert.equal(prefixLast(p) - prefixFirst(p) + 1n, 1n << BigInt(bits(ip.family) - len));
    const inside = other.family === ip.family && other.value >= prefixFirst(p) && other.value <= prefixLast(p);
    assert.equal(prefixContains(p, other), inside);
    assert.deepEqual(parsePrefix(formatPrefix(p)), p);
    assert.ok(rangeContains(prefixToRange(p), ip));
  }), RUNS);
});

test('CIDR parse keeps the written address and clears host bits in the prefix', () => {
  fc.assert(fc.property(anyIP, fc.integer({ min: 0, max: 128 }), (ip, rawLen) => {
    const len = rawLen % (bits(ip.family) + 1);
    const c = parseCIDR(`${formatIP(ip)}/${len}`);
    assert.deepEqual(c.address, ip);
    assert.deepEqual(c.prefix, makePrefix(ip.family, ip.value, len));
  }), RUNS);
});

test('ranges: size, containment and overlap arithmetic', () => {
  fc.assert(fc.property(rangeArb(), rangeArb(), (a, b) => {
    assert.equal(rangeSize(a), a.last - a.first + 1n);
    const overlap = a.family === b.family && !(a.last < b.first || b.last < a.first);
    assert.equal(rangesOverlap(a, b), overlap);
    assert.equal(rangesOverlap(a, b), rangesOverlap(b, a));
    assert.ok(rangeContains(a, { family: a.family, value: a.first }));
    assert.ok(rangeContains(a, { family: a.family, value: a.last }));
    if (a.first > 0n) assert.ok(!rangeContains(a, { family: a.family, value: a.first - 1n }));
    if (a.last < maxValue(a.family)) assert.ok(!rangeContains(a, { family: a.family, value: a.last + 1n }));
  }), RUNS);
});

test('rangeToPrefixes covers the range exactly, with aligned, minimal blocks', () => {
  fc.assert(fc.property(rangeArb(), (r) => {
    const ps = rangeToPrefixes(r);
    let next = r.first;
    for (const p of ps) {
      assert.equal(p.family, r.family);
      assert.equal(prefixFirst(p), next, 'contiguous');
      assert.equal(p.network & ~(-1n << BigInt(bits(p.family) - p.length)), 0n, 'aligned');
      next = prefixLast(p) + 1n;
    }
    assert.equal(next, r.last + 1n, 'ends at the last address');
    // minimal: no two neighbours could merge into one aligned block
    for (let i = 0; i + 1 < ps.length; i++) {
      const a = ps[i]!;
      const b = ps[i + 1]!;
      if (a.length === b.length && a.length > 0) {
        const parent = makePrefix(a.family, a.network, a.length - 1);
        assert.ok(!(prefixFirst(parent) === prefixFirst(a) && prefixLast(parent) === prefixLast(b)), 'mergeable neighbours');
      }
    }
    // the text form of an entry parses back to the same range
    const text = `${formatIP({ family: r.family, value: r.first })}-${formatIP({ family: r.family, value: r.last })}`;
    assert.deepEqual(parseRangeOrCIDR(text), r);
  }), RUNS);
});

test('iterateRange is lazy (an IPv6 /64 is not materialised) and ordered', () => {
  const huge = prefixToRange(parsePrefix('2001:db8::/64'));
  const first = [...iterateRange(huge, 3n)].map(formatIP);
  assert.deepEqual(first, ['2001:db8::', '2001:db8::1', '2001:db8::2']);
  fc.assert(fc.property(familyArb, fc.bigInt({ min: 0n, max: 50n }), (family, span) => {
    const r: IPRange = { family, first: 10n, last: 10n + span };
    const all = [...iterateRange(r)];
    assert.equal(BigInt(all.length), rangeSize(r));
    all.forEach((ip, i) => assert.equal(ip.value, r.first + BigInt(i)));
  }), { numRuns: 50 });
});

test('aggregate is idempotent and monotonic', () => {
  fc.assert(fc.property(anyIP, fc.integer({ min: 0, max: 128 }), fc.integer({ min: 0, max: 128 }), (ip, x, y) => {
    const max = bits(ip.family);
    const [short, long] = [Math.min(x % (max + 1), y % (max + 1)), Math.max(x % (max + 1), y % (max + 1))];
    const p = aggregate(ip, long);
    assert.deepEqual(aggregate({ family: ip.family, value: p.network }, long), p);
    assert.deepEqual(aggregate({ family: ip.family, value: p.network }, short), aggregate(ip, short));
  }), RUNS);
});

test('rejected inputs', () => {
  const bad = [
    '10.1', '10.0.1', '010.0.0.1', '10.0.0.01', '1.2.3.4.', '.1.2.3.4', '1.2.3.256', '1.2.3.-1', '1.2.3.4 ', ' 1.2.3.4',
    '1..2.3', '0x1.2.3.4', '1.2.3.4/24', '', 'localhost', '1e3.0.0.1',
    'fe80::1%eth0', 'fe80::1%1', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '1:2:3:4:5:6:7::8', '12345::1', 'g::1',
    '::ffff:1.2.3', '::1.2.3.4.5', '1:2:3:4:5:6:7:1.2.3.4', '[::1]', ':1', '1:', '::1:',
  ];
  for (const s of bad) assert.equal(tryParseIP(s), undefined, JSON.stringify(s));
  for (const s of ['10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/024', '10.0.0.0/-1', '10.0.0.0/8/8', '10.1/8']) {
    assert.throws(() => parseCIDR(s), /invalid CIDR/, s);
  }
  for (const s of ['10.0.0.9-10.0.0.1', '10.0.0.1-fd00::1', '10.0.0.1-', '-10.0.0.1', '10.0.0.0/8-10.1.0.0', 'fe80::1%eth0-fe80::2']) {
    assert.equal(typeof parseRangeOrCIDR(s), 'string', s);
  }
});

test('accepted edge forms', () => {
  const ok: [string, string][] = [
    ['0.0.0.0', '0.0.0.0'], ['255.255.255.255', '255.255.255.255'], ['::', '::'], ['::1', '::1'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [s, want] of ok) assert.equal(canonicalIP(s), want, s);
});

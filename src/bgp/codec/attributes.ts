// Path attributes of a received UPDATE (RFC 4271 §4.3, §5; RFC 4760 MP_REACH/MP_UNREACH; RFC 6793
// AS4_PATH; RFC 7606 revised error handling): flag checks, per-attribute parsing into
// PathAttributes, and the outcome of a malformed attribute (session reset, treat-as-withdraw or
// attribute discard). decode.ts runs the attribute loop of an UPDATE over decodeAttribute.

import { AFI_IPV4, AFI_IPV6, AttrFlag, AttrType, SAFI_UNICAST } from './common.ts';
import { ErrorCode, UpdateSubcode } from './messages.ts';
import type { AsPathSegment, NLRI, PathAttributes } from './messages.ts';
import { bigAt, parsePrefixes, u16, u32 } from './reader.ts';

const EXPECTED_FLAGS: Record<number, number> = {
  [AttrType.ORIGIN]: AttrFlag.TRANSITIVE,
  [AttrType.AS_PATH]: AttrFlag.TRANSITIVE,
  [AttrType.NEXT_HOP]: AttrFlag.TRANSITIVE,
  [AttrType.MULTI_EXIT_DISC]: AttrFlag.OPTIONAL,
  [AttrType.LOCAL_PREF]: AttrFlag.TRANSITIVE,
  [AttrType.ATOMIC_AGGREGATE]: AttrFlag.TRANSITIVE,
  [AttrType.AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.COMMUNITIES]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.MP_REACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.MP_UNREACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.AS4_PATH]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.AS4_AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.LARGE_COMMUNITY]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
};

/** Attributes whose malformation is handled by "attribute discard" rather than treat-as-withdraw. */
const DISCARD_ON_ERROR = new Set<number>([AttrType.ATOMIC_AGGREGATE, AttrType.AGGREGATOR, AttrType.AS4_PATH, AttrType.AS4_AGGREGATOR]);

export type AttrOutcome =
  | undefined
  | { kind: 'discard'; reason: string }
  | { kind: 'withdraw'; reason: string }
  | { kind: 'reset'; subcode: number; reason: string; data?: Uint8Array };

/** The RFC 7606 outcome of a malformed attribute of this type (reset, discard or treat-as-withdraw). */
function malformed(type: number, whole: Uint8Array, subcode: number, what: string): AttrOutcome {
  const reason = `${what} (${ErrorCode.UPDATE_MESSAGE}/${subcode})`;
  if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
    return { kind: 'reset', subcode, reason, data: whole.slice() };
  }
  return DISCARD_ON_ERROR.has(type) ? { kind: 'discard', reason } : { kind: 'withdraw', reason };
}

/** AS4_PATH / AS4_AGGREGATOR seen in one UPDATE, reconciled after the attribute loop. */
export interface As4Seen {
  as4Path: AsPathSegment[] | undefined;
  as4Agg: { asn: number; address: bigint } | undefined;
}

function parseSegments(v: Uint8Array, asSize: 2 | 4, allowConfed: boolean): AsPathSegment[] | string {
  const out: AsPathSegment[] = [];
  let p = 0;
  while (p < v.length) {
    if (p + 2 > v.length) return 'segment header truncated';
    const t = v[p] ?? 0;
    const n = v[p + 1] ?? 0;
    if (t < 1 || t > 4 || (!allowConfed && t > 2)) return `segment type ${t}`;
    if (n === 0) return 'empty segment';
    if (p + 2 + n * asSize > v.length) return 'segment overruns the attribute';
    const asns: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const a = asSize === 4 ? u32(v, p + 2 + i * 4) : u16(v, p + 2 + i * 2);
      if (a === 0) return 'AS 0 (RFC 7607)';
      asns[i] = a;
    }
    out.push({ type: t as 1 | 2 | 3 | 4, asns });
    p += 2 + n * asSize;
  }
  return out;
}

function pathCount(path: AsPathSegment[]): number {
  let n = 0;
  for (const s of path) {
    if (s.type === 2) n += s.asns.length;
    else if (s.type === 1) n += 1;
  }
  return n;
}

/** RFC 6793 §4.2.3: rebuild the 4-octet path from AS_PATH and AS4_PATH. */
export function mergeAs4Path(asPath: AsPathSegment[], as4Path: AsPathSegment[]): AsPathSegment[] | undefined {
  let need = pathCount(asPath) - pathCount(as4Path);
  if (need < 0) return undefined;
  const lead: AsPathSegment[] = [];
  for (const s of asPath) {
    if (s.type === 3 || s.type === 4) {
      lead.push({ type: s.type, asns: [...s.asns] });
      continue;
    }
    if (need <= 0) break;
    if (s.type === 1) {
      lead.push({ type: 1, asns: [...s.asns] });
      need -= 1;
    } else {
      const take = Math.min(need, s.asns.length);
      lead.push({ type: 2, asns: s.asns.slice(0, take) });
      need -= take;
    }
  }
  const out = [...lead];
  for (let i = 0; i < as4Path.length; i++) {
    const s = as4Path[i]!;
    const last = out[out.length - 1];
    // The leading AS_SEQUENCE part and the first AS4_PATH sequence form one sequence.
    if (i === 0 && last && last.type === 2 && s.type === 2 && last.asns.length + s.asns.length <= 255) {
      out[out.length - 1] = { type: 2, asns: [...last.asns, ...s.asns] };
    } else {
      out.push({ type: s.type, asns: [...s.asns] });
    }
  }
  return out;
}

export function decodeAttribute(
  type: number,
  flags: number,
  v: Uint8Array,
  whole: Uint8Array,
  four: boolean,
  attrs: PathAttributes,
  as4: As4Seen,
): AttrOutcome {
  const expected = EXPECTED_FLAGS[type];
  if (expected === undefined) {
    if ((flags & AttrFlag.OPTIONAL) === 0) {
      return { kind: 'reset', subcode: UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, reason: `unrecognized well-known attribute ${type}`, data: whole.slice() };
    }
    (attrs.unknown ??= []).push({ flags: flags & 0xe0, type, value: v.slice() });
    return undefined;
  }
  // RFC 7606 §3.c: Optional/Transitive bits in conflict with the attribute's definition.
  if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== expected) {
    return malformed(type, whole, UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, `attribute ${type} flags 0x${flags.toString(16)}`);
  }
  // RFC 4271 §4.3: the Partial bit MUST be 0 on well-known and optional non-transitive
  // attributes; a set bit conflicts with the definition (§6.3 Attribute Flags Error).
  if ((flags & AttrFlag.PARTIAL) !== 0 && expected !== (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) {
    const what = (expected & AttrFlag.OPTIONAL) !== 0 ? 'optional non-transitive' : 'well-known';
    return malformed(type, whole, UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, `attribute ${type} flags 0x${flags.toString(16)}: Partial bit on a ${what} attribute`);
  }
  const L = v.length;
  switch (type) {
    case AttrType.ORIGIN: {
      if (L !== 1) return malformed(type, whole, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `ORIGIN length ${L}`);
      const o = v[0] ?? 0;
      if (o > 2) return malformed(type, whole, UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE, `ORIGIN value ${o}`);
      attrs.origin = o;
      return undefined;
    }
    case AttrType.AS_PATH: {
      const segs = parseSegments(v, four ? 4 : 2, true);
      if (typeof segs === 'string') return malformed(type, whole, UpdateSubcode.MALFORMED_AS_PATH, `AS_PATH: ${segs}`);
      attrs.asPath = segs;
      return undefined;
    }
    case AttrType.NEXT_HOP: {
      if (L !== 4) return malformed(type, whole, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `NEXT_HOP length ${L}`);
      const nh = u32(v, 0);
      const first = nh >>> 24;
      if (first === 0 || first >= 224) return malformed(type, whole, UpdateSubcode.INVALID_NEXT_HOP_ATTRIBUTE, 'NEXT_HOP is not a valid host address');
      attrs.nextHop = { family: 4, value: BigInt(nh) };
      return undefined;
    }
    case AttrType.MULTI_EXIT_DISC:
      if (L !== 4) return malformed(type, whole, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `MULTI_EXIT_DISC length ${L}`);
      attrs.med = u32(v, 0);
      return undefined;
    case AttrType.LOCAL_PREF:
      if (L !== 4) return malformed(type, whole, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `LOCAL_PREF length ${L}`);
      attrs.localPref = u32(v, 0);
      return undefined;
    case AttrType.ATOMIC_AGGREGATE:
      if (L !== 0) return malformed(type, whole, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `ATOMIC_AGGREGATE length ${L}`);
      attrs.atomicAggregate = true;
      return undefined;
    case AttrType.AGGREGATOR: {
      const want = four ? 8 : 6;
      if (L !== want) return malformed(type, whole, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `AGGREGATOR length ${L} (expected ${want})`);
      const asn = four ? u32(v, 0) : u16(v, 0);
      if (asn === 0) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'AGGREGATOR with AS 0 (RFC 7607)');
      attrs.aggregator = { asn, address: BigInt(u32(v, want - 4)) };
      return undefined;
    }
    case AttrType.COMMUNITIES: {
      if (L === 0 || L % 4 !== 0) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `COMMUNITIES length ${L}`);
      const cs: number[] = new Array<number>(L / 4);
      for (let i = 0; i < L / 4; i++) cs[i] = u32(v, i * 4);
      attrs.communities = cs;
      return undefined;
    }
    case AttrType.LARGE_COMMUNITY: {
      if (L === 0 || L % 12 !== 0) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `LARGE_COMMUNITY length ${L}`);
      const lc: [number, number, number][] = [];
      for (let i = 0; i < L; i += 12) lc.push([u32(v, i), u32(v, i + 4), u32(v, i + 8)]);
      attrs.largeCommunities = lc;
      return undefined;
    }
    case AttrType.MP_REACH_NLRI: {
      if (L < 5) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI length ${L}`);
      const afi = u16(v, 0);
      const safi = v[2] ?? 0;
      const nhLen = v[3] ?? 0;
      if (4 + nhLen + 1 > L) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI next hop length ${nhLen} overruns the attribute`);
      const fam = afi === AFI_IPV4 ? 4 : afi === AFI_IPV6 ? 6 : undefined;
      if (fam === undefined || safi !== SAFI_UNICAST) return { kind: 'discard', reason: `MP_REACH_NLRI for unsupported AFI ${afi} SAFI ${safi} ignored` };
      const nextHops: { family: 4 | 6; value: bigint }[] = [];
      if (nhLen === 4 && fam === 4) nextHops.push({ family: 4, value: BigInt(u32(v, 4)) });
      else if (nhLen === 16 || nhLen === 32) {
        nextHops.push({ family: 6, value: bigAt(v, 4, 16) });
        if (nhLen === 32) nextHops.push({ family: 6, value: bigAt(v, 20, 16) });
      } else {
        return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI next hop length ${nhLen} inconsistent with AFI ${afi}`);
      }
      const list: NLRI[] = [];
      const e = parsePrefixes(v, 4 + nhLen + 1, L, fam, list);
      if (e !== undefined) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_REACH_NLRI: ${e}`);
      attrs.mpReach = { afi, safi, nextHops, nlri: list };
      return undefined;
    }
    case AttrType.MP_UNREACH_NLRI: {
      if (L < 3) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_UNREACH_NLRI length ${L}`);
      const afi = u16(v, 0);
      const safi = v[2] ?? 0;
      const fam = afi === AFI_IPV4 ? 4 : afi === AFI_IPV6 ? 6 : undefined;
      if (fam === undefined || safi !== SAFI_UNICAST) return { kind: 'discard', reason: `MP_UNREACH_NLRI for unsupported AFI ${afi} SAFI ${safi} ignored` };
      const list: NLRI[] = [];
      const e = parsePrefixes(v, 3, L, fam, list);
      if (e !== undefined) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `MP_UNREACH_NLRI: ${e}`);
      attrs.mpUnreach = { afi, safi, withdrawn: list };
      return undefined;
    }
    case AttrType.AS4_PATH: {
      // RFC 6793 §4.1: a 4-octet speaker discards AS4_PATH from another 4-octet speaker.
      if (four) return { kind: 'discard', reason: 'AS4_PATH from a 4-octet AS speaker' };
      const segs = parseSegments(v, 4, false);
      if (typeof segs === 'string') return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `AS4_PATH: ${segs}`);
      as4.as4Path = segs;
      return undefined;
    }
    case AttrType.AS4_AGGREGATOR: {
      if (four) return { kind: 'discard', reason: 'AS4_AGGREGATOR from a 4-octet AS speaker' };
      if (L !== 8) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `AS4_AGGREGATOR length ${L}`);
      const asn = u32(v, 0);
      if (asn === 0) return malformed(type, whole, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'AS4_AGGREGATOR with AS 0');
      as4.as4Agg = { asn, address: BigInt(u32(v, 4)) };
      return undefined;
    }
    default:
      return undefined;
  }
}

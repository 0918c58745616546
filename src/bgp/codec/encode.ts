// BGP-4 message encoder (RFC 4271 §4, RFC 4760, RFC 6793, RFC 2918/7313, RFC 4724, RFC 1997,
// RFC 8092, RFC 9072). Pure: bytes in, bytes out. Invalid input (a programming error on our
// side) throws BGPEncodeError; nothing else throws.

import { EXTENDED_COMMUNITIES, extendedCommunitiesValue } from './extcommunity.ts';
import {
  AFI_IPV4,
  AFI_IPV6,
  AS_TRANS,
  AttrFlag,
  AttrType,
  BGPEncodeError,
  CapabilityCode,
  HEADER_LENGTH,
  MAX_MESSAGE_SIZE,
  SAFI_UNICAST,
  Writer,
} from './common.ts';
import { MessageType } from './messages.ts';
import type {
  AsPathSegment,
  BGPMessage,
  Capability,
  CodecOptions,
  NLRI,
  NotificationMessage,
  OpenMessage,
  PathAttributes,
  UpdateMessage,
} from './messages.ts';

// ---------------------------------------------------------------------------------------------
// Validation helpers

function checkUint(v: number, bitsN: 8 | 16 | 32, what: string): number {
  const max = bitsN === 32 ? 0xffffffff : (1 << bitsN) - 1;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new BGPEncodeError(`${what} must be an integer in 0..${max}, got ${String(v)}`);
  return v;
}

function checkAddr(family: number, value: bigint, what: string): void {
  if (family !== 4 && family !== 6) throw new BGPEncodeError(`${what}: family must be 4 or 6`);
  const max = family === 4 ? 0xffffffffn : (1n << 128n) - 1n;
  if (typeof value !== 'bigint' || value < 0n || value > max) throw new BGPEncodeError(`${what}: address out of range for IPv${family}`);
}

function maxMessageSize(opts: CodecOptions | undefined): number {
  const m = opts?.maxMessageSize ?? MAX_MESSAGE_SIZE;
  return Math.min(Math.max(m, MAX_MESSAGE_SIZE), 65535);
}

// ---------------------------------------------------------------------------------------------
// Header

function startMessage(w: Writer, type: number): void {
  for (let i = 0; i < 16; i++) w.u8(0xff);
  w.u16(0);
  w.u8(type);
}

function finishMessage(w: Writer, max: number): Uint8Array {
  if (w.pos > max) throw new BGPEncodeError(`message of ${w.pos} bytes exceeds the maximum of ${max}`);
  w.setU16(16, w.pos);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// NLRI

/** Number of bytes a prefix takes in an NLRI field (length octet + significant octets). */
export function nlriSize(p: NLRI): number {
  return 1 + ((p.length + 7) >>> 3);
}

export function checkNLRI(p: NLRI): void {
  const width = p.family === 4 ? 32 : p.family === 6 ? 128 : -1;
  if (width < 0) throw new BGPEncodeError('prefix family must be 4 or 6');
  if (!Number.isInteger(p.length) || p.length < 0 || p.length > width) {
    throw new BGPEncodeError(`prefix length ${String(p.length)} out of range for IPv${p.family}`);
  }
  checkAddr(p.family, p.network, 'prefix');
  const hostBits = BigInt(width - p.length);
  if (hostBits > 0n && (p.network & ((1n << hostBits) - 1n)) !== 0n) {
    throw new BGPEncodeError(`prefix has host bits set beyond /${p.length}`);
  }
}

export function writeNLRI(w: Writer, p: NLRI): void {
  const width = p.family === 4 ? 32 : 128;
  const n = (p.length + 7) >>> 3;
  w.u8(p.length);
  if (n === 0) return;
  // The significant `n` leading bytes of the address.
  w.big(p.network >> BigInt(width - n * 8), n);
}

// ---------------------------------------------------------------------------------------------
// OPEN

function encodeCapability(w: Writer, c: Capability): void {
  switch (c.kind) {
    case 'multiprotocol':
      w.u8(CapabilityCode.MULTIPROTOCOL).u8(4).u16(checkUint(c.afi, 16, 'AFI')).u8(0).u8(checkUint(c.safi, 8, 'SAFI'));
      return;
    case 'route-refresh':
      w.u8(c.code === CapabilityCode.ROUTE_REFRESH_CISCO ? CapabilityCode.ROUTE_REFRESH_CISCO : CapabilityCode.ROUTE_REFRESH).u8(0);
      return;
    case 'graceful-restart': {
      const len = 2 + 4 * c.families.length;
      if (len > 255) throw new BGPEncodeError('graceful-restart capability lists too many families');
      checkUint(c.restartTime, 16, 'restart time');
      if (c.restartTime > 4095) throw new BGPEncodeError('graceful-restart restart time must be <= 4095 seconds');
      w.u8(CapabilityCode.GRACEFUL_RESTART).u8(len);
      w.u16((c.restartState ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | c.restartTime);
      for (const f of c.families) {
        w.u16(checkUint(f.afi, 16, 'AFI')).u8(checkUint(f.safi, 8, 'SAFI')).u8(f.forwardingState ? 0x80 : 0);
      }
      return;
    }
    case 'extended-nexthop': {
      const len = 6 * c.entries.length;
      if (len > 255) throw new BGPEncodeError('extended next hop capability lists too many entries');
      w.u8(CapabilityCode.EXTENDED_NEXTHOP).u8(len);
      for (const e of c.entries) w.u16(checkUint(e.afi, 16, 'AFI')).u16(checkUint(e.safi, 16, 'SAFI')).u16(checkUint(e.nextHopAfi, 16, 'next hop AFI'));
      return;
    }
    case 'four-octet-as':
      w.u8(CapabilityCode.FOUR_OCTET_AS).u8(4).u32(checkUint(c.asn, 32, 'ASN'));
      return;
    case 'unknown':
      if (c.data.length > 255) throw new BGPEncodeError(`capability ${c.code} value longer than 255 bytes`);
      w.u8(checkUint(c.code, 8, 'capability code')).u8(c.data.length).bytes(c.data);
      return;
  }
}

export function encodeOpen(open: Omit<OpenMessage, 'type'>): Uint8Array {
  checkUint(open.version, 8, 'version');
  checkUint(open.myAS, 16, 'My Autonomous System');
  checkUint(open.holdTime, 16, 'hold time');
  checkUint(open.bgpId, 32, 'BGP identifier');
  // Capabilities go in as few "Capabilities" optional parameters (type 2) as possible, each
  // at most 255 bytes long; a capability never spans two parameters.
  const params: Uint8Array[] = [];
  let cur = new Writer(64);
  for (const c of open.capabilities) {
    const one = new Writer(16);
    encodeCapability(one, c);
    const bytes = one.finish();
    if (cur.pos + bytes.length > 255 && cur.pos > 0) {
      params.push(cur.finish());
      cur = new Writer(64);
    }
    cur.bytes(bytes);
  }
  if (cur.pos > 0) params.push(cur.finish());

  const w = new Writer(64);
  startMessage(w, MessageType.OPEN);
  w.u8(open.version).u16(open.myAS).u16(open.holdTime).u32(open.bgpId);
  const classicLen = params.reduce((n, p) => n + 2 + p.length, 0);
  if (classicLen <= 255) {
    w.u8(classicLen);
    for (const p of params) w.u8(2).u8(p.length).bytes(p);
  } else {
    // RFC 9072 extended optional parameters length.
    const extLen = params.reduce((n, p) => n + 3 + p.length, 0);
    if (extLen > 0xffff) throw new BGPEncodeError('optional parameters too long');
    w.u8(255).u8(255).u16(extLen);
    for (const p of params) w.u8(2).u16(p.length).bytes(p);
  }
  return finishMessage(w, MAX_MESSAGE_SIZE);
}

// ---------------------------------------------------------------------------------------------
// KEEPALIVE / NOTIFICATION / ROUTE-REFRESH

export function encodeKeepalive(): Uint8Array {
  const w = new Writer(HEADER_LENGTH);
  startMessage(w, MessageType.KEEPALIVE);
  return finishMessage(w, MAX_MESSAGE_SIZE);
}

/**
 * NOTIFICATION. Accepts either `(code, subcode, data?)` or a NotificationMessage-like object.
 * Data longer than fits in one message is truncated (it is diagnostic only).
 */
export function encodeNotification(code: number, subcode: number, data?: Uint8Array): Uint8Array;
export function encodeNotification(n: Pick<NotificationMessage, 'code' | 'subcode'> & { data?: Uint8Array }): Uint8Array;
export function encodeNotification(
  a: number | (Pick<NotificationMessage, 'code' | 'subcode'> & { data?: Uint8Array }),
  subcode?: number,
  data?: Uint8Array,
): Uint8Array {
  const n = typeof a === 'number' ? { code: a, subcode: subcode ?? 0, data } : a;
  checkUint(n.code, 8, 'error code');
  checkUint(n.subcode, 8, 'error subcode');
  const d = n.data ?? new Uint8Array(0);
  const room = MAX_MESSAGE_SIZE - HEADER_LENGTH - 2;
  const w = new Writer(HEADER_LENGTH + 2 + Math.min(d.length, room));
  startMessage(w, MessageType.NOTIFICATION);
  w.u8(n.code).u8(n.subcode).bytes(d.length > room ? d.subarray(0, room) : d);
  return finishMessage(w, MAX_MESSAGE_SIZE);
}

export function encodeRouteRefresh(afi: number, safi: number, subtype = 0): Uint8Array {
  const w = new Writer(HEADER_LENGTH + 4);
  startMessage(w, MessageType.ROUTE_REFRESH);
  w.u16(checkUint(afi, 16, 'AFI')).u8(checkUint(subtype, 8, 'subtype')).u8(checkUint(safi, 8, 'SAFI'));
  return finishMessage(w, MAX_MESSAGE_SIZE);
}

// ---------------------------------------------------------------------------------------------
// Path attributes

function writeAttr(w: Writer, flags: number, type: number, value: Uint8Array): void {
  if (value.length > 0xffff) throw new BGPEncodeError(`attribute ${type} longer than 65535 bytes`);
  if (value.length > 255) {
    w.u8((flags | AttrFlag.EXTENDED_LENGTH) & 0xff).u8(type).u16(value.length);
  } else {
    w.u8(flags & ~AttrFlag.EXTENDED_LENGTH & 0xff).u8(type).u8(value.length);
  }
  w.bytes(value);
}

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
const OPT_NONTRANS = AttrFlag.OPTIONAL;

function checkSegments(path: AsPathSegment[]): void {
  for (const seg of path) {
    if (seg.type !== 1 && seg.type !== 2 && seg.type !== 3 && seg.type !== 4) {
      throw new BGPEncodeError(`AS_PATH segment type ${String(seg.type)} is not 1..4`);
    }
    for (const a of seg.asns) {
      checkUint(a, 32, 'ASN in AS_PATH');
      if (a === 0) throw new BGPEncodeError('AS 0 in AS_PATH (RFC 7607)');
    }
  }
}

function encodeSegments(path: AsPathSegment[], four: boolean, filter?: (s: AsPathSegment) => boolean): Uint8Array {
  const w = new Writer(64);
  for (const seg of path) {
    if (filter && !filter(seg)) continue;
    // A segment holds at most 255 ASNs: longer ones are split into consecutive segments.
    for (let i = 0; i < seg.asns.length || (i === 0 && seg.asns.length === 0); i += 255) {
      const part = seg.asns.slice(i, i + 255);
      if (part.length === 0) break; // empty segments are never written (RFC 7606 §7.2)
      w.u8(seg.type).u8(part.length);
      for (const a of part) {
        if (four) w.u32(a);
        else w.u16(a > 0xffff ? AS_TRANS : a);
      }
    }
  }
  return w.finish();
}

function u32Value(v: number, what: string): Uint8Array {
  checkUint(v, 32, what);
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function aggregatorValue(asn: number, address: bigint, four: boolean): Uint8Array {
  checkUint(asn, 32, 'AGGREGATOR ASN');
  if (asn === 0) throw new BGPEncodeError('AS 0 in AGGREGATOR (RFC 7607)');
  checkAddr(4, address, 'AGGREGATOR address');
  const w = new Writer(8);
  if (four) w.u32(asn);
  else w.u16(asn > 0xffff ? AS_TRANS : asn);
  w.big(address, 4);
  return w.finish();
}

const RECOGNIZED = new Set<number>(Object.values(AttrType));

export interface AttributeEncodeOptions {
  /** Leave out MP_REACH_NLRI / MP_UNREACH_NLRI (packUpdates writes its own). */
  omitMp?: boolean;
  /** Leave out NEXT_HOP (MP-only UPDATEs). */
  omitNextHop?: boolean;
}

/**
 * Encodes a path attribute list (without the Total Path Attribute Length field). MP_REACH_NLRI
 * and MP_UNREACH_NLRI come first (RFC 7606 §5.1), the rest in type-code order. On a session
 * without 4-octet AS support, ASNs above 65535 become AS_TRANS and AS4_PATH/AS4_AGGREGATOR carry
 * the real values (RFC 6793 §4.2.2). Unknown optional transitive attributes get the Partial bit.
 */
export function encodeAttributes(a: PathAttributes, opts: CodecOptions, eo: AttributeEncodeOptions = {}): Uint8Array {
  const four = opts.fourOctetAS;
  const out: { type: number; flags: number; value: Uint8Array; mp: boolean }[] = [];
  const add = (flags: number, type: number, value: Uint8Array, mp = false): void => {
    out.push({ type, flags, value, mp });
  };

  if (a.mpReach && !eo.omitMp) add(OPT_NONTRANS, AttrType.MP_REACH_NLRI, mpReachValue(a.mpReach), true);
  if (a.mpUnreach && !eo.omitMp) add(OPT_NONTRANS, AttrType.MP_UNREACH_NLRI, mpUnreachValue(a.mpUnreach), true);
  if (a.origin !== undefined) {
    if (a.origin !== 0 && a.origin !== 1 && a.origin !== 2) throw new BGPEncodeError(`ORIGIN must be 0, 1 or 2, got ${String(a.origin)}`);
    add(WELL_KNOWN, AttrType.ORIGIN, Uint8Array.of(a.origin));
  }
  if (a.asPath !== undefined) {
    checkSegments(a.asPath);
    add(WELL_KNOWN, AttrType.AS_PATH, encodeSegments(a.asPath, four));
    if (!four && a.asPath.some((s) => (s.type === 1 || s.type === 2) && s.asns.some((x) => x > 0xffff))) {
      // AS4_PATH never carries confederation segments (RFC 6793 §3).
      add(OPT_TRANS, AttrType.AS4_PATH, encodeSegments(a.asPath, true, (s) => s.type === 1 || s.type === 2));
    }
  }
  if (a.nextHop !== undefined && !eo.omitNextHop) {
    if (a.nextHop.family !== 4) throw new BGPEncodeError('NEXT_HOP must be an IPv4 address (IPv6 next hops go in MP_REACH_NLRI)');
    checkAddr(4, a.nextHop.value, 'NEXT_HOP');
    add(WELL_KNOWN, AttrType.NEXT_HOP, new Writer(4).big(a.nextHop.value, 4).finish());
  }
  if (a.med !== undefined) add(OPT_NONTRANS, AttrType.MULTI_EXIT_DISC, u32Value(a.med, 'MED'));
  if (a.localPref !== undefined) add(WELL_KNOWN, AttrType.LOCAL_PREF, u32Value(a.localPref, 'LOCAL_PREF'));
  if (a.atomicAggregate) add(WELL_KNOWN, AttrType.ATOMIC_AGGREGATE, new Uint8Array(0));
  if (a.aggregator !== undefined) {
    add(OPT_TRANS, AttrType.AGGREGATOR, aggregatorValue(a.aggregator.asn, a.aggregator.address, four));
    if (!four && a.aggregator.asn > 0xffff) {
      add(OPT_TRANS, AttrType.AS4_AGGREGATOR, aggregatorValue(a.aggregator.asn, a.aggregator.address, true));
    }
  }
  if (a.communities !== undefined && a.communities.length > 0) {
    const w = new Writer(a.communities.length * 4);
    for (const c of a.communities) w.u32(checkUint(c, 32, 'community'));
    add(OPT_TRANS, AttrType.COMMUNITIES, w.finish());
  }
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0) {
    const w = new Writer(a.largeCommunities.length * 12);
    for (const [g, l1, l2] of a.largeCommunities) {
      w.u32(checkUint(g, 32, 'large community global admin'));
      w.u32(checkUint(l1, 32, 'large community local data 1'));
      w.u32(checkUint(l2, 32, 'large community local data 2'));
    }
    add(OPT_TRANS, AttrType.LARGE_COMMUNITY, w.finish());
  }
  if (a.extendedCommunities !== undefined && a.extendedCommunities.length > 0) {
    if (a.unknown?.some((u) => u.type === EXTENDED_COMMUNITIES)) throw new BGPEncodeError('extendedCommunities and an unknown attribute 16 cannot both be set');
    let value: Uint8Array;
    try {
      value = extendedCommunitiesValue(a.extendedCommunities);
    } catch (e) {
      throw new BGPEncodeError((e as Error).message);
    }
    add(OPT_TRANS, EXTENDED_COMMUNITIES, value);
  }
  for (const u of a.unknown ?? []) {
    checkUint(u.type, 8, 'attribute type');
    checkUint(u.flags, 8, 'attribute flags');
    if (RECOGNIZED.has(u.type)) throw new BGPEncodeError(`attribute type ${u.type} is interpreted by the codec and cannot be passed as unknown`);
    let flags = u.flags & 0xe0;
    // RFC 4271 §5: an unrecognized optional transitive attribute is passed on with Partial set.
    if ((flags & OPT_TRANS) === OPT_TRANS) flags |= AttrFlag.PARTIAL;
    add(flags, u.type, u.value);
  }

  out.sort((x, y) => (x.mp === y.mp ? x.type - y.type : x.mp ? -1 : 1));
  const w = new Writer(128);
  for (const e of out) writeAttr(w, e.flags, e.type, e.value);
  return w.finish();
}

function familyForAfi(afi: number): 4 | 6 | undefined {
  return afi === AFI_IPV4 ? 4 : afi === AFI_IPV6 ? 6 : undefined;
}

function checkMpNlri(afi: number, safi: number, list: NLRI[]): void {
  const fam = familyForAfi(afi);
  if (fam === undefined || safi !== SAFI_UNICAST) {
    throw new BGPEncodeError(`only IPv4/IPv6 unicast NLRI can be encoded (AFI ${afi} SAFI ${safi})`);
  }
  for (const p of list) {
    checkNLRI(p);
    if (p.family !== fam) throw new BGPEncodeError(`IPv${p.family} prefix in an AFI ${afi} attribute`);
  }
}

/** MP_REACH_NLRI value header (AFI, SAFI, next hop, reserved) without NLRI. */
export function mpReachHeader(afi: number, safi: number, nextHops: { family: number; value: bigint }[]): Uint8Array {
  if (nextHops.length < 1 || nextHops.length > 2) throw new BGPEncodeError('MP_REACH_NLRI needs one or two next hops');
  for (const nh of nextHops) checkAddr(nh.family, nh.value, 'MP_REACH_NLRI next hop');
  if (afi === AFI_IPV6) {
    // An IPv4 next hop for IPv6 routes is sent as an IPv4-mapped IPv6 address (RFC 4798 §2).
    nextHops = nextHops.map((nh) => (nh.family === 4 ? { family: 6, value: (0xffffn << 32n) | nh.value } : nh));
  }
  if (nextHops.length === 2 && nextHops.some((nh) => nh.family === 4)) {
    throw new BGPEncodeError('MP_REACH_NLRI with two next hops needs two IPv6 addresses (global + link-local)');
  }
  let nhLen = 0;
  for (const nh of nextHops) nhLen += nh.family === 4 ? 4 : 16;
  const w = new Writer(5 + nhLen);
  w.u16(checkUint(afi, 16, 'AFI')).u8(checkUint(safi, 8, 'SAFI')).u8(nhLen);
  for (const nh of nextHops) w.big(nh.value, nh.family === 4 ? 4 : 16);
  w.u8(0);
  return w.finish();
}

function mpReachValue(m: NonNullable<PathAttributes['mpReach']>): Uint8Array {
  checkMpNlri(m.afi, m.safi, m.nlri);
  const w = new Writer(64);
  w.bytes(mpReachHeader(m.afi, m.safi, m.nextHops));
  for (const p of m.nlri) writeNLRI(w, p);
  return w.finish();
}

function mpUnreachValue(m: NonNullable<PathAttributes['mpUnreach']>): Uint8Array {
  checkMpNlri(m.afi, m.safi, m.withdrawn);
  const w = new Writer(64);
  w.u16(m.afi).u8(m.safi);
  for (const p of m.withdrawn) writeNLRI(w, p);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// UPDATE

export function encodeUpdate(msg: Omit<UpdateMessage, 'type'>, opts: CodecOptions): Uint8Array {
  for (const p of msg.withdrawn) {
    checkNLRI(p);
    if (p.family !== 4) throw new BGPEncodeError('the classic Withdrawn Routes field only carries IPv4 prefixes');
  }
  for (const p of msg.nlri) {
    checkNLRI(p);
    if (p.family !== 4) throw new BGPEncodeError('the classic NLRI field only carries IPv4 prefixes');
  }
  const attrs = encodeAttributes(msg.attributes, opts);
  const w = new Writer(64 + attrs.length);
  startMessage(w, MessageType.UPDATE);
  const wlenAt = w.pos;
  w.u16(0);
  for (const p of msg.withdrawn) writeNLRI(w, p);
  w.setU16(wlenAt, w.pos - wlenAt - 2);
  w.u16(attrs.length).bytes(attrs);
  for (const p of msg.nlri) writeNLRI(w, p);
  return finishMessage(w, maxMessageSize(opts));
}

// ---------------------------------------------------------------------------------------------

/** Encodes any message. Throws BGPEncodeError for values that cannot be encoded. */
export function encodeMessage(msg: BGPMessage, opts: CodecOptions): Uint8Array {
  switch (msg.type) {
    case MessageType.OPEN:
      return encodeOpen(msg);
    case MessageType.UPDATE:
      return encodeUpdate(msg, opts);
    case MessageType.NOTIFICATION:
      return encodeNotification(msg);
    case MessageType.KEEPALIVE:
      return encodeKeepalive();
    case MessageType.ROUTE_REFRESH:
      return encodeRouteRefresh(msg.afi, msg.safi, msg.subtype);
    default:
      throw new BGPEncodeError(`unknown message type ${String((msg as { type: unknown }).type)}`);
  }
}

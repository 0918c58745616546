// Packing routes into as few UPDATE messages as fit (RFC 4271 §4.3, RFC 4760), End-of-RIB
// markers (RFC 4724 §2).

import { AFI_IPV4, AFI_IPV6, AttrFlag, AttrType, BGPEncodeError, HEADER_LENGTH, MAX_MESSAGE_SIZE, SAFI_UNICAST, Writer } from './common.ts';
import { checkNLRI, encodeAttributes, encodeUpdate, mpReachHeader, nlriSize, writeNLRI } from './encode.ts';
import { MessageType } from './messages.ts';
import type { BGPMessage, CodecOptions, NLRI, PathAttributes } from './messages.ts';
import type { Family } from '../../ip/index.ts';

export interface PackOptions extends CodecOptions {
  /** Largest UPDATE produced (default 4096). */
  maxMessageSize?: number;
}

/** Fixed UPDATE overhead: header + Withdrawn Routes Length + Total Path Attribute Length. */
const UPDATE_OVERHEAD = HEADER_LENGTH + 2 + 2;

function writeUpdateHeader(w: Writer): void {
  for (let i = 0; i < 16; i++) w.u8(0xff);
  w.u16(0);
  w.u8(MessageType.UPDATE);
}

function seal(w: Writer): Uint8Array {
  w.setU16(16, w.pos);
  return w.finish();
}

/** Splits `prefixes` into consecutive runs whose encoded size stays within `room` bytes each. */
function chunks(prefixes: NLRI[], room: number): NLRI[][] {
  const out: NLRI[][] = [];
  let cur: NLRI[] = [];
  let used = 0;
  for (const p of prefixes) {
    const s = nlriSize(p);
    if (used + s > room && cur.length > 0) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(p);
    used += s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * An UPDATE with no Withdrawn Routes whose first path attribute is an extended-length
 * MP_REACH_NLRI / MP_UNREACH_NLRI (`type`) holding `head` (AFI, SAFI[, next hop]) and `part`;
 * `rest` (the other encoded attributes) follows it.
 */
function mpUpdate(max: number, type: number, head: Uint8Array, part: NLRI[], rest?: Uint8Array): Uint8Array {
  const w = new Writer(max);
  writeUpdateHeader(w);
  w.u16(0);
  const tpalAt = w.pos;
  w.u16(0);
  w.u8(AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH).u8(type);
  const lenAt = w.pos;
  w.u16(0);
  w.bytes(head);
  for (const p of part) writeNLRI(w, p);
  w.setU16(lenAt, w.pos - lenAt - 2);
  if (rest) w.bytes(rest);
  w.setU16(tpalAt, w.pos - tpalAt - 2);
  return seal(w);
}

/**
 * Packs withdrawals and announcements into UPDATE messages of at most `maxMessageSize` (4096)
 * bytes. IPv4 prefixes use the classic Withdrawn Routes / NLRI fields (the route's attributes
 * must then carry `nextHop`); IPv6 prefixes use MP_UNREACH_NLRI / MP_REACH_NLRI (the route's
 * attributes must carry `mpReach.nextHops`; its `nlri` is ignored). Withdrawals come first,
 * batched as many per message as fit; each route group's prefixes share one attribute set and
 * are spread over ceil(size / room) messages. Throws BGPEncodeError on invalid input.
 */
export function packUpdates(
  routes: { attributes: PathAttributes; prefixes: NLRI[] }[],
  withdrawn: NLRI[],
  opts: PackOptions,
): Uint8Array[] {
  const max = Math.min(Math.max(opts.maxMessageSize ?? MAX_MESSAGE_SIZE, 64), 65535);
  const out: Uint8Array[] = [];

  // Withdrawals.
  const w4: NLRI[] = [];
  const w6: NLRI[] = [];
  for (const p of withdrawn) {
    checkNLRI(p);
    (p.family === 4 ? w4 : w6).push(p);
  }
  for (const part of chunks(w4, max - UPDATE_OVERHEAD)) {
    const w = new Writer(max);
    writeUpdateHeader(w);
    const at = w.pos;
    w.u16(0);
    for (const p of part) writeNLRI(w, p);
    w.setU16(at, w.pos - at - 2);
    w.u16(0);
    out.push(seal(w));
  }
  // MP_UNREACH_NLRI: attribute header (4, extended length) + AFI/SAFI (3).
  const unreachHead = Uint8Array.of(AFI_IPV6 >> 8, AFI_IPV6 & 0xff, SAFI_UNICAST);
  for (const part of chunks(w6, max - UPDATE_OVERHEAD - 4 - unreachHead.length)) {
    out.push(mpUpdate(max, AttrType.MP_UNREACH_NLRI, unreachHead, part));
  }

  // Announcements.
  for (const route of routes) {
    const v4: NLRI[] = [];
    const v6: NLRI[] = [];
    for (const p of route.prefixes) {
      checkNLRI(p);
      (p.family === 4 ? v4 : v6).push(p);
    }
    const mp = route.attributes.mpReach;
    if (v4.length > 0 && route.attributes.nextHop === undefined && mp !== undefined && mp.afi === AFI_IPV4 && mp.nextHops.length > 0) {
      // RFC 8950: IPv4 NLRI with an IPv6 next hop travel in MP_REACH_NLRI (AFI 1).
      if (mp.nextHops.some((h) => h.family !== 6)) throw new BGPEncodeError('IPv4 routes in MP_REACH_NLRI need IPv6 next hops (RFC 8950); IPv4 next hops go in NEXT_HOP');
      out.push(...mpReachUpdates(max, AFI_IPV4, mp.nextHops, v4, encodeAttributes(route.attributes, opts, { omitMp: true, omitNextHop: true })));
    } else if (v4.length > 0) {
      if (route.attributes.nextHop === undefined) throw new BGPEncodeError('IPv4 routes need attributes.nextHop (or mpReach with AFI 1 and IPv6 next hops, RFC 8950)');
      const attrs = encodeAttributes(route.attributes, opts, { omitMp: true });
      const room = max - UPDATE_OVERHEAD - attrs.length;
      if (room < 5) throw new BGPEncodeError(`path attributes (${attrs.length} bytes) leave no room for NLRI`);
      for (const part of chunks(v4, room)) {
        const w = new Writer(max);
        writeUpdateHeader(w);
        w.u16(0).u16(attrs.length).bytes(attrs);
        for (const p of part) writeNLRI(w, p);
        out.push(seal(w));
      }
    }
    if (v6.length > 0) {
      if (mp === undefined || mp.nextHops.length === 0) throw new BGPEncodeError('IPv6 routes need attributes.mpReach.nextHops');
      out.push(...mpReachUpdates(max, AFI_IPV6, mp.nextHops, v6, encodeAttributes(route.attributes, opts, { omitMp: true, omitNextHop: true })));
    }
  }
  return out;
}

/** UPDATEs carrying `prefixes` of `afi` in MP_REACH_NLRI (written first, extended length) with `attrs` after it. */
function mpReachUpdates(max: number, afi: number, nextHops: { family: number; value: bigint }[], prefixes: NLRI[], attrs: Uint8Array): Uint8Array[] {
  const head = mpReachHeader(afi, SAFI_UNICAST, nextHops);
  const room = max - UPDATE_OVERHEAD - attrs.length - 4 - head.length;
  if (room < (afi === AFI_IPV4 ? 5 : 17)) throw new BGPEncodeError(`path attributes (${attrs.length} bytes) leave no room for NLRI`);
  return chunks(prefixes, room).map((part) => mpUpdate(max, AttrType.MP_REACH_NLRI, head, part, attrs));
}

/** End-of-RIB marker (RFC 4724 §2): IPv4 unicast is an empty UPDATE; others an empty MP_UNREACH_NLRI. */
export function endOfRib(family: Family, opts: CodecOptions): Uint8Array {
  if (family === 4) return encodeUpdate({ withdrawn: [], attributes: {}, nlri: [] }, opts);
  if (family === 6) {
    return encodeUpdate({ withdrawn: [], attributes: { mpUnreach: { afi: AFI_IPV6, safi: SAFI_UNICAST, withdrawn: [] } }, nlri: [] }, opts);
  }
  throw new BGPEncodeError(`unknown address family ${String(family)}`);
}

function attributeKeys(a: PathAttributes): string[] {
  return (Object.keys(a) as (keyof PathAttributes)[]).filter((k) => a[k] !== undefined);
}

/** The family whose End-of-RIB marker `msg` is, or undefined if it is not one. */
export function isEndOfRib(msg: BGPMessage): Family | undefined {
  if (msg.type !== MessageType.UPDATE) return undefined;
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0) return undefined;
  const keys = attributeKeys(msg.attributes);
  if (keys.length === 0) return 4;
  const un = msg.attributes.mpUnreach;
  if (keys.length === 1 && un !== undefined && un.withdrawn.length === 0 && un.safi === SAFI_UNICAST) {
    if (un.afi === AFI_IPV6) return 6;
    if (un.afi === AFI_IPV4) return 4;
  }
  return undefined;
}

// IPv6 Neighbor Discovery (RFC 4861) over Ethernet, pure: parse Neighbor Solicitations, build
// solicited and unsolicited Neighbor Advertisements, with the ICMPv6 checksum over the IPv6
// pseudo-header (RFC 8200 §8.1).

import { ipFromBytes, ipToBytes, makeIP, type IP } from '../ip/index.ts';
import { ETHERTYPE_IPV6, FrameError, buildEthernet, parseEthernet } from './ethernet.ts';

export const ICMPV6 = 58;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const OPT_SOURCE_LL = 1;
export const OPT_TARGET_LL = 2;
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;

export const ALL_NODES: IP = makeIP(6, 0xff020000000000000000000000000001n);
export const UNSPECIFIED: IP = makeIP(6, 0n);

export interface IPv6Packet {
  src: IP;
  dst: IP;
  nextHeader: number;
  hopLimit: number;
  payload: Buffer;
}

export interface NeighborSolicitation {
  src: IP;
  dst: IP;
  target: IP;
  /** Source link-layer address option, when present. */
  sourceMAC?: Buffer;
}

export interface NeighborAdvertisement {
  src: IP;
  dst: IP;
  target: IP;
  flags: number;
  targetMAC?: Buffer;
}

/** ff02::1:ffXX:XXXX for `ip` (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(ip: IP): IP {
  if (ip.family !== 6) throw new FrameError('solicited-node addresses exist for IPv6 only');
  return makeIP(6, 0xff0200000000000000000001ff000000n | (ip.value & 0xffffffn));
}

/** 33:33 followed by the low 32 bits of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMAC(group: IP): Buffer {
  const b = ipToBytes(group);
  return Buffer.from([0x33, 0x33, b[12] ?? 0, b[13] ?? 0, b[14] ?? 0, b[15] ?? 0]);
}

export function isMulticastIPv6(ip: IP): boolean {
  return ip.family === 6 && ip.value >> 120n === 0xffn;
}

/** The Internet checksum of the ICMPv6 message `icmp` (checksum field treated as zero). */
export function icmpv6Checksum(src: IP, dst: IP, icmp: Buffer): number {
  let sum = 0;
  const add16 = (buf: Uint8Array, len: number): void => {
    for (let i = 0; i < len; i += 2) sum += ((buf[i] ?? 0) << 8) | (i + 1 < len ? (buf[i + 1] ?? 0) : 0);
  };
  add16(ipToBytes(src), 16);
  add16(ipToBytes(dst), 16);
  sum += (icmp.length >>> 16) & 0xffff;
  sum += icmp.length & 0xffff;
  sum += ICMPV6;
  const copy = Buffer.from(icmp);
  if (copy.length >= 4) copy.writeUInt16BE(0, 2);
  add16(copy, copy.length);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const r = ~sum & 0xffff;
  return r === 0 ? 0xffff : r;
}

export function parseIPv6(payload: Buffer): IPv6Packet {
  if (payload.length < 40) throw new FrameError(`IPv6 packet too short: ${payload.length} bytes`);
  const version = (payload[0] ?? 0) >> 4;
  if (version !== 6) throw new FrameError(`IP version ${version}, expected 6`);
  const plen = payload.readUInt16BE(4);
  if (40 + plen > payload.length) throw new FrameError(`IPv6 payload length ${plen} exceeds the frame`);
  return {
    src: ipFromBytes(payload.subarray(8, 24)),
    dst: ipFromBytes(payload.subarray(24, 40)),
    nextHeader: payload[6] ?? 0,
    hopLimit: payload[7] ?? 0,
    payload: payload.subarray(40, 40 + plen),
  };
}

export function buildIPv6(src: IP, dst: IP, nextHeader: number, hopLimit: number, payload: Buffer): Buffer {
  if (src.family !== 6 || dst.family !== 6) throw new FrameError('IPv6 addresses required');
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x60;
  b.writeUInt16BE(payload.length, 4);
  b[6] = nextHeader;
  b[7] = hopLimit;
  Buffer.from(ipToBytes(src)).copy(b, 8);
  Buffer.from(ipToBytes(dst)).copy(b, 24);
  payload.copy(b, 40);
  return b;
}

/** The link-layer address of ND option `want` (1 source, 2 target) in an options area, if present. */
export function parseLLOption(opts: Buffer, want: number): Buffer | undefined {
  let off = 0;
  let found: Buffer | undefined;
  while (off + 2 <= opts.length) {
    const type = opts[off] ?? 0;
    const len = (opts[off + 1] ?? 0) * 8;
    if (len === 0) throw new FrameError('ND option with length 0');
    if (off + len > opts.length) throw new FrameError('ND option overruns the message');
    if (type === want && len >= 8) found = Buffer.from(opts.subarray(off + 2, off + 8));
    off += len;
  }
  return found;
}

/**
 * Parses an Ethernet frame and returns the Neighbor Solicitation it carries, validated as
 * RFC 4861 §7.1.1 asks (hop limit 255, code 0, length >= 24, correct checksum, target not
 * multicast, DAD probes sent to a solicited-node group without a source link-layer option).
 * Returns null for IPv6 frames that are not NS; throws FrameError for malformed/invalid NS.
 */
export function parseNeighborSolicitationFrame(frame: Buffer): NeighborSolicitation | null {
  const eth = parseEthernet(frame);
  if (eth.ethertype !== ETHERTYPE_IPV6) return null;
  const ip6 = parseIPv6(eth.payload);
  if (ip6.nextHeader !== ICMPV6) return null; // extension headers are not used by ND senders
  const icmp = ip6.payload;
  if (icmp.length < 1 || icmp[0] !== ND_NEIGHBOR_SOLICIT) return null;
  if (icmp.length < 24) throw new FrameError(`NS too short: ${icmp.length} bytes`);
  if (ip6.hopLimit !== 255) throw new FrameError(`NS hop limit ${ip6.hopLimit}, must be 255`);
  if (icmp[1] !== 0) throw new FrameError(`NS code ${icmp[1]}, must be 0`);
  const sum = icmp.readUInt16BE(2);
  const want = icmpv6Checksum(ip6.src, ip6.dst, icmp);
  if (sum !== want) throw new FrameError(`NS checksum 0x${sum.toString(16)}, expected 0x${want.toString(16)}`);
  const target = ipFromBytes(icmp.subarray(8, 24));
  if (isMulticastIPv6(target)) throw new FrameError('NS target is multicast');
  const sourceMAC = parseLLOption(icmp.subarray(24), OPT_SOURCE_LL);
  if (ip6.src.value === 0n) {
    const snm = solicitedNodeAddress(target);
    if (ip6.dst.value !== snm.value) throw new FrameError('DAD NS not sent to the solicited-node group');
    if (sourceMAC) throw new FrameError('DAD NS carries a source link-layer option');
  }
  const ns: NeighborSolicitation = { src: ip6.src, dst: ip6.dst, target };
  if (sourceMAC) ns.sourceMAC = sourceMAC;
  return ns;
}

/** Builds the ICMPv6 NA message (checksum filled in). */
export function buildNeighborAdvertisement(na: NeighborAdvertisement): Buffer {
  if (na.target.family !== 6) throw new FrameError('NA target must be IPv6');
  const withOpt = na.targetMAC !== undefined;
  const b = Buffer.alloc(withOpt ? 32 : 24);
  b[0] = ND_NEIGHBOR_ADVERT;
  b[1] = 0;
  b[4] = na.flags & 0xe0;
  Buffer.from(ipToBytes(na.target)).copy(b, 8);
  if (na.targetMAC) {
    if (na.targetMAC.length !== 6) throw new FrameError('MAC addresses must be 6 bytes');
    b[24] = OPT_TARGET_LL;
    b[25] = 1;
    na.targetMAC.copy(b, 26);
  }
  b.writeUInt16BE(icmpv6Checksum(na.src, na.dst, b), 2);
  return b;
}

export function parseNeighborAdvertisementFrame(frame: Buffer): NeighborAdvertisement | null {
  const eth = parseEthernet(frame);
  if (eth.ethertype !== ETHERTYPE_IPV6) return null;
  const ip6 = parseIPv6(eth.payload);
  if (ip6.nextHeader !== ICMPV6) return null;
  const icmp = ip6.payload;
  if (icmp.length < 1 || icmp[0] !== ND_NEIGHBOR_ADVERT) return null;
  if (icmp.length < 24) throw new FrameError(`NA too short: ${icmp.length} bytes`);
  const sum = icmp.readUInt16BE(2);
  const want = icmpv6Checksum(ip6.src, ip6.dst, icmp);
  if (sum !== want) throw new FrameError(`NA checksum 0x${sum.toString(16)}, expected 0x${want.toString(16)}`);
  const na: NeighborAdvertisement = { src: ip6.src, dst: ip6.dst, target: ipFromBytes(icmp.subarray(8, 24)), flags: (icmp[4] ?? 0) & 0xe0 };
  const mac = parseLLOption(icmp.subarray(24), OPT_TARGET_LL);
  if (mac) na.targetMAC = mac;
  return na;
}

/**
 * The solicited NA answering `ns` for `target` at `mac`. A DAD probe (source ::) is answered
 * to all-nodes without the Solicited flag (RFC 4861 §7.2.4); otherwise unicast to the
 * solicitor with Solicited and Override set. `src` is the address we send from (the
 * interface's link-local address, or the target itself when there is none).
 */
export function buildNAReplyFrame(ns: NeighborSolicitation, mac: Buffer, src: IP, ethDstFallback: Buffer): Buffer {
  const dad = ns.src.value === 0n;
  const dst = dad ? ALL_NODES : ns.src;
  const flags = dad ? NA_FLAG_OVERRIDE : NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE;
  const icmp = buildNeighborAdvertisement({ src, dst, target: ns.target, flags, targetMAC: mac });
  const dstMAC = dad ? multicastMAC(ALL_NODES) : (ns.sourceMAC ?? ethDstFallback);
  return buildEthernet(dstMAC, mac, ETHERTYPE_IPV6, buildIPv6(src, dst, ICMPV6, 255, icmp));
}

/** An unsolicited NA to all-nodes with the Override flag: neighbours update their caches. */
export function buildUnsolicitedNAFrame(target: IP, mac: Buffer, src: IP): Buffer {
  const icmp = buildNeighborAdvertisement({ src, dst: ALL_NODES, target, flags: NA_FLAG_OVERRIDE, targetMAC: mac });
  return buildEthernet(multicastMAC(ALL_NODES), mac, ETHERTYPE_IPV6, buildIPv6(src, ALL_NODES, ICMPV6, 255, icmp));
}

/** A Neighbor Solicitation frame (used by tests and diagnostics). */
export function buildNeighborSolicitationFrame(src: IP, srcMAC: Buffer, target: IP): Buffer {
  const dst = solicitedNodeAddress(target);
  const withOpt = src.value !== 0n;
  const icmp = Buffer.alloc(withOpt ? 32 : 24);
  icmp[0] = ND_NEIGHBOR_SOLICIT;
  Buffer.from(ipToBytes(target)).copy(icmp, 8);
  if (withOpt) {
    icmp[24] = OPT_SOURCE_LL;
    icmp[25] = 1;
    srcMAC.copy(icmp, 26);
  }
  icmp.writeUInt16BE(icmpv6Checksum(src, dst, icmp), 2);
  return buildEthernet(multicastMAC(dst), srcMAC, ETHERTYPE_IPV6, buildIPv6(src, dst, ICMPV6, 255, icmp));
}

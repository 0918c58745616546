// Router discovery for unnumbered BGP (RFC 4861 §4.1, §4.2, §6.1): parse the Router
// Advertisements / Solicitations seen on an interface and build our own. Pure: Ethernet frames
// in, plain data out (and back).
//
// FRR's `neighbor eth0 interface` learns the peer's IPv6 link-local address from the Router
// Advertisements zebra receives on eth0 (RA source address, hop limit 255) and sends its own
// RAs there. We do the same in both directions: the peer's link-local address is the source of
// its RAs, and our RAs (router lifetime 0: we are not a default router) tell it ours.

import { isLinkLocal, makeIP, type IP } from '../../ip/index.ts';
import { ETHERTYPE_IPV6, FrameError, buildEthernet, parseEthernet } from '../../layer2/ethernet.ts';
import { ALL_NODES, ICMPV6, OPT_SOURCE_LL, buildIPv6, icmpv6Checksum, multicastMAC, parseIPv6, parseLLOption } from '../../layer2/ndp.ts';

export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
/** ff02::2 */
export const ALL_ROUTERS: IP = makeIP(6, 0xff020000000000000000000000000002n);

/** A valid Router Advertisement or Solicitation seen on the link. */
export interface RouterDiscoveryMessage {
  type: 'advertisement' | 'solicitation';
  /** IPv6 source: for an advertisement always link-local (RFC 4861 §6.1.2). */
  src: IP;
  /** Router Lifetime in seconds (advertisements only; 0 = not a default router). */
  routerLifetime?: number;
  /** Source link-layer address option, when present. */
  sourceMAC?: Buffer;
}

/**
 * The Router Advertisement or Solicitation carried by `frame`, validated as RFC 4861 §6.1.1 /
 * §6.1.2 ask (hop limit 255, code 0, length, checksum, advertisements from a link-local
 * source). Returns null for IPv6 frames that are neither; throws FrameError for invalid ones.
 */
export function parseRouterDiscoveryFrame(frame: Buffer): RouterDiscoveryMessage | null {
  const eth = parseEthernet(frame);
  if (eth.ethertype !== ETHERTYPE_IPV6) return null;
  const ip6 = parseIPv6(eth.payload);
  if (ip6.nextHeader !== ICMPV6) return null;
  const icmp = ip6.payload;
  const t = icmp[0];
  if (t !== ND_ROUTER_ADVERT && t !== ND_ROUTER_SOLICIT) return null;
  const name = t === ND_ROUTER_ADVERT ? 'RA' : 'RS';
  const min = t === ND_ROUTER_ADVERT ? 16 : 8;
  if (icmp.length < min) throw new FrameError(`${name} too short: ${icmp.length} bytes`);
  if (ip6.hopLimit !== 255) throw new FrameError(`${name} hop limit ${ip6.hopLimit}, must be 255`);
  if (icmp[1] !== 0) throw new FrameError(`${name} code ${icmp[1]}, must be 0`);
  const sum = icmp.readUInt16BE(2);
  const want = icmpv6Checksum(ip6.src, ip6.dst, icmp);
  if (sum !== want) throw new FrameError(`${name} checksum 0x${sum.toString(16)}, expected 0x${want.toString(16)}`);
  const sourceMAC = parseLLOption(icmp.subarray(min), OPT_SOURCE_LL);
  if (t === ND_ROUTER_ADVERT) {
    if (!isLinkLocal(ip6.src)) throw new FrameError('RA source is not a link-local address');
    const m: RouterDiscoveryMessage = { type: 'advertisement', src: ip6.src, routerLifetime: icmp.readUInt16BE(6) };
    if (sourceMAC) m.sourceMAC = sourceMAC;
    return m;
  }
  if (ip6.src.value === 0n && sourceMAC) throw new FrameError('RS from :: carries a source link-layer option');
  const m: RouterDiscoveryMessage = { type: 'solicitation', src: ip6.src };
  if (sourceMAC) m.sourceMAC = sourceMAC;
  return m;
}

function sourceLLOption(mac: Buffer): Buffer {
  if (mac.length !== 6) throw new FrameError('MAC addresses must be 6 bytes');
  const o = Buffer.alloc(8);
  o[0] = OPT_SOURCE_LL;
  o[1] = 1;
  mac.copy(o, 2);
  return o;
}

function frame(src: IP, dst: IP, mac: Buffer, icmp: Buffer): Buffer {
  if (!isLinkLocal(src)) throw new FrameError('router discovery messages are sent from the link-local address');
  icmp.writeUInt16BE(icmpv6Checksum(src, dst, icmp), 2);
  return buildEthernet(multicastMAC(dst), mac, ETHERTYPE_IPV6, buildIPv6(src, dst, ICMPV6, 255, icmp));
}

/**
 * A Router Advertisement to all-nodes from `src` (our link-local address) and `mac`, with
 * router lifetime `routerLifetime` (default 0: not a default router, so hosts on the link add
 * no default route through us), no flags, no prefixes, and the source link-layer option.
 */
export function buildRouterAdvertisementFrame(src: IP, mac: Buffer, routerLifetime = 0): Buffer {
  const icmp = Buffer.concat([Buffer.alloc(16), sourceLLOption(mac)]);
  icmp[0] = ND_ROUTER_ADVERT;
  icmp.writeUInt16BE(routerLifetime & 0xffff, 6);
  return frame(src, ALL_NODES, mac, icmp);
}

/** A Router Solicitation to all-routers: the peer answers with an advertisement at once. */
export function buildRouterSolicitationFrame(src: IP, mac: Buffer): Buffer {
  const icmp = Buffer.concat([Buffer.alloc(8), sourceLLOption(mac)]);
  icmp[0] = ND_ROUTER_SOLICIT;
  return frame(src, ALL_ROUTERS, mac, icmp);
}


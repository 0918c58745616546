// ARP for Ethernet/IPv4 (RFC 826), pure: parse and build requests, replies and gratuitous
// announcements. Addresses are IPv4 `IP` values from src/ip.

import { ipFromBytes, ipToBytes, type IP } from '../ip/index.ts';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, FrameError, ZERO_MAC, buildEthernet, parseEthernet } from './ethernet.ts';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ARPPacket {
  op: number;
  senderMAC: Buffer;
  senderIP: IP;
  targetMAC: Buffer;
  targetIP: IP;
}

/** Parses the ARP payload (after the Ethernet header). Only Ethernet/IPv4 ARP is accepted. */
export function parseARP(payload: Buffer): ARPPacket {
  if (payload.length < 28) throw new FrameError(`ARP packet too short: ${payload.length} bytes`);
  const htype = payload.readUInt16BE(0);
  const ptype = payload.readUInt16BE(2);
  const hlen = payload[4];
  const plen = payload[5];
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || hlen !== 6 || plen !== 4) {
    throw new FrameError(`not Ethernet/IPv4 ARP (htype ${htype}, ptype 0x${ptype.toString(16)}, hlen ${hlen}, plen ${plen})`);
  }
  const op = payload.readUInt16BE(6);
  if (op !== ARP_REQUEST && op !== ARP_REPLY) throw new FrameError(`unknown ARP operation ${op}`);
  return {
    op,
    senderMAC: Buffer.from(payload.subarray(8, 14)),
    senderIP: ipFromBytes(payload.subarray(14, 18)),
    targetMAC: Buffer.from(payload.subarray(18, 24)),
    targetIP: ipFromBytes(payload.subarray(24, 28)),
  };
}

/** Parses a whole Ethernet frame carrying ARP. */
export function parseARPFrame(frame: Buffer): ARPPacket & { ethSrc: Buffer; ethDst: Buffer } {
  const eth = parseEthernet(frame);
  if (eth.ethertype !== ETHERTYPE_ARP) throw new FrameError(`not an ARP frame (ethertype 0x${eth.ethertype.toString(16)})`);
  return { ...parseARP(eth.payload), ethSrc: Buffer.from(eth.src), ethDst: Buffer.from(eth.dst) };
}

export function buildARP(p: ARPPacket): Buffer {
  if (p.senderIP.family !== 4 || p.targetIP.family !== 4) throw new FrameError('ARP carries IPv4 addresses only');
  if (p.senderMAC.length !== 6 || p.targetMAC.length !== 6) throw new FrameError('MAC addresses must be 6 bytes');
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(ETHERTYPE_IPV4, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(p.op, 6);
  p.senderMAC.copy(b, 8);
  Buffer.from(ipToBytes(p.senderIP)).copy(b, 14);
  p.targetMAC.copy(b, 18);
  Buffer.from(ipToBytes(p.targetIP)).copy(b, 24);
  return b;
}

/** The reply to `req` saying that `ip` is at `mac` (unicast to the requester). */
export function buildARPReply(req: ARPPacket, mac: Buffer): Buffer {
  const arp = buildARP({ op: ARP_REPLY, senderMAC: mac, senderIP: req.targetIP, targetMAC: req.senderMAC, targetIP: req.senderIP });
  return buildEthernet(req.senderMAC, mac, ETHERTYPE_ARP, arp);
}

/**
 * A gratuitous ARP (RFC 5227 "ARP announcement"): a broadcast request with sender and target
 * IP both `ip`, so every host that has `ip` in its cache updates it to `mac`.
 */
export function buildGratuitousARP(ip: IP, mac: Buffer): Buffer {
  const arp = buildARP({ op: ARP_REQUEST, senderMAC: mac, senderIP: ip, targetMAC: ZERO_MAC, targetIP: ip });
  return buildEthernet(BROADCAST_MAC, mac, ETHERTYPE_ARP, arp);
}

/** A who-has request (used by tests and diagnostics). */
export function buildARPRequest(senderMAC: Buffer, senderIP: IP, targetIP: IP): Buffer {
  const arp = buildARP({ op: ARP_REQUEST, senderMAC, senderIP, targetMAC: ZERO_MAC, targetIP });
  return buildEthernet(BROADCAST_MAC, senderMAC, ETHERTYPE_ARP, arp);
}

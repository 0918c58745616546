// Ethernet II framing and MAC address helpers (pure).

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_IPV4 = 0x0800;
/** Minimum Ethernet frame without FCS; shorter frames are zero-padded on build. */
export const MIN_FRAME = 60;

export const BROADCAST_MAC: Buffer = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC: Buffer = Buffer.alloc(6);

export interface EthernetFrame {
  dst: Buffer;
  src: Buffer;
  ethertype: number;
  payload: Buffer;
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Parses an Ethernet II header (no 802.1Q tag: AF_PACKET delivers tags out of band). */
export function parseEthernet(frame: Buffer): EthernetFrame {
  if (frame.length < 14) throw new FrameError(`frame too short for Ethernet: ${frame.length} bytes`);
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    ethertype: frame.readUInt16BE(12),
    payload: frame.subarray(14),
  };
}

export function buildEthernet(dst: Buffer, src: Buffer, ethertype: number, payload: Buffer): Buffer {
  if (dst.length !== 6 || src.length !== 6) throw new FrameError('MAC addresses must be 6 bytes');
  const len = Math.max(MIN_FRAME, 14 + payload.length);
  const out = Buffer.alloc(len);
  dst.copy(out, 0);
  src.copy(out, 6);
  out.writeUInt16BE(ethertype, 12);
  payload.copy(out, 14);
  return out;
}

export function formatMAC(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function parseMAC(s: string): Buffer {
  if (!MAC_RE.test(s)) throw new FrameError(`invalid MAC address: ${JSON.stringify(s)}`);
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

export function isMulticastMAC(mac: Uint8Array): boolean {
  return ((mac[0] ?? 0) & 1) === 1;
}

// Shared pieces of the BGP-4 codec: constants, the encode error, a growable byte writer, and the
// NOTIFICATION names table (RFC 4271 §4.5/§6, RFC 4486, RFC 5492, RFC 6608, RFC 7313, RFC 8538).

import type { NotificationMessage } from './messages.ts';

export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_SIZE = 4096;
/** RFC 6793: the 2-octet placeholder for an AS number that needs 4 octets. */
export const AS_TRANS = 23456;
export const BGP_VERSION = 4;

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;

/** Path attribute type codes the codec interprets. */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** Path attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** Capability codes the codec interprets. */
export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXTHOP: 5,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ROUTE_REFRESH_CISCO: 128,
} as const;

/** Thrown by the encoder when asked to encode something that cannot be put on the wire. */
export class BGPEncodeError extends Error {
  readonly code = 'ERR_BGP_ENCODE';
  constructor(message: string) {
    super(message);
    this.name = 'BGPEncodeError';
  }
}

export function notification(code: number, subcode: number, data?: Uint8Array): NotificationMessage {
  return { type: 3, code, subcode, data: data ?? new Uint8Array(0) };
}

export function u16Bytes(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

/** A growable big-endian byte writer. */
export class Writer {
  buf: Uint8Array;
  pos = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  /** Writes `n` bytes of a big-endian unsigned bigint. */
  big(v: bigint, n: number): this {
    this.ensure(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.pos + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.pos += n;
    return this;
  }
  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

// ---------------------------------------------------------------------------------------------
// NOTIFICATION names

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: {
    0: 'Unspecific',
    1: 'Connection Not Synchronized',
    2: 'Bad Message Length',
    3: 'Bad Message Type',
  },
  2: {
    0: 'Unspecific',
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    5: 'Authentication Failure (deprecated)',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    0: 'Unspecific',
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop (deprecated)',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    0: 'Unspecified Error',
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: {
    0: 'Reserved',
    1: 'Invalid Message Length',
  },
};

/**
 * Human-readable name of a NOTIFICATION code/subcode, e.g. `notificationName(6, 2)` is
 * "Cease/Administrative Shutdown". Codes without subcodes (Hold Timer Expired, Cease with
 * subcode 0) give the code name alone; unknown values are named by number.
 */
export function notificationName(code: number, subcode: number): string {
  const name = CODE_NAMES[code];
  if (name === undefined) return `Unknown Error Code ${code}/${subcode}`;
  const subs = SUBCODE_NAMES[code];
  if (subs === undefined) return subcode === 0 ? name : `${name}/Unknown Subcode ${subcode}`;
  const sub = subs[subcode];
  if (sub !== undefined) return `${name}/${sub}`;
  if (subcode === 0) return name;
  return `${name}/Unknown Subcode ${subcode}`;
}

/** The value for OPEN's 2-octet "My Autonomous System" field: the ASN, or AS_TRANS above 65535. */
export function twoOctetAS(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/**
 * RFC 9003 Shutdown Communication: the NOTIFICATION data for Cease/Administrative Shutdown (2)
 * or Administrative Reset (4): a length octet and up to 255 bytes of UTF-8 (cut at a character
 * boundary).
 */
export function shutdownCommunication(text: string): Uint8Array {
  let bytes = new TextEncoder().encode(text);
  if (bytes.length > 255) {
    let end = 255;
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/** The RFC 9003 message in a Cease NOTIFICATION's data, or undefined if there is none/it is malformed. */
export function parseShutdownCommunication(data: Uint8Array): string | undefined {
  const len = data[0];
  if (len === undefined || len === 0 || data.length < 1 + len) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

// Demultiplexing of received BFD Control packets to sessions (RFC 5880 §6.3, §6.8.6; RFC 5881
// §4-5 single hop; RFC 5883 multi-hop). Pure: decides which session a datagram belongs to, or
// why it is dropped. Every drop has a stable reason (counted by the shell, never thrown).

import { BfdDecodeError, decodeControl, type ControlPacket, type DecodeReason } from './codec.ts';

export const SINGLE_HOP_PORT = 3784;
export const MULTI_HOP_PORT = 4784;
/** RFC 5881 §4: source port range of Control packets. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;

export type DropReason =
  | DecodeReason
  /** Single hop: TTL / hop limit not 255 (GTSM); multi-hop: below the profile's minimumTtl. */
  | 'ttl'
  /** Your Discriminator names no session of ours. */
  | 'unknown-discriminator'
  /** Your Discriminator 0 and no session for the source address. */
  | 'no-session'
  /** The session's peer is not the packet's source. */
  | 'address-mismatch'
  /** Authentication section present; our sessions run without authentication (§6.8.6). */
  | 'auth-unexpected';

export const DROP_REASONS: readonly DropReason[] = [
  'short',
  'version',
  'length',
  'detect-mult-zero',
  'multipoint',
  'my-discriminator-zero',
  'your-discriminator-zero',
  'auth-section',
  'ttl',
  'unknown-discriminator',
  'no-session',
  'address-mismatch',
  'auth-unexpected',
];

export interface MuxEntry {
  /** Our discriminator for the session. */
  localDiscr: number;
  peerAddress: string;
  multihop: boolean;
  /** Multi-hop: lowest accepted TTL (BFDProfile minimumTtl). Single hop always needs 255. */
  minimumTtl: number;
}

export interface MuxLookup<E extends MuxEntry> {
  byDiscr(localDiscr: number): E | undefined;
  byPeer(peerAddress: string, multihop: boolean): E | undefined;
}

export type MuxResult<E> = { ok: true; entry: E; packet: ControlPacket } | { ok: false; reason: DropReason; detail: string };

/**
 * Classifies one datagram received on the single-hop (3784) or multi-hop (4784) port.
 * `ttl` is the received TTL / hop limit (-1 when the kernel did not report it).
 */
export function demux<E extends MuxEntry>(data: Buffer, from: string, ttl: number, multihop: boolean, sessions: MuxLookup<E>): MuxResult<E> {
  let packet: ControlPacket;
  try {
    packet = decodeControl(data);
  } catch (e) {
    if (e instanceof BfdDecodeError) return { ok: false, reason: e.reason, detail: e.message };
    throw e;
  }
  // GTSM before anything session-specific: a spoofed packet from afar must not find a session.
  if (!multihop && ttl !== 255) return { ok: false, reason: 'ttl', detail: `single-hop packet from ${from} with TTL ${ttl} (must be 255)` };
  let entry: E | undefined;
  if (packet.yourDiscr !== 0) {
    entry = sessions.byDiscr(packet.yourDiscr);
    if (!entry || entry.multihop !== multihop) return { ok: false, reason: 'unknown-discriminator', detail: `your discriminator ${packet.yourDiscr} from ${from}` };
    if (entry.peerAddress !== from) return { ok: false, reason: 'address-mismatch', detail: `discriminator ${packet.yourDiscr} belongs to ${entry.peerAddress}, packet from ${from}` };
  } else {
    entry = sessions.byPeer(from, multihop);
    if (!entry) return { ok: false, reason: 'no-session', detail: `no ${multihop ? 'multi-hop' : 'single-hop'} BFD session for ${from}` };
  }
  if (multihop && ttl < entry.minimumTtl) return { ok: false, reason: 'ttl', detail: `multi-hop packet from ${from} with TTL ${ttl} (minimumTtl ${entry.minimumTtl})` };
  if (packet.auth) return { ok: false, reason: 'auth-unexpected', detail: `authenticated packet (type ${packet.auth.type}) from ${from}; authentication is not configured` };
  return { ok: true, entry, packet };
}

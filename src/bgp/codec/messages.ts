// BGP-4 message model (RFC 4271 and extensions): the plain-data form the codec decodes into and
// encodes from. No sockets, no timers. The codec (decode.ts / encode.ts) implements it.

import type { Family } from '../../ip/index.ts';

export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** AFI/SAFI pair (RFC 4760). We use IPv4 unicast (1/1) and IPv6 unicast (2/1). */
export interface AfiSafi {
  afi: number;
  safi: number;
}

export type Capability =
  | { code: 1; kind: 'multiprotocol'; afi: number; safi: number }
  /** Code 2 (RFC 2918); 128 is the pre-standard Cisco code, accepted and re-encoded as received. */
  | { code: 2 | 128; kind: 'route-refresh' }
  | {
      code: 64;
      kind: 'graceful-restart';
      restartState: boolean;
      /** RFC 8538 "N" bit (graceful notification support); absent = false. */
      notification?: boolean;
      restartTime: number;
      families: { afi: number; safi: number; forwardingState: boolean }[];
    }
  | { code: 65; kind: 'four-octet-as'; asn: number }
  /**
   * Code 5 (RFC 8950): NLRI of `afi`/`safi` may carry a next hop of `nextHopAfi` (IPv4 unicast
   * with IPv6 next hops: afi 1, safi 1, nextHopAfi 2). A value whose length is not a multiple of
   * 6 is kept as `unknown`.
   */
  | { code: 5; kind: 'extended-nexthop'; entries: { afi: number; safi: number; nextHopAfi: number }[] }
  | { code: number; kind: 'unknown'; data: Uint8Array };

export interface OpenMessage {
  type: 1;
  version: number; // 4
  /** The 2-octet field as sent (AS_TRANS 23456 when the real AS needs 4 octets). */
  myAS: number;
  holdTime: number;
  /** BGP identifier as uint32. */
  bgpId: number;
  capabilities: Capability[];
}

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

export interface AsPathSegment {
  type: 1 | 2 | 3 | 4; // AS_SET, AS_SEQUENCE, AS_CONFED_SEQUENCE, AS_CONFED_SET
  asns: number[];
}

/** A prefix on the wire: family, network bits as bigint (host bits zero), length. */
export interface NLRI {
  family: Family;
  network: bigint;
  length: number;
}

export interface PathAttributes {
  origin?: number;
  /** Full (4-octet) AS path after AS4_PATH reconstruction. */
  asPath?: AsPathSegment[];
  nextHop?: { family: 4; value: bigint };
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: bigint };
  /** RFC 1997 communities (uint32 each). */
  communities?: number[];
  /** RFC 8092 large communities. */
  largeCommunities?: [number, number, number][];
  /**
   * RFC 4360 extended communities we originate, 8 octets each as 64-bit values (see
   * extcommunity.ts, e.g. linkBandwidth). Encode only: the decoder leaves a received
   * EXTENDED_COMMUNITIES attribute in `unknown` (type 16).
   */
  extendedCommunities?: bigint[];
  mpReach?: {
    afi: number;
    safi: number;
    /**
     * One or two next hops (global, optional link-local for IPv6). AFI 1 (IPv4 NLRI) with IPv6
     * next hops is RFC 8950 (extended next hop capability negotiated).
     */
    nextHops: { family: Family; value: bigint }[];
    nlri: NLRI[];
  };
  mpUnreach?: { afi: number; safi: number; withdrawn: NLRI[] };
  /** Attributes we do not interpret, passed through opaquely (flags, type code, value). */
  unknown?: { flags: number; type: number; value: Uint8Array }[];
}

export interface UpdateMessage {
  type: 2;
  /** IPv4 withdrawn routes (the classic field). */
  withdrawn: NLRI[];
  attributes: PathAttributes;
  /** IPv4 NLRI (the classic field). */
  nlri: NLRI[];
}

export interface NotificationMessage {
  type: 3;
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface KeepaliveMessage {
  type: 4;
}

export interface RouteRefreshMessage {
  type: 5;
  afi: number;
  /** 0 = normal request (RFC 2918); RFC 7313 subtypes 1 (BoRR) / 2 (EoRR). */
  subtype: number;
  safi: number;
}

export type BGPMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** RFC 4271 §4.5 error codes. */
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7, // RFC 7313
} as const;

export const HeaderSubcode = { CONNECTION_NOT_SYNCHRONIZED: 1, BAD_MESSAGE_LENGTH: 2, BAD_MESSAGE_TYPE: 3 } as const;
export const OpenSubcode = {
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7, // RFC 5492
} as const;
export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;
export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9, // RFC 8538
} as const;

/**
 * Outcome of decoding one framed message. The decoder never throws; malformed input is
 * classified per RFC 4271 §6 and RFC 7606:
 *  - `ok`: a valid message (for UPDATE, `discarded` lists attribute type codes dropped under
 *    "attribute discard");
 *  - `treat-as-withdraw`: the UPDATE's NLRI (classic + MP) must be treated as withdrawn;
 *  - `error`: the session must be reset with this NOTIFICATION.
 */
export type DecodeResult =
  | { kind: 'ok'; message: BGPMessage; discarded?: number[] }
  | { kind: 'treat-as-withdraw'; message: UpdateMessage; reason: string }
  | { kind: 'error'; notification: NotificationMessage; reason: string };

/** Options that change how messages are decoded / encoded on a session. */
export interface CodecOptions {
  /** Both sides advertised the 4-octet AS capability (AS_PATH carries 4-octet ASNs). */
  fourOctetAS: boolean;
  /** Add-path is not supported: always false. */
  addPath?: false;
  /** Largest message accepted/produced (default 4096; up to 65535 with RFC 8654). */
  maxMessageSize?: number;
  /** The peer is external (eBGP): a received LOCAL_PREF is discarded (RFC 7606 §7.5). */
  ebgp?: boolean;
}

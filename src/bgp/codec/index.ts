// BGP-4 wire codec: framing, decoding with RFC 4271 §6 / RFC 7606 error classification,
// encoding, UPDATE packing and End-of-RIB. Pure: no sockets, no timers.

export * from './messages.ts';
export {
  AFI_IPV4,
  AFI_IPV6,
  AS_TRANS,
  AttrFlag,
  AttrType,
  BGP_VERSION,
  BGPEncodeError,
  CapabilityCode,
  HEADER_LENGTH,
  MAX_MESSAGE_SIZE,
  SAFI_UNICAST,
  notificationName,
  parseShutdownCommunication,
  shutdownCommunication,
  twoOctetAS,
} from './common.ts';
export { MessageFramer } from './framer.ts';
export type { FrameResult, FramerOptions } from './framer.ts';
export { decodeMessage } from './decode.ts';
export { checkReceivedAttributes } from './received.ts';
export {
  EXTENDED_COMMUNITIES,
  EXT_SUBTYPE_LINK_BANDWIDTH,
  EXT_TYPE_AS2_NON_TRANSITIVE,
  extendedCommunitiesOf,
  linkBandwidth,
  parseLinkBandwidth,
} from './extcommunity.ts';
export type { ReceivedContext } from './received.ts';
export {
  encodeAttributes,
  encodeKeepalive,
  encodeMessage,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  encodeUpdate,
} from './encode.ts';
export { endOfRib, isEndOfRib, packUpdates } from './pack.ts';
export type { PackOptions } from './pack.ts';

// The BGP speaker's own API: what a session is asked to do (peer parameters, routes, receive
// policy). The speaker does not import configuration or planner types; the node runtime hands it
// the planner's SessionPlan, which has (at least) these fields.

import type { IP, Prefix } from '../../ip/index.ts';

/** The peer parameters a session uses (MetalLB BGPPeer semantics; docs/bgp.md). */
export interface BgpPeerParams {
  /** Name for logs and status (the BGPPeer's). */
  name: string;
  myASN: number;
  peerASN: number;
  dynamicASN?: 'internal' | 'external';
  /** AS presented to the peer instead of myASN. */
  localASN?: number;
  address?: IP;
  /** Unnumbered: BGP to the router's IPv6 link-local address on this interface (learned from its RAs; docs/bgp.md). */
  interface?: string;
  port: number;
  sourceAddress?: IP;
  routerID?: IP;
  holdTime?: number;
  keepaliveTime?: number;
  /** Fixed connect-retry delay (ms); unset: exponential backoff. */
  connectTime?: number;
  ebgpMultiHop: boolean;
  /** TCP-MD5 password (already resolved from its Secret). */
  password?: string;
  /** Set when the password comes from a Secret: an unresolved one blocks the session with this reason. */
  passwordSecret?: { namespace: string; name: string };
  bfdProfile?: string;
  /** "" = default VRF. */
  vrf: string;
  enableGracefulRestart: boolean;
  gracefulRestartTime?: number;
  /** Wait for the peer to connect (metallb-ts.io/passive). */
  passive?: boolean;
  disableMP: boolean;
  dualStackAddressFamily: boolean;
}

/** One route to announce on a session. */
export interface BgpRoute {
  prefix: Prefix;
  /** Undefined = the session's local address (the usual case). */
  nextHop?: IP;
  /** iBGP only. */
  localPref?: number;
  /** Standard communities as uint32 values, sorted, deduplicated. */
  communities: number[];
  largeCommunities: [number, number, number][];
  /** Weighted ECMP: link-bandwidth community proportional to this (unset: none). */
  weight?: number;
}

/** What a session imports: prefixes with length bounds, and the prefix limit (Cease 6/1 above it). */
export interface BgpReceivePolicy {
  mode: 'all' | 'filtered';
  prefixes: { prefix: Prefix; minLength: number; maxLength: number }[];
  prefixLimit: number;
}

/** One session of this node, as the speaker is asked to run it. */
export interface BgpSessionSpec {
  node: string;
  /** Peer name (the BGPPeer's). */
  peer: string;
  config: BgpPeerParams;
  ebgp: boolean;
  /** The node's own addresses: next hops for a family the TCP connection lacks. */
  nodeAddresses?: IP[];
  /** Absent: nothing is imported from this peer. */
  receive?: BgpReceivePolicy;
  routes: readonly BgpRoute[];
}

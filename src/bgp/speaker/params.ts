// What a BGP session is made of before it runs: its parameters and dependencies, the counters it
// keeps, and the FSM configuration derived from a peer (timer defaults live here, in one place).

import type { RouteChange } from '../../routes/ribin.ts';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { IP } from '../../ip/index.ts';
import type { BgpPeerParams, BgpReceivePolicy } from './types.ts';
import type { AfiSafi } from '../codec/messages.ts';
import { IPV4_UNICAST, IPV6_UNICAST } from '../session/open.ts';
import type { Clock, SessionConfig } from '../session/types.ts';
import type { Connector } from '../transport/index.ts';
import type { UpdateGroups } from './groups.ts';
import type { RouteMode } from './lifecycle.ts';
import type { LinkWatcher } from './unnumbered.ts';

/** Default first connect-retry delay when the peer has no connectTime (ms). */
export const DEFAULT_CONNECT_RETRY_BASE_MS = 2_000;
/** Upper bound of the exponential connect-retry backoff (ms). */
export const DEFAULT_CONNECT_RETRY_MAX_MS = 60_000;
/** Our TCP connect timeout (ms). */
export const CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_HOLD_TIME = 90;
/** Restart time announced when the peer sets none: 120 s, FRR's default and so MetalLB's. */
export const GRACEFUL_RESTART_TIME = 120;

export interface SessionCounters {
  messagesSent: number;
  messagesReceived: number;
  opensSent: number;
  opensReceived: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  updatesSent: number;
  updatesReceived: number;
  prefixesAnnounced: number;
  prefixesWithdrawn: number;
  notificationsSent: number;
  notificationsReceived: number;
  bytesSent: number;
  connectAttempts: number;
  /** Sessions re-established with the Restart State bit (a graceful restart completed). */
  gracefulRestarts: number;
  /** Drains (RFC 8326) started on this session. */
  drains: number;
}

/** Counters of a session that has sent and received nothing. */
export function zeroCounters(): SessionCounters {
  return {
    messagesSent: 0,
    messagesReceived: 0,
    opensSent: 0,
    opensReceived: 0,
    keepalivesSent: 0,
    keepalivesReceived: 0,
    updatesSent: 0,
    updatesReceived: 0,
    prefixesAnnounced: 0,
    prefixesWithdrawn: 0,
    notificationsSent: 0,
    notificationsReceived: 0,
    bytesSent: 0,
    connectAttempts: 0,
    gracefulRestarts: 0,
    drains: 0,
  };
}

export interface PeerSessionDeps {
  logger: Logger;
  clock: Clock;
  connect: Connector;
  /** BGP identifier when the peer sets no routerID (uint32). */
  routerId: number;
  onState: () => void;
  /** Called once when the first session after a graceful restart has re-synchronised. */
  onRestartComplete?: () => void;
  /**
   * Passive peers: register with the speaker's listener (connections from the peer's address
   * are handed to `accept`; `onError` tells whether the listener could listen) / deregister.
   */
  listen?: (peer: BgpPeerParams, accept: (sock: net.Socket) => void, onError: (msg: string | undefined) => void) => void;
  unlisten?: (peer: BgpPeerParams) => void;
  /** Unnumbered peers: follows the peer's interface (router discovery, src/bgp/unnumbered). */
  watchLink?: LinkWatcher;
  /** Coalescing scheduler for route flushes (default setImmediate). */
  defer?: (fn: () => void) => void;
  /**
   * Update groups shared by the speaker's sessions (tables and encoded UPDATEs of sessions with
   * the same outbound policy are built once); default: this session's own.
   */
  groups?: UpdateGroups;
  /** Adj-RIB-In changes of a session with a receive policy (src/routes). */
  onReceived?: (changes: RouteChange[]) => void;
}

export interface PeerSessionParams {
  peer: BgpPeerParams;
  ebgp: boolean;
  /** The node's own addresses (next hops for the family the TCP connection lacks). */
  nodeAddresses?: IP[];
  /**
   * This process restarted gracefully and the peer keeps our routes as stale until this time
   * (clock ms): the first OPEN carries the Restart State bit.
   */
  restartingUntil?: number;
  /** How the routes are sent (normal, draining with GRACEFUL_SHUTDOWN, drained). */
  mode?: RouteMode;
  /** Receive policy; undefined = nothing received is imported. */
  receive?: BgpReceivePolicy;
}

export function ipToBgpId(ip: IP): number {
  return Number(ip.value & 0xffffffffn) >>> 0;
}

/** Families offered on a session: the transport's, both with dualStackAddressFamily or on an unnumbered session. */
export function sessionFamilies(peer: BgpPeerParams): AfiSafi[] {
  // unnumbered: IPv6 transport, IPv4 routes over IPv6 next hops (RFC 8950), as FRR's interface peers
  if (!peer.address && peer.interface !== undefined) return [IPV4_UNICAST, IPV6_UNICAST];
  const transport = peer.address?.family ?? 4;
  if (peer.dualStackAddressFamily) return [IPV4_UNICAST, IPV6_UNICAST];
  return [transport === 4 ? IPV4_UNICAST : IPV6_UNICAST];
}

/** Why a session cannot start at all (shown as lastError, logged at `level`), or undefined. */
export function startBlocker(p: BgpPeerParams, has: { listen: boolean; watchLink: boolean }): { reason: string; level: 'warn' | 'error' } | undefined {
  if (p.vrf !== '') return { reason: `VRF peers (vrf ${p.vrf}) are not supported by this build (no VRF device support): session not started`, level: 'warn' };
  if (p.passwordSecret && !p.password) {
    return { reason: `TCP-MD5 passwordSecret ${p.passwordSecret.namespace}/${p.passwordSecret.name} was not resolved to a password; session not started`, level: 'error' };
  }
  if (p.passive && !has.listen) return { reason: 'passive peer, but this speaker has no listener: session not started', level: 'error' };
  if (!p.address && (p.interface === undefined || !has.watchLink)) {
    return { reason: 'no peer address and no interface (or no router discovery in this speaker): session not started', level: 'error' };
  }
  return undefined;
}

export function sessionConfig(peer: BgpPeerParams, routerId: number, restarting = false): SessionConfig {
  const fixed = peer.connectTime !== undefined && peer.connectTime > 0;
  const cfg: SessionConfig = {
    localASN: peer.localASN ?? peer.myASN,
    peerASN: peer.peerASN,
    routerId: peer.routerID ? ipToBgpId(peer.routerID) : routerId,
    holdTime: peer.holdTime ?? DEFAULT_HOLD_TIME,
    families: sessionFamilies(peer),
    connectRetryBaseMs: fixed ? (peer.connectTime as number) : DEFAULT_CONNECT_RETRY_BASE_MS,
    connectRetryMaxMs: fixed ? (peer.connectTime as number) : DEFAULT_CONNECT_RETRY_MAX_MS,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  };
  if (peer.dynamicASN) cfg.dynamicASN = peer.dynamicASN;
  if (peer.keepaliveTime !== undefined) cfg.keepaliveTime = peer.keepaliveTime;
  if (peer.passive) cfg.passive = true;
  if (!peer.address && peer.interface !== undefined) cfg.extendedNextHop = true;
  if (peer.enableGracefulRestart) {
    cfg.gracefulRestart = { restartTime: peer.gracefulRestartTime ?? GRACEFUL_RESTART_TIME, restarting };
  }
  return cfg;
}


// Types of the pure BGP session state machine (RFC 4271 §8). No sockets, no timers, no clock:
// the FSM consumes events and returns actions; timers are requested as actions and the driver
// (the speaker) runs them on an injected Clock.

import type { AfiSafi, BGPMessage, NotificationMessage, UpdateMessage } from '../codec/messages.ts';

export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** The timers the FSM asks for. `connectRetry` doubles as our own TCP connect timeout in Connect. */
export type TimerName = 'connectRetry' | 'hold' | 'keepalive';

/** Injectable clock (the real one, systemClock, lives with the driver in src/bgp/speaker). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SessionConfig {
  /** The AS presented in our OPEN (Peer.localASN ?? Peer.myASN). */
  localASN: number;
  /** Expected peer AS; 0 = not fixed (dynamicASN). */
  peerASN: number;
  dynamicASN?: 'internal' | 'external';
  /** Our BGP identifier as uint32 (non-zero). */
  routerId: number;
  /** Proposed hold time in seconds: 0 (no keepalives) or >= 3. */
  holdTime: number;
  /** Configured keepalive interval in seconds; undefined/0 = a third of the negotiated hold time. */
  keepaliveTime?: number;
  /** Address families offered in the multiprotocol capability. */
  families: AfiSafi[];
  /**
   * Advertise the graceful-restart capability (RFC 4724): restart time (seconds, <= 4095), the
   * Restart State bit (set only in the first OPEN after a graceful restart of the speaker), the
   * Forwarding State bit for every offered family (the node keeps forwarding while the speaker
   * restarts) and the RFC 8538 "N" bit (graceful notification).
   */
  gracefulRestart?: GracefulRestartConfig;
  /**
   * Offer the extended next hop capability (RFC 8950) for IPv4 unicast over IPv6 next hops
   * (unnumbered sessions).
   */
  extendedNextHop?: boolean;
  /** First connect-retry delay in ms (backoff base). */
  connectRetryBaseMs: number;
  /** Upper bound of the connect-retry delay in ms. */
  connectRetryMaxMs: number;
  /** How long one TCP connection attempt may take before it is abandoned (ms). */
  connectTimeoutMs: number;
  /**
   * Passive: never connect out; wait in Active for the peer's connection (accepted by the
   * speaker's listener and handed over with TcpConnectionConfirmed).
   */
  passive?: boolean;
  /** Random source in [0, 1) for jitter; default Math.random. */
  random?: () => number;
}

export interface GracefulRestartConfig {
  restartTime: number;
  /** Restart State (R) bit: this process restarted gracefully and the peer holds our routes as stale. */
  restarting?: boolean;
  /** Forwarding State (F) bit per family (default true). */
  forwarding?: boolean;
  /** RFC 8538 N bit (default true). */
  notification?: boolean;
}

/** What both OPENs agreed on. */
export interface Negotiated {
  peerASN: number;
  peerRouterId: number;
  /** Negotiated hold time in seconds (0 = none). */
  holdTime: number;
  /** Keepalive interval in seconds (0 = none). */
  keepaliveTime: number;
  /** Families both sides announced (IPv4 unicast implied when the peer sent no MP capability). */
  families: AfiSafi[];
  fourOctetAS: boolean;
  peerRouteRefresh: boolean;
  /** Both sides advertised graceful restart. */
  gracefulRestart: boolean;
  /** Both sides set the RFC 8538 N bit: a NOTIFICATION other than Hard Reset keeps GR. */
  gracefulNotification: boolean;
  /**
   * Both sides advertised the extended next hop capability for IPv4 unicast with IPv6 next hops
   * (RFC 8950): IPv4 routes may carry an IPv6 next hop in MP_REACH_NLRI.
   */
  extendedNextHop: boolean;
  /** Our OPEN carried the Restart State bit. */
  restarted: boolean;
  /** The peer's OPEN carried the Restart State bit (the router itself restarted). */
  peerRestarted: boolean;
  /**
   * Graceful restart negotiated: the peer's restart time (s), the negotiated families its
   * capability lists (kept as stale when the connection drops, RFC 4724 §4.2) and those it set
   * the Forwarding State bit for (stale routes of the others are dropped on re-establishment).
   */
  peerGracefulRestart?: { restartTime: number; families: AfiSafi[]; forwarding: AfiSafi[] };
}

export type SessionEvent =
  /** Administrative start (RFC event 1). */
  | { type: 'ManualStart' }
  /**
   * Administrative stop (event 2): Cease with this subcode (default 2, administrative shutdown).
   * `graceful` (speaker restart): when graceful restart was negotiated the peer must keep our
   * routes as stale, so: with the RFC 8538 N bit negotiated the Cease is sent as is (it keeps
   * GR), without it the TCP connection is closed with no NOTIFICATION. Not graceful and N
   * negotiated: the Cease is wrapped in a Hard Reset (6/9), which tells the peer to drop our
   * routes at once (RFC 8538 §3).
   */
  | { type: 'ManualStop'; subcode?: number; graceful?: boolean }
  /** Our outgoing TCP connection is up (event 17). */
  | { type: 'TcpConnectionConfirmed' }
  /** The TCP connection attempt failed or an established connection closed (events 18). */
  | { type: 'TcpConnectionFails'; reason: string }
  | { type: 'TimerExpired'; timer: TimerName }
  /** A decoded message (UPDATEs classified treat-as-withdraw also arrive here). */
  | { type: 'MessageReceived'; message: BGPMessage }
  /** The framer/decoder classified input as a session-resetting error. */
  | { type: 'DecodeError'; notification: NotificationMessage; reason: string }
  /** Collision resolution (§6.8) decided this connection loses (event 23). */
  | { type: 'OpenCollisionDump' };

export type SessionAction =
  /** Open the TCP connection. */
  | { type: 'Connect' }
  /** Close the TCP connection after flushing what was sent before. */
  | { type: 'Disconnect'; reason: string }
  | { type: 'Send'; message: BGPMessage }
  | { type: 'StartTimer'; timer: TimerName; ms: number }
  | { type: 'StopTimer'; timer: TimerName }
  | { type: 'StateChanged'; from: SessionState; to: SessionState; reason?: string }
  | { type: 'Established'; negotiated: Negotiated }
  /** The session left Established (`gracefulRestart`: it had negotiated graceful restart). */
  | { type: 'Down'; reason: string; gracefulRestart: boolean }
  | { type: 'UpdateReceived'; message: UpdateMessage }
  | { type: 'RouteRefreshRequested'; afi: number; safi: number };

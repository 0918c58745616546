// Public types of the node runtime (src/node/): what a shell (standalone, the Kubernetes
// speaker) hands the NodeAgent, the drivers the agent runs (BGP speaker, Layer 2), the seam for
// later per-session features, and the typed NodeStatus every shell publishes.

import type { Assignment } from '../allocator/types.ts';
import type { Config } from '../config/types.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../model/objects.ts';
import type { BlockedSession } from '../planner/passwords.ts';
import type { Layer2Plan, SessionPlan } from '../planner/types.ts';
import type { BfdSessionStatus } from '../bfd/supervisor.ts';
import type { MemberAddress } from '../layer2/members.ts';
import type { Layer2AnnouncementStatus, Layer2SupervisorStatus } from '../layer2/supervisor.ts';
import type { WeightLimitStatus } from './weightlimit.ts';
import type { ListShaper, TruncatedNotice } from '../observability/statuslists.ts';

/** A BGP session as the node's BGP driver reports it (the speaker's SessionStatus, with BFD facts). */
export type SpeakerSessionStatus = BfdSessionStatus;

export type { Layer2AnnouncementStatus, Layer2SupervisorStatus };

/** Everything the node's announcements depend on, as one validated snapshot. */
export interface NodeInputs {
  config: Config;
  services: Service[];
  /** `namespace/name` -> IPs (standalone: the allocator's output; Kubernetes: the Services' status). */
  assignments: Record<string, Assignment>;
  nodes: Node[];
  endpointSlices: EndpointSlice[];
  namespaces: Namespace[];
  secrets: Secret[];
  /** No EndpointSlice for a Service means a ready endpoint on every node (standalone folders). */
  assumeEndpoints?: boolean;
}

/** What the agent needs from a BGP speaker (src/bgp/speaker BGPSpeaker fits; so does the BFD supervisor in front of it). */
export interface BgpDriver {
  /** Optional: the configuration in force, before every setPlan (BFD profiles). */
  setConfig?(config: Config): void;
  setPlan(sessions: SessionPlan[]): void;
  status(): readonly SpeakerSessionStatus[];
  /** withdraw (default true): withdraw every route first; false keeps them at graceful-restart peers. */
  stop(opts?: { withdraw?: boolean }): Promise<void>;
  /** Optional: RFC 8326 drain (GRACEFUL_SHUTDOWN for periodMs, then withdraw; resolves then). */
  drain?(periodMs: number): Promise<void>;
  /** Optional: ends a drain (announce normally again). */
  resume?(): void;
}

/** What the agent needs from the Layer 2 side (src/layer2 Layer2Supervisor fits). */
export interface Layer2Driver {
  /** Every address this node is a candidate for (with `node` = the planner's owner). */
  setPlan(plans: Layer2Plan[]): void;
  /** The speakers taking part in elections and the liveness secret ([]: this node alone). */
  setMembers(members: MemberAddress[], secret: string | undefined): void;
  /** The addresses this node answers for right now (after re-election over live members). */
  announcing(): string[];
  /** Per-address responder state. */
  announcements(): Layer2AnnouncementStatus[];
  status(): Layer2SupervisorStatus;
  /** Called when `announcing()` changes (a member died, a link went down). */
  onChange(cb: () => void): void;
  /**
   * Leaving (drain on leave): hand the owned addresses to their next owners (they answer first),
   * then stop answering; false: take part in elections again.
   */
  setLeaving?(leaving: boolean): void;
  /** Planned stop: setLeaving(true) and wait (bounded) until the next owners answer. */
  handover?(): Promise<void>;
  stop(): Promise<void>;
}

/** A session handed to the BGP speaker, or blocked (never started) with the reason. */
export interface AppliedSession {
  plan: SessionPlan;
  /** Why the session is not started (its password Secret is unusable), else null. */
  blocked: string | null;
}

/** What the agent applied last: the extension seam's view of one apply. */
export interface AppliedPlan {
  node: string;
  config: Config;
  /** Sessions running (blocked: null) and blocked, in plan order. */
  sessions: readonly AppliedSession[];
  /** Every Layer 2 address this node is a candidate for. */
  layer2Candidates: readonly Layer2Plan[];
  /** The Layer 2 addresses the planner elected this node for. */
  layer2: readonly Layer2Plan[];
}

/**
 * A per-node feature that follows the sessions (BFD per peer, received routes, graceful
 * restart / drain): given every applied plan after the BGP speaker got it, stopped with the
 * agent, and shown in NodeStatus.extensions under its name. See docs/architecture.md.
 */
export interface NodeExtension {
  readonly name: string;
  apply(plan: AppliedPlan): void;
  /**
   * JSON-ready state for /status (optional); lists that grow with the routes or Services made
   * through `lists` (cut or left out as the query asks, and reported in `truncated`).
   */
  status?(lists: ListShaper): unknown;
  /** Called before the BGP speaker stops (its sessions closing must not undo what stop() decides). */
  stopping?(opts: { withdraw: boolean }): void;
  stop(opts: { withdraw: boolean }): Promise<void> | void;
}

export interface RouteStatus {
  prefix: string;
  nextHop: string | null;
  localPref: number | null;
  communities: string[];
  largeCommunities: string[];
  /** Weighted ECMP: this node's ready endpoints (the link-bandwidth community is proportional). */
  weight?: number;
  /** Local fallback: announced although no node has a ready endpoint (metallb-ts.io/local-fallback). */
  fallback?: true;
}

/**
 * The speaker's live state of a session as /status shows it: the Adj-RIB-Out prefixes
 * (`routes`) cut or left out as asked (src/observability/statuslists.ts); `routeCount` counts them.
 */
export type SpeakerSessionView = Omit<SpeakerSessionStatus, 'routes'> & { routes?: string[]; routeCount: number };

/**
 * One BGP session of this node: planned parameters, live speaker state, planned routes. In a
 * /status answer the route lists may be cut or left out (see StatusLists); the counts are exact.
 */
export interface NodeSessionView {
  /** BGPPeer name. */
  peer: string;
  /** Peer address as written in the BGPPeer (or the interface of an unnumbered peer). */
  address: string | null;
  port: number;
  myASN: number;
  peerASN: number;
  ebgp: boolean;
  /** The BGP speaker's live state of this session (counters, lastError, ...); null when not started. */
  speaker: SpeakerSessionView | null;
  /** Why the session is not started (e.g. its password Secret is missing), else null. */
  error: string | null;
  /** Number of routes planned for this session. */
  routeCount: number;
  /** Routes planned for this session (what the peer should hold); absent with `routes=count`. */
  routes?: RouteStatus[];
}

/** A session with every list whole (NodeAgent.status() without a StatusLists). */
export interface NodeSessionStatus extends NodeSessionView {
  speaker: (SpeakerSessionStatus & { routeCount: number }) | null;
  routes: RouteStatus[];
}

/** One Service address this node announces (MetalLB's metallb_speaker_announced). */
export interface NodeAnnouncement {
  /** namespace/name */
  service: string;
  protocol: 'bgp' | 'layer2';
  ip: string;
}

/** NodeStatus as a /status answer shows it: the long lists cut or left out as asked, with their counts. */
export interface NodeStatusView {
  node: string;
  /** Number of applies since start. */
  generation: number;
  sessions: NodeSessionView[];
  /** Layer 2 addresses the planner elected this node for. */
  layer2: Layer2Plan[];
  /** What the Layer 2 responder answers for right now (null: no Layer 2 driver). */
  layer2Announcing: Layer2AnnouncementStatus[] | null;
  /** Liveness/election state of the Layer 2 driver (null: no Layer 2 driver). */
  layer2Agent: Layer2SupervisorStatus | null;
  /**
   * Every (Service, protocol, address) this node announces (desired state: a route planned on a
   * running session, or a Layer 2 address this node answers for right now). Absent with
   * `services=count`.
   */
  announced?: NodeAnnouncement[];
  announcedCount: number;
  /** State of every NodeExtension, by name. */
  extensions: Record<string, unknown>;
  /** Weighted ECMP rate limit: counters and the weights held back right now (src/node/weightlimit.ts). */
  weightUpdates?: WeightLimitStatus;
  /**
   * Drain on leave (Kubernetes speaker): `serving`, or `draining`/`drained` with the reason
   * (cordoned, exclusion label) and since when. Absent when the policy is off (standalone).
   */
  drain?: { phase: 'serving' | 'draining' | 'drained'; reason?: string; since?: string };
  /** Present when a list holds fewer entries than its count: which, and how to get them whole. */
  truncated?: TruncatedNotice;
}

/** The node's status with every list whole. */
export interface NodeStatus extends NodeStatusView {
  sessions: NodeSessionStatus[];
  announced: NodeAnnouncement[];
}

export type { BlockedSession };

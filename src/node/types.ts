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
  /** JSON-ready state for /status (optional). */
  status?(): unknown;
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

/** One BGP session of this node: planned parameters, live speaker state, planned routes. */
export interface NodeSessionStatus {
  /** BGPPeer name. */
  peer: string;
  /** Peer address as written in the BGPPeer (or the interface of an unnumbered peer). */
  address: string | null;
  port: number;
  myASN: number;
  peerASN: number;
  ebgp: boolean;
  /** The BGP speaker's live state of this session (counters, lastError, ...); null when not started. */
  speaker: SpeakerSessionStatus | null;
  /** Why the session is not started (e.g. its password Secret is missing), else null. */
  error: string | null;
  /** Routes planned for this session (what the peer should hold). */
  routes: RouteStatus[];
}

/** One Service address this node announces (MetalLB's metallb_speaker_announced). */
export interface NodeAnnouncement {
  /** namespace/name */
  service: string;
  protocol: 'bgp' | 'layer2';
  ip: string;
}

export interface NodeStatus {
  node: string;
  /** Number of applies since start. */
  generation: number;
  sessions: NodeSessionStatus[];
  /** Layer 2 addresses the planner elected this node for. */
  layer2: Layer2Plan[];
  /** What the Layer 2 responder answers for right now (null: no Layer 2 driver). */
  layer2Announcing: Layer2AnnouncementStatus[] | null;
  /** Liveness/election state of the Layer 2 driver (null: no Layer 2 driver). */
  layer2Agent: Layer2SupervisorStatus | null;
  /**
   * Every (Service, protocol, address) this node announces (desired state: a route planned on a
   * running session, or a Layer 2 address this node answers for right now).
   */
  announced: NodeAnnouncement[];
  /** State of every NodeExtension, by name. */
  extensions: Record<string, unknown>;
  /** Weighted ECMP rate limit: counters and the weights held back right now (src/node/weightlimit.ts). */
  weightUpdates?: WeightLimitStatus;
  /**
   * Drain on leave (Kubernetes speaker): `serving`, or `draining`/`drained` with the reason
   * (cordoned, exclusion label) and since when. Absent when the policy is off (standalone).
   */
  drain?: { phase: 'serving' | 'draining' | 'drained'; reason?: string; since?: string };
}

export type { BlockedSession };

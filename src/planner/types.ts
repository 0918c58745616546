// Output of the pure planner: for each node, the BGP sessions it opens and, per session, the
// exact routes on the wire; and the Layer 2 owners. The BGP speaker consumes `SessionPlan`;
// `metallb-ts plan` prints `PlanOutput` (see planToJSON for the stable JSON form).

import type { IP, Prefix } from '../ip/index.ts';
import type { Community, Peer, PreferredNodeSelector } from '../config/types.ts';
import type { NoSession } from './why.ts';
import type { EffectiveReceive } from '../config/receive.ts';

export interface PlannedRoute {
  prefix: Prefix;
  /** Undefined = the session's local address (the usual case). */
  nextHop?: IP;
  /** Only set on iBGP sessions. */
  localPref?: number;
  /** Standard communities as uint32 values, sorted, deduplicated. */
  communities: number[];
  /** Large communities, sorted, deduplicated. */
  largeCommunities: [number, number, number][];
  /**
   * Weighted ECMP (BGPAdvertisement annotation `metallb-ts.io/weighted-ecmp: "endpoints"`,
   * externalTrafficPolicy: Local Services): this node's ready local endpoints. The speaker
   * attaches a link-bandwidth extended community proportional to it. Unset = no community.
   */
  weight?: number;
  /**
   * Weighted routes: the minimum time between two weight-only re-announcements (annotation
   * `metallb-ts.io/weight-update-interval`; unset = the default, see src/node/weightlimit.ts).
   */
  weightIntervalMs?: number;
  /**
   * Local fallback (`metallb-ts.io/local-fallback`): announced although no node has a ready
   * endpoint of the externalTrafficPolicy: Local Service (every eligible node does).
   */
  fallback?: true;
}

export interface SessionPlan {
  node: string;
  /** BGPPeer name. */
  peer: string;
  /** The resolved peer config (address, ASNs, timers, password, ...). */
  config: Peer;
  ebgp: boolean;
  /**
   * The node's own addresses (the peer's sourceAddress first, then the Node's InternalIP and
   * ExternalIP addresses): what the router sees as next hop for routes whose `nextHop` is unset,
   * the first one of the route's family. Informational (plan output); optional.
   */
  nodeAddresses?: IP[];
  /**
   * The session's local address as this host's kernel makes it (set by `plan` for the node it
   * runs on, src/planner/nexthop.ts): the next hop of the routes of the peer's family.
   */
  localAddress?: IP;
  /** What the plan reader must know about this session (a sourceAddress that is not local, ...). */
  warnings?: string[];
  /**
   * What this node imports from the session (the peer's FRRConfiguration toReceive policies that
   * select this node, merged); absent = nothing (docs/routes-in.md).
   */
  receive?: EffectiveReceive;
  /** Routes sorted by prefix (family, network, length). */
  routes: PlannedRoute[];
}

export interface ServicePlan {
  namespace: string;
  name: string;
  ips: string[];
  pool: string | null;
  endpointsAssumed: boolean;
  error: string | null;
}

export interface Layer2Plan {
  ip: string;
  services: string[]; // ns/name
  node: string | null;
  interfaces: string[];
  /**
   * Optional (additive, for the Layer 2 runtime): the nodes eligible for this IP before
   * liveness is known (Ready, not excluded, matching nodeSelectors, serving endpoints), with
   * their labels, and the preferredNodeSelectors that applied. When present, the speaker
   * re-runs electL2Owner over the live members (src/layer2/agent.ts setPlan).
   */
  candidates?: { name: string; labels: Record<string, string> }[];
  preferred?: PreferredNodeSelector[];
}

export interface PlanOutput {
  services: ServicePlan[];
  bgp: SessionPlan[];
  layer2: Layer2Plan[];
  /** Nodes that no BGPPeer selects, and why (which nodeSelectors did not match); absent = none. */
  noSession?: NoSession[];
}

export type { Community };

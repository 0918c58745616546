// The resolved, validated configuration: what every consumer (allocator, planner, speaker,
// controller) reads. Produced by `buildConfig` from the metallb.io CRDs and/or the legacy
// ConfigMap. Plain data only; every cross-reference is already resolved and checked.
//
// Ordering contract: every list is sorted by `name` (byte order) so that consumers are
// deterministic without sorting again.

import type { IP, IPRange, Prefix } from '../ip/index.ts';
import type { LabelSelector } from '../model/selector.ts';

/** Where an object came from, for error messages and `/status`. */
export interface SourceRef {
  file: string;
  line: number;
  kind: string;
  name: string;
  namespace?: string;
}

/** One document read (from a file, or from the API server), remembering where its fields came from. */
export interface LoadedObject {
  object: Record<string, unknown>;
  source: SourceRef;
  /** 1-based line of the field at `path` (or of its nearest existing parent); 0 when unknown. */
  lineOf(path: (string | number)[]): number;
  /** Read from the Kubernetes API (already validated and pruned by the API server). */
  fromApiServer?: boolean;
}

/** One line of `validate` output: `FILE:LINE: Kind/name: field.path: message`. */
export interface Diagnostic {
  file: string;
  line: number;
  kind: string;
  name: string;
  /** Dotted field path inside the object, e.g. `spec.addresses[1]`; empty for the whole object. */
  field: string;
  message: string;
  /**
   * What kind of problem this is, for programs (exit codes, filters): decisions are made on
   * the code, never on the message text. Absent on ordinary configuration errors/warnings.
   */
  code?: DiagnosticCode;
}

/**
 * - `unreadable`: an input path could not be read at all (line 0)
 * - `foreign-object`: an object of another product (apiVersion group not ours), ignored
 * - `missing-reference`: a name that refers to nothing (an advertisement's pool or peer, a Secret)
 * - `unsupported-field`: a field we read but cannot honour (ignored)
 * - `address-family`: routes of one family towards a session that carries only the other
 * - `service-field`: a Service field or annotation that looks misspelled
 */
export type DiagnosticCode = 'unreadable' | 'foreign-object' | 'missing-reference' | 'unsupported-field' | 'address-family' | 'service-field';

export interface ServiceAllocation {
  /** Lower is tried first; undefined sorts after every number. */
  priority?: number;
  namespaces: string[];
  namespaceSelectors: LabelSelector[];
  serviceSelectors: LabelSelector[];
}

export interface Pool {
  name: string;
  /** The address entries as written, each turned into an inclusive range (in written order). */
  ranges: IPRange[];
  /** Each range decomposed into CIDRs (used for aggregationLength checks). */
  cidrs: Prefix[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  /** Set when the pool has a `serviceAllocation` stanza. */
  serviceAllocation?: ServiceAllocation;
  /** metadata.labels of the IPAddressPool (for ipAddressPoolSelectors). */
  labels: Record<string, string>;
  source: SourceRef;
}

/** A standard (RFC 1997) community is a uint32; a large (RFC 8092) one three uint32s. */
export type Community =
  | { kind: 'standard'; value: number }
  | { kind: 'large'; global: number; local1: number; local2: number };

export interface BGPAdvertisement {
  name: string;
  /** Names of the pools this advertisement applies to (selectors already resolved). */
  pools: string[];
  aggregationLength: number; // default 32
  aggregationLengthV6: number; // default 128
  localPref?: number;
  /** Aliases already resolved; deduplicated, sorted. */
  communities: Community[];
  /** BGPPeer names; empty = every peer. */
  peers: string[];
  /** Empty = every node. */
  nodeSelectors: LabelSelector[];
  /** Empty = every Service. */
  serviceSelectors: LabelSelector[];
  /**
   * Annotation `metallb-ts.io/weighted-ecmp: "endpoints"`: externalTrafficPolicy: Local
   * Services carry a link-bandwidth extended community proportional to each node's ready
   * local endpoints (weighted ECMP at the router). Unset = off.
   */
  weightedECMP?: 'endpoints';
  /**
   * Annotation `metallb-ts.io/weight-update-interval` (Go duration): minimum time between two
   * weight-only re-announcements of one route (src/node/weightlimit.ts). Unset = the default, 1 s.
   */
  weightIntervalMs?: number;
  /**
   * Annotation `metallb-ts.io/local-fallback: "all-nodes"`: while no node has a ready endpoint of
   * an externalTrafficPolicy: Local Service, every eligible node announces it (with the low
   * fallback weight when weighted ECMP is on) instead of none. Unset = off.
   */
  localFallback?: 'all-nodes';
  source: SourceRef;
}

export interface PreferredNodeSelector {
  weight: number; // 1..100
  selector: LabelSelector;
}

export interface L2Advertisement {
  name: string;
  pools: string[];
  /** Restrict announcements to these interfaces; empty = automatic selection. */
  interfaces: string[];
  nodeSelectors: LabelSelector[];
  serviceSelectors: LabelSelector[];
  preferredNodeSelectors: PreferredNodeSelector[];
  source: SourceRef;
}

export interface SecretRef {
  name: string;
  namespace: string;
}

export interface Peer {
  name: string;
  myASN: number;
  /** 0 when `dynamicASN` is set. */
  peerASN: number;
  dynamicASN?: 'internal' | 'external';
  /** Local AS presented to the peer instead of myASN (local-as), when set. */
  localASN?: number;
  /** Exactly one of address / interface is set. */
  address?: IP;
  interface?: string;
  port: number; // default 179
  sourceAddress?: IP;
  /** IPv4-format BGP identifier override. */
  routerID?: IP;
  /** Seconds; undefined = not configured (session default 90 / 30). */
  holdTime?: number;
  keepaliveTime?: number;
  /** Milliseconds between connection attempts; undefined = default. */
  connectTime?: number;
  ebgpMultiHop: boolean;
  /** Cleartext TCP-MD5 password, when given inline. */
  password?: string;
  /** Basic-auth Secret holding key `password`, resolved by the runtime. */
  passwordSecret?: SecretRef;
  bfdProfile?: string;
  nodeSelectors: LabelSelector[];
  vrf: string; // "" = default VRF
  enableGracefulRestart: boolean;
  /**
   * Graceful restart time announced to the peer (seconds, 1..4095; metallb-ts extension,
   * annotation `metallb-ts.io/graceful-restart-time`); undefined = 120 s (MetalLB/FRR default).
   */
  gracefulRestartTime?: number;
  /**
   * Wait for the router to connect instead of connecting out (metallb-ts extension, annotation
   * `metallb-ts.io/passive: "true"`): the node listens on the peer port and accepts only this
   * peer's address.
   */
  passive?: boolean;
  disableMP: boolean;
  dualStackAddressFamily: boolean;
  /**
   * What this session imports (frr-k8s FRRConfiguration `toReceive`), one entry per
   * FRRConfiguration naming this session, each for the nodes its nodeSelector selects. Absent:
   * nothing is imported from this peer. Use `receivePolicyFor(peer, nodeLabels)` (receive.ts)
   * for the policy in force on one node.
   */
  receive?: ReceivePolicy[];
  source: SourceRef;
}

/** One accepted prefix range: routes inside `prefix` whose length is within [minLength, maxLength]. */
export interface ReceivePrefix {
  prefix: Prefix;
  /** `ge`, or the prefix's own length when unset. */
  minLength: number;
  /** `le`; when unset: the family's maximum if `ge` is set, else the prefix's own length (exact match). */
  maxLength: number;
}

/** A receive policy from one FRRConfiguration (`toReceive.allowed`). */
export interface ReceivePolicy {
  /** `all`: every prefix (of the families the session carries); `filtered`: only `prefixes`. */
  mode: 'all' | 'filtered';
  prefixes: ReceivePrefix[];
  /** More prefixes than this from the peer closes the session (Cease / Maximum Number of Prefixes Reached, RFC 4486). */
  prefixLimit: number;
  /** The nodes this policy applies to (the FRRConfiguration's nodeSelector); empty = every node. */
  nodeSelectors: LabelSelector[];
  source: SourceRef;
}

export interface BFDProfile {
  name: string;
  receiveInterval: number; // ms, default 300
  transmitInterval: number; // ms, default 300
  detectMultiplier: number; // default 3
  echoInterval: number; // ms, default 50
  echoMode: boolean;
  passiveMode: boolean;
  minimumTtl: number; // default 254
  source: SourceRef;
}

export interface Config {
  pools: Pool[];
  peers: Peer[];
  bgpAdvertisements: BGPAdvertisement[];
  l2Advertisements: L2Advertisement[];
  bfdProfiles: BFDProfile[];
  /** Community aliases (Community CRs and legacy bgp-communities), alias -> value. */
  communityAliases: Record<string, Community>;
}

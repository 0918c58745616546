// Prometheus metrics with MetalLB's metric names, on a prom-client registry of our own (never
// the global default registry, so several instances can live in one process, e.g. in tests).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeAnnouncement, NodeSessionView } from '../node/types.ts';

/**
 * Labels of the per-session metrics: `peer` is the peer address as MetalLB writes it
 * (`peer="10.0.0.1"`, the interface name for an unnumbered peer); `bgppeer` the BGPPeer's name.
 */
export type PeerLabels = 'peer' | 'bgppeer';

export interface Metrics {
  registry: Registry;
  /** 1 when the session to `peer` is Established, else 0. */
  bgpSessionUp: Gauge<PeerLabels>;
  /** BGP UPDATE messages sent to `peer`. */
  bgpUpdatesTotal: Counter<PeerLabels>;
  /** Prefixes currently announced (in the Adj-RIB-Out as sent) to `peer`. */
  bgpAnnouncedPrefixes: Gauge<PeerLabels>;
  /** Prefixes planned but not yet sent to `peer` (session down or send in progress). */
  bgpPendingPrefixes: Gauge<PeerLabels>;
  bgpOpensSent: Counter<PeerLabels>;
  bgpOpensReceived: Counter<PeerLabels>;
  bgpNotificationsSent: Counter<PeerLabels>;
  bgpUpdatesReceived: Counter<PeerLabels>;
  bgpKeepalivesSent: Counter<PeerLabels>;
  bgpKeepalivesReceived: Counter<PeerLabels>;
  /** Graceful restarts completed (session re-established with the Restart State bit, table re-sent). */
  bgpGracefulRestarts: Counter<PeerLabels>;
  /** Drains (RFC 8326 GRACEFUL_SHUTDOWN, then withdraw) started on the session. */
  bgpDrains: Counter<PeerLabels>;
  /** Addresses of `pool` assigned to Services. */
  allocatorAddressesInUse: Gauge<'pool'>;
  /** Usable addresses in `pool`. */
  allocatorAddressesTotal: Gauge<'pool'>;
  /** The same per family, and the Services holding an address of `pool` (MetalLB 0.14+). */
  allocatorIPv4AddressesInUse: Gauge<'pool'>;
  allocatorIPv6AddressesInUse: Gauge<'pool'>;
  allocatorIPv4AddressesTotal: Gauge<'pool'>;
  allocatorIPv6AddressesTotal: Gauge<'pool'>;
  allocatorServicesAllocated: Gauge<'pool'>;
  /** 1 per (service, protocol, node, ip) this speaker announces (MetalLB's metallb_speaker_announced). */
  speakerAnnounced: Gauge<'service' | 'protocol' | 'node' | 'ip'>;
  /** 1 when the last configuration read was valid (standalone / speaker). */
  configLoaded: Gauge;
  configStale: Gauge;
}

export interface MetricsOptions {
  /** Also export Node.js process metrics (process_cpu_seconds_total, ...). Default true. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const reg = [registry];
  const peerGauge = (name: string, help: string): Gauge<PeerLabels> => new Gauge({ name, help, labelNames: ['peer', 'bgppeer'], registers: reg });
  const poolGauge = (name: string, help: string): Gauge<'pool'> => new Gauge({ name, help, labelNames: ['pool'], registers: reg });
  const peerCounter = (name: string, help: string): Counter<PeerLabels> =>
    new Counter({ name, help, labelNames: ['peer', 'bgppeer'], registers: reg });
  return {
    registry,
    bgpSessionUp: peerGauge('metallb_bgp_session_up', 'BGP session state (1 is up, 0 is down)'),
    bgpUpdatesTotal: peerCounter('metallb_bgp_updates_total', 'Number of BGP UPDATE messages sent'),
    bgpAnnouncedPrefixes: peerGauge('metallb_bgp_announced_prefixes_total', 'Number of prefixes currently being advertised on the BGP session'),
    bgpPendingPrefixes: peerGauge('metallb_bgp_pending_prefixes_total', 'Number of prefixes that should be advertised on the BGP session'),
    bgpOpensSent: peerCounter('metallb_bgp_opens_sent', 'Number of BGP open messages sent'),
    bgpOpensReceived: peerCounter('metallb_bgp_opens_received', 'Number of BGP open messages received'),
    bgpNotificationsSent: peerCounter('metallb_bgp_notifications_sent', 'Number of BGP notification messages sent'),
    bgpUpdatesReceived: peerCounter('metallb_bgp_updates_total_received', 'Number of BGP UPDATE messages received'),
    bgpKeepalivesSent: peerCounter('metallb_bgp_keepalives_sent', 'Number of BGP keepalive messages sent'),
    bgpKeepalivesReceived: peerCounter('metallb_bgp_keepalives_received', 'Number of BGP keepalive messages received'),
    bgpGracefulRestarts: peerCounter('metallb_ts_bgp_graceful_restarts_total', 'Number of graceful restarts completed (session re-established with the Restart State bit, table and End-of-RIB re-sent)'),
    bgpDrains: peerCounter('metallb_ts_bgp_drains_total', 'Number of drains (RFC 8326 GRACEFUL_SHUTDOWN, then withdraw) started on the session'),
    allocatorAddressesInUse: new Gauge({
      name: 'metallb_allocator_addresses_in_use_total',
      help: 'Number of IP addresses in use, per pool',
      labelNames: ['pool'],
      registers: reg,
    }),
    allocatorAddressesTotal: new Gauge({
      name: 'metallb_allocator_addresses_total',
      help: 'Number of usable IP addresses, per pool',
      labelNames: ['pool'],
      registers: reg,
    }),
    allocatorIPv4AddressesInUse: poolGauge('metallb_allocator_ipv4_addresses_in_use_total', 'Number of IPV4 addresses in use, per pool'),
    allocatorIPv6AddressesInUse: poolGauge('metallb_allocator_ipv6_addresses_in_use_total', 'Number of IPV6 addresses in use, per pool'),
    allocatorIPv4AddressesTotal: poolGauge('metallb_allocator_ipv4_addresses_total', 'Number of usable IPV4 addresses, per pool'),
    allocatorIPv6AddressesTotal: poolGauge('metallb_allocator_ipv6_addresses_total', 'Number of usable IPV6 addresses, per pool'),
    allocatorServicesAllocated: poolGauge('metallb_allocator_services_allocated_total', 'Number of services allocated, per pool'),
    speakerAnnounced: new Gauge({
      name: 'metallb_speaker_announced',
      help: 'Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.',
      labelNames: ['service', 'protocol', 'node', 'ip'],
      registers: reg,
    }),
    configLoaded: new Gauge({ name: 'metallb_k8s_client_config_loaded_bool', help: '1 if the configuration was loaded at least once', registers: reg }),
    configStale: new Gauge({ name: 'metallb_k8s_client_config_stale_bool', help: '1 if running on a stale configuration because the latest one failed to load', registers: reg }),
  };
}

/** Per-session figures as the metrics take them (absolute totals; counters follow them). */
export interface SessionCounters {
  /** Peer address (the `peer` label). */
  peer: string;
  /** BGPPeer name (the `bgppeer` label), when known. */
  bgppeer?: string;
  established: boolean;
  announced?: number;
  pending?: number;
  updatesSent?: number;
  updatesReceived?: number;
  opensSent?: number;
  opensReceived?: number;
  notificationsSent?: number;
  keepalivesSent?: number;
  keepalivesReceived?: number;
  gracefulRestarts?: number;
  drains?: number;
}

// Last absolute value mirrored into each counter, per label set.
const lastTotals = new WeakMap<Counter<PeerLabels>, Map<string, number>>();

export type LabelSet = Partial<Record<PeerLabels, string>>;

function setCounter(c: Counter<PeerLabels>, labels: LabelSet, key: string, total: number | undefined): void {
  if (total === undefined) return;
  let m = lastTotals.get(c);
  if (!m) lastTotals.set(c, (m = new Map()));
  const cur = m.get(key) ?? 0;
  // prom-client counters only go up: add the difference; a reset (new session) restarts the base.
  if (total > cur) c.inc(labels, total - cur);
  m.set(key, total);
}

/**
 * Mirrors absolute per-session figures into the metrics. Sessions that disappeared keep their
 * counters but get session_up 0 and zero announced/pending prefixes. Returns the label sets
 * seen (pass them back as `known` next time).
 */
export function recordSessions(m: Metrics, sessions: readonly SessionCounters[], known: Map<string, LabelSet> = new Map()): Map<string, LabelSet> {
  const seen = new Map<string, LabelSet>();
  for (const s of sessions) {
    const labels: LabelSet = s.bgppeer !== undefined ? { peer: s.peer, bgppeer: s.bgppeer } : { peer: s.peer };
    const key = JSON.stringify(labels);
    seen.set(key, labels);
    m.bgpSessionUp.set(labels, s.established ? 1 : 0);
    if (s.announced !== undefined) m.bgpAnnouncedPrefixes.set(labels, s.announced);
    if (s.pending !== undefined) m.bgpPendingPrefixes.set(labels, s.pending);
    setCounter(m.bgpUpdatesTotal, labels, key, s.updatesSent);
    setCounter(m.bgpUpdatesReceived, labels, key, s.updatesReceived);
    setCounter(m.bgpOpensSent, labels, key, s.opensSent);
    setCounter(m.bgpOpensReceived, labels, key, s.opensReceived);
    setCounter(m.bgpNotificationsSent, labels, key, s.notificationsSent);
    setCounter(m.bgpKeepalivesSent, labels, key, s.keepalivesSent);
    setCounter(m.bgpKeepalivesReceived, labels, key, s.keepalivesReceived);
    setCounter(m.bgpGracefulRestarts, labels, key, s.gracefulRestarts);
    setCounter(m.bgpDrains, labels, key, s.drains);
  }
  for (const [key, labels] of known) {
    if (seen.has(key)) continue;
    m.bgpSessionUp.set(labels, 0);
    m.bgpAnnouncedPrefixes.set(labels, 0);
    m.bgpPendingPrefixes.set(labels, 0);
  }
  return seen;
}

/** The metric figures of one session of the typed NodeStatus (blocked sessions: down, nothing sent). */
export function sessionMetrics(s: NodeSessionView): SessionCounters {
  const sp = s.speaker;
  const out: SessionCounters = { peer: s.address ?? s.peer, bgppeer: s.peer, established: sp?.state === 'Established' };
  const announced = sp ? sp.routeCount : 0;
  out.announced = announced;
  out.pending = Math.max(0, s.routeCount - announced);
  if (sp) {
    const c = sp.counters;
    out.updatesSent = c.updatesSent;
    out.updatesReceived = c.updatesReceived;
    out.opensSent = c.opensSent;
    out.opensReceived = c.opensReceived;
    out.notificationsSent = c.notificationsSent;
    out.keepalivesSent = c.keepalivesSent;
    out.keepalivesReceived = c.keepalivesReceived;
    out.gracefulRestarts = c.gracefulRestarts;
    out.drains = c.drains;
  }
  return out;
}

/**
 * The one place where the node's typed status becomes metrics (standalone and the Kubernetes
 * speaker call it before every scrape). Returns the label sets seen, for the next call.
 */
export function recordNodeStatus(
  m: Metrics,
  st: { sessions: readonly NodeSessionView[]; node?: string; announced?: readonly NodeAnnouncement[] },
  known: Map<string, LabelSet> = new Map(),
): Map<string, LabelSet> {
  // metallb_speaker_announced: one series per (service, protocol, node, ip) announced now
  if (st.announced !== undefined && st.node !== undefined) {
    const node = st.node;
    recordAnnounced(m, st.announced.map((a) => ({ ...a, node })));
  }
  return recordSessions(m, st.sessions.map(sessionMetrics), known);
}

/** Figures of one pool; the per-family ones and `services` feed MetalLB's finer gauges. */
export interface PoolFigures {
  pool: string;
  inUse: number;
  total: number;
  ipv4InUse?: number;
  ipv6InUse?: number;
  ipv4Total?: number;
  ipv6Total?: number;
  services?: number;
}

/** Sets the allocator gauges from per-pool figures (pools no longer present are reset). */
export function recordPools(m: Metrics, pools: readonly PoolFigures[]): void {
  const gauges = [
    m.allocatorAddressesInUse,
    m.allocatorAddressesTotal,
    m.allocatorIPv4AddressesInUse,
    m.allocatorIPv6AddressesInUse,
    m.allocatorIPv4AddressesTotal,
    m.allocatorIPv6AddressesTotal,
    m.allocatorServicesAllocated,
  ];
  for (const g of gauges) g.reset();
  for (const p of pools) {
    const l = { pool: p.pool };
    m.allocatorAddressesInUse.set(l, p.inUse);
    m.allocatorAddressesTotal.set(l, p.total);
    if (p.ipv4InUse !== undefined) m.allocatorIPv4AddressesInUse.set(l, p.ipv4InUse);
    if (p.ipv6InUse !== undefined) m.allocatorIPv6AddressesInUse.set(l, p.ipv6InUse);
    if (p.ipv4Total !== undefined) m.allocatorIPv4AddressesTotal.set(l, p.ipv4Total);
    if (p.ipv6Total !== undefined) m.allocatorIPv6AddressesTotal.set(l, p.ipv6Total);
    if (p.services !== undefined) m.allocatorServicesAllocated.set(l, p.services);
  }
}

/** One announcement for metallb_speaker_announced. */
export interface Announced {
  /** namespace/name */
  service: string;
  protocol: 'bgp' | 'layer2';
  node: string;
  ip: string;
}

/** Sets metallb_speaker_announced to exactly the given announcements (1 each). */
export function recordAnnounced(m: Metrics, announced: readonly Announced[]): void {
  m.speakerAnnounced.reset();
  for (const a of announced) m.speakerAnnounced.set({ service: a.service, protocol: a.protocol, node: a.node, ip: a.ip }, 1);
}

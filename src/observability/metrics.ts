// Prometheus metrics with MetalLB's metric names, on a prom-client registry of our own (never
// the global default registry, so several instances can live in one process, e.g. in tests).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** 1 when the session to `peer` is Established, else 0. */
  bgpSessionUp: Gauge<'peer'>;
  /** BGP UPDATE messages sent to `peer`. */
  bgpUpdatesTotal: Counter<'peer'>;
  /** Prefixes currently announced (in the Adj-RIB-Out as sent) to `peer`. */
  bgpAnnouncedPrefixes: Gauge<'peer'>;
  /** Prefixes planned but not yet sent to `peer` (session down or send in progress). */
  bgpPendingPrefixes: Gauge<'peer'>;
  bgpOpensSent: Counter<'peer'>;
  bgpOpensReceived: Counter<'peer'>;
  bgpNotificationsSent: Counter<'peer'>;
  bgpUpdatesReceived: Counter<'peer'>;
  bgpKeepalivesSent: Counter<'peer'>;
  bgpKeepalivesReceived: Counter<'peer'>;
  /** Addresses of `pool` assigned to Services. */
  allocatorAddressesInUse: Gauge<'pool'>;
  /** Usable addresses in `pool`. */
  allocatorAddressesTotal: Gauge<'pool'>;
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
  const peerGauge = (name: string, help: string): Gauge<'peer'> => new Gauge({ name, help, labelNames: ['peer'], registers: reg });
  const peerCounter = (name: string, help: string): Counter<'peer'> =>
    new Counter({ name, help, labelNames: ['peer'], registers: reg });
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
    configLoaded: new Gauge({ name: 'metallb_k8s_client_config_loaded_bool', help: '1 if the configuration was loaded at least once', registers: reg }),
    configStale: new Gauge({ name: 'metallb_k8s_client_config_stale_bool', help: '1 if running on a stale configuration because the latest one failed to load', registers: reg }),
  };
}

/** Counters a speaker reports per session; all optional so any status shape can feed it. */
export interface SessionCounters {
  peer: string;
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
}

// Last absolute value mirrored into each counter, per label value.
const lastTotals = new WeakMap<Counter<'peer'>, Map<string, number>>();

function setCounter(c: Counter<'peer'>, peer: string, total: number | undefined): void {
  if (total === undefined) return;
  let m = lastTotals.get(c);
  if (!m) lastTotals.set(c, (m = new Map()));
  const cur = m.get(peer) ?? 0;
  // prom-client counters only go up: add the difference; a reset (new session) restarts the base.
  if (total > cur) c.inc({ peer }, total - cur);
  m.set(peer, total);
}

/**
 * Mirrors absolute per-session figures into the metrics. Sessions that disappeared keep their
 * counters but get session_up 0 and zero announced/pending prefixes.
 */
export function recordSessions(m: Metrics, sessions: readonly SessionCounters[], known: Set<string> = new Set()): Set<string> {
  const seen = new Set<string>();
  for (const s of sessions) {
    seen.add(s.peer);
    m.bgpSessionUp.set({ peer: s.peer }, s.established ? 1 : 0);
    if (s.announced !== undefined) m.bgpAnnouncedPrefixes.set({ peer: s.peer }, s.announced);
    if (s.pending !== undefined) m.bgpPendingPrefixes.set({ peer: s.peer }, s.pending);
    setCounter(m.bgpUpdatesTotal, s.peer, s.updatesSent);
    setCounter(m.bgpUpdatesReceived, s.peer, s.updatesReceived);
    setCounter(m.bgpOpensSent, s.peer, s.opensSent);
    setCounter(m.bgpOpensReceived, s.peer, s.opensReceived);
    setCounter(m.bgpNotificationsSent, s.peer, s.notificationsSent);
    setCounter(m.bgpKeepalivesSent, s.peer, s.keepalivesSent);
    setCounter(m.bgpKeepalivesReceived, s.peer, s.keepalivesReceived);
  }
  for (const peer of known) {
    if (seen.has(peer)) continue;
    m.bgpSessionUp.set({ peer }, 0);
    m.bgpAnnouncedPrefixes.set({ peer }, 0);
    m.bgpPendingPrefixes.set({ peer }, 0);
  }
  return seen;
}

/** Sets the allocator gauges from per-pool figures (pools no longer present are reset). */
export function recordPools(m: Metrics, pools: readonly { pool: string; inUse: number; total: number }[]): void {
  m.allocatorAddressesInUse.reset();
  m.allocatorAddressesTotal.reset();
  for (const p of pools) {
    m.allocatorAddressesInUse.set({ pool: p.pool }, p.inUse);
    m.allocatorAddressesTotal.set({ pool: p.pool }, p.total);
  }
}

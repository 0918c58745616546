// The status page's view model: one typed shape built from the very object that /status
// serves (standalone, Kubernetes speaker or controller), so the page never shows anything that
// /status does not say. This is the only place that knows the /status layouts; when a layout
// changes, only the readers below change.

import { layer2View, receivedView } from './nodeviews.ts';
import { arr, bool, isRec, num, rec, str, strs, type Rec } from './readers.ts';
import type { Layer2View, ReceivedView } from './nodeviews.ts';

export type { Layer2View, ReceivedView };

/** Which process serves the page. */
export type Component = 'standalone' | 'speaker' | 'controller';

export interface SessionView {
  peer: string;
  address: string | null;
  port: number | null;
  myASN: number | null;
  peerASN: number | null;
  ebgp: boolean | null;
  /** BGP FSM state as the speaker reports it; "NotStarted" when the session is blocked. */
  state: string;
  established: boolean;
  uptimeSeconds: number;
  lastError: string | null;
  peerRouterId: string | null;
  /** Routes in the Adj-RIB-Out (sent), or planned when the speaker does not say. */
  prefixesSent: number;
  /** Routes planned for this session. */
  prefixesPlanned: number;
  /** Prefixes the peer announces now (sessions with a receive policy), else null. */
  prefixesReceived: number | null;
  /** Of those, the ones the receive policy accepted; null without a receive policy. */
  prefixesAccepted: number | null;
  /**
   * Accepted routes kept as stale while the peer restarts (graceful restart, RFC 4724) — still
   * forwarded with until its End-of-RIB or `staleReceivedUntil`; 0 when none.
   */
  staleReceived: number;
  staleReceivedUntil: string | null;
  /** Our side's lifecycle phase (established, down, restarting, stale-at-peer, draining, drained). */
  phase: string | null;
  updatesSent: number | null;
  updatesReceived: number | null;
  /** BFD state when the session has BFD, else null. */
  bfd: string | null;
}

export interface RouteView {
  prefix: string;
  nextHop: string | null;
  localPref: number | null;
  communities: string[];
  largeCommunities: string[];
  /** Weighted ECMP: this node's weight (ready endpoints) sent as link bandwidth; null = none. */
  weight: number | null;
  /** Local fallback: announced although no node has a ready endpoint. */
  fallback: boolean;
}

export interface RouterView {
  peer: string;
  address: string | null;
  state: string;
  routes: RouteView[];
  /** Routes not shown (the page shows at most ROUTES_SHOWN per router). */
  hidden: number;
}

export interface PoolView {
  name: string;
  inUse: number;
  total: number;
  /** 0..100, one decimal. */
  percent: number;
}

export interface ServiceView {
  key: string;
  ips: string[];
  pool: string | null;
  error: string | null;
  /** Sessions (peer names) whose routes carry one of the Service's IPs. */
  announcedTo: string[];
  /** Layer 2: the node answering ARP/NDP for the Service's IPs, if any. */
  l2Owner: string | null;
  /** Layer 2: this node is handing the Service's IP over (leaving): to whom (null: nobody yet). */
  l2HandingOverTo: { to: string | null } | null;
}

export interface ConfigView {
  /** ok: running the latest config; stale: latest has errors, previous still runs; invalid: nothing valid yet. */
  state: 'ok' | 'stale' | 'invalid' | 'unknown';
  errors: string[];
  warnings: string[];
  /** Standalone: files whose content is not in force (their first error, what runs instead). */
  staleFiles: { file: string; reason: string; effect: string }[];
  generation: number | null;
  lastReload: string | null;
}

export interface ViewModel {
  component: Component;
  node: string | null;
  ready: boolean | null;
  /** Controller: leader election state. */
  leader: boolean | null;
  config: ConfigView;
  sessions: SessionView[];
  routers: RouterView[];
  services: ServiceView[];
  /** Services not shown (the page shows at most SERVICES_SHOWN). */
  servicesHidden: number;
  /**
   * Some router has more routes than the page lists: a Service's "announced to" is only known
   * from the routes listed (see /status?routes=all).
   */
  routesPartial: boolean;
  pools: PoolView[];
  /** Received routes in the kernel (null: this node installs none). */
  received: ReceivedView | null;
  /** The Layer 2 side (null: no Layer 2 driver, e.g. the controller). */
  layer2: Layer2View | null;
}

/** The page lists at most this many routes per router (the count of the others is shown). */
export const ROUTES_SHOWN = 500;
/** The page lists at most this many Services (the count of the others is shown). */
export const SERVICES_SHOWN = 500;

function route(v: unknown): RouteView {
  const r = rec(v);
  if (typeof v === 'string') return { prefix: v, nextHop: null, localPref: null, communities: [], largeCommunities: [], weight: null, fallback: false };
  return {
    prefix: str(r.prefix) ?? '?',
    nextHop: str(r.nextHop),
    localPref: num(r.localPref),
    communities: strs(r.communities),
    largeCommunities: strs(r.largeCommunities),
    weight: num(r.weight),
    fallback: r.fallback === true,
  };
}

/** A session as the BGP speaker reports it (src/bgp/speaker SessionStatus), merged with the plan. */
function session(planned: Rec, live: Rec | null, blockedError: string | null): SessionView {
  const counters = rec(live?.counters);
  // counts (routeCount) when /status gave them: the lists may be cut or left out
  const state = blockedError !== null ? 'NotStarted' : (str(live?.state) ?? 'Idle');
  const bfd = live ? rec(live.bfd) : {};
  return {
    peer: str(planned.peer) ?? str(live?.peer) ?? '?',
    address: str(planned.address) ?? str(live?.peerAddress),
    port: num(planned.port) ?? num(live?.peerPort),
    myASN: num(planned.myASN),
    peerASN: num(planned.peerASN) ?? num(live?.peerASN),
    ebgp: bool(planned.ebgp),
    state,
    established: state === 'Established',
    uptimeSeconds: num(live?.uptimeSeconds) ?? 0,
    lastError: blockedError ?? str(live?.lastError),
    peerRouterId: str(live?.peerRouterId),
    prefixesSent: live ? (num(live.routeCount) ?? arr(live.routes).length) : 0,
    prefixesPlanned: num(planned.routeCount) ?? arr(planned.routes).length,
    prefixesReceived: num(live?.receivedPrefixes),
    prefixesAccepted: num(live?.acceptedPrefixes),
    staleReceived: num(live?.staleReceivedPrefixes) ?? 0,
    staleReceivedUntil: str(live?.staleReceivedUntil),
    phase: str(live?.phase),
    updatesSent: num(counters.updatesSent),
    updatesReceived: num(counters.updatesReceived),
    bfd: str(bfd.state) ?? str(live?.bfdState),
  };
}

function pools(v: unknown): PoolView[] {
  return arr(v).map((p) => {
    const r = rec(p);
    const inUse = num(r.inUse) ?? 0;
    const total = num(r.total) ?? 0;
    return { name: str(r.pool) ?? str(r.name) ?? '?', inUse, total, percent: total > 0 ? Math.round((inUse / total) * 1000) / 10 : 0 };
  });
}

/** Strips the prefix length ("198.51.100.7/32" -> "198.51.100.7"). */
const hostOf = (prefix: string): string => prefix.split('/')[0] ?? prefix;

/** The Services shown (at most SERVICES_SHOWN) and how many are not; `total`: the count /status gave. */
function serviceViews(
  list: unknown,
  total: number | null,
  routers: RouterView[],
  l2: unknown,
  l2side: Layer2View | null,
): { services: ServiceView[]; servicesHidden: number; routesPartial: boolean } {
  const all = arr(list);
  const handover = new Map((l2side?.handingOver ?? []).map((h) => [h.ip, h.to]));
  const shown = services(all.slice(0, SERVICES_SHOWN), routers, l2, handover);
  return { services: shown, servicesHidden: Math.max(0, (total ?? all.length) - shown.length), routesPartial: routers.some((r) => r.hidden > 0) };
}

function services(list: unknown, routers: RouterView[], l2: unknown, handover: Map<string, string | null>): ServiceView[] {
  // which session announces which address: a route covers an IP when the IP is its host part
  // (/32, /128) - aggregated routes are matched by their network address only
  const byIp = new Map<string, string[]>();
  for (const r of routers) {
    for (const rt of r.routes) {
      const h = hostOf(rt.prefix);
      const l = byIp.get(h) ?? [];
      if (!l.includes(r.peer)) l.push(r.peer);
      byIp.set(h, l);
    }
  }
  const owner = new Map<string, string>();
  for (const e of arr(l2)) {
    const r = rec(e);
    const ip = str(r.ip);
    const node = str(r.node);
    if (ip && node) owner.set(ip, node);
  }
  return arr(list).map((s) => {
    const r = rec(s);
    const ips = strs(r.ips);
    const announcedTo = [...new Set(ips.flatMap((ip) => byIp.get(ip) ?? []))].sort();
    const o = ips.map((ip) => owner.get(ip)).find((x) => x !== undefined) ?? null;
    const moving = ips.find((ip) => handover.has(ip));
    return {
      key: `${str(r.namespace) ?? ''}/${str(r.name) ?? ''}`,
      ips,
      pool: str(r.pool),
      error: str(r.error),
      announcedTo,
      l2Owner: o,
      l2HandingOverTo: moving === undefined ? null : { to: handover.get(moving) ?? null },
    };
  });
}

function router(peer: string, address: string | null, state: string, routes: unknown[], count: number): RouterView {
  const shown = routes.slice(0, ROUTES_SHOWN).map(route);
  return { peer, address, state, routes: shown, hidden: Math.max(0, count - shown.length) };
}

// --- per component ---------------------------------------------------------------------------

/** Sessions and per-router routes of a NodeStatus (src/node/types.ts), as standalone and the speaker publish it. */
function nodeSessions(st: Rec): { sessions: SessionView[]; routers: RouterView[] } {
  const sessions: SessionView[] = [];
  const routers: RouterView[] = [];
  for (const s of arr(st.sessions)) {
    const r = rec(s);
    const live = isRec(r.speaker) ? r.speaker : null;
    const v = session(r, live, str(r.error));
    sessions.push(v);
    routers.push(router(v.peer, v.address, v.state, arr(r.routes), v.prefixesPlanned));
  }
  return { sessions, routers };
}

/** Standalone's /status (src/standalone/runtime.ts StandaloneStatus: a NodeStatus plus the folder's state). */
function fromStandalone(st: Rec): ViewModel {
  const { sessions, routers } = nodeSessions(st);
  const layer2 = layer2View(st.layer2Agent);
  const errors = strs(st.configErrors);
  const ready = bool(st.ready);
  return {
    component: 'standalone',
    node: str(st.node),
    ready,
    leader: null,
    config: {
      state: st.stale === true ? 'stale' : errors.length > 0 || ready === false ? 'invalid' : 'ok',
      errors,
      warnings: strs(st.configWarnings),
      staleFiles: (Array.isArray(st.staleFiles) ? st.staleFiles : []).map((f) => {
        const r = rec(f);
        return { file: str(r.file) ?? '', reason: str(r.reason) ?? '', effect: str(r.effect) ?? '' };
      }),
      generation: num(st.generation),
      lastReload: str(rec(st.lastReload).at),
    },
    sessions,
    routers,
    ...serviceViews(st.services, num(st.serviceCount), routers, st.layer2, layer2),
    pools: pools(st.pools),
    received: receivedView(st.extensions),
    layer2,
  };
}

/** The Kubernetes speaker's /status (src/kube/speaker.ts KubeSpeakerStatus: a NodeStatus plus config validity). */
function fromSpeaker(st: Rec): ViewModel {
  const { sessions, routers } = nodeSessions(st);
  const layer2 = layer2View(st.layer2Agent);
  // the speaker does not allocate: its Services are the addresses it announces
  const announced = new Map<string, { ips: string[] }>();
  for (const r of routers) {
    for (const rt of r.routes) {
      const ip = hostOf(rt.prefix);
      if (!announced.has(ip)) announced.set(ip, { ips: [ip] });
    }
  }
  for (const l of arr(st.layer2)) {
    const ip = str(rec(l).ip);
    if (ip && !announced.has(ip)) announced.set(ip, { ips: [ip] });
  }
  const list = [...announced.keys()].sort().map((ip) => {
    const l2 = arr(st.layer2).map(rec).find((x) => x.ip === ip);
    const svcs = l2 ? strs(l2.services) : [];
    const [namespace, name] = (svcs[0] ?? `/${ip}`).split('/', 2);
    return { namespace, name, ips: [ip], pool: null, error: null };
  });
  return {
    component: 'speaker',
    node: str(st.node),
    ready: bool(st.ready),
    leader: null,
    config: { state: st.configValid === false ? 'invalid' : 'ok', errors: strs(st.configErrors), warnings: [], staleFiles: [], generation: num(st.generation), lastReload: null },
    sessions,
    routers,
    ...serviceViews(list, null, routers, st.layer2, layer2),
    pools: pools(st.pools),
    received: receivedView(st.extensions),
    layer2,
  };
}

/** The controller's /status: leader, config validity and assignments (namespace/name -> IPs). */
function fromController(st: Rec): ViewModel {
  const assignments = rec(st.assignments);
  const list = Object.entries(assignments).map(([key, a]) => {
    const [namespace, name] = key.split('/', 2);
    const r = rec(a);
    return { namespace, name, ips: strs(r.ips), pool: str(r.pool), error: null };
  });
  return {
    component: 'controller',
    node: null,
    ready: null,
    leader: bool(st.leader),
    config: { state: st.configValid === false ? 'invalid' : 'ok', errors: strs(st.configErrors), warnings: [], staleFiles: [], generation: null, lastReload: null },
    sessions: [],
    routers: [],
    ...serviceViews(list, null, [], [], null),
    pools: pools(st.pools),
    received: null,
    layer2: null,
  };
}

/** Builds the page's model from what /status returns. */
export function toViewModel(component: Component, status: unknown): ViewModel {
  const st = rec(status);
  if (component === 'controller') return fromController(st);
  if (component === 'speaker') return fromSpeaker(st);
  return fromStandalone(st);
}

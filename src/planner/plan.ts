// The announcement planner: from configuration, Services with their assigned addresses, Nodes
// and EndpointSlices, compute what each node announces: its BGP sessions with the exact routes
// per session, and the Layer 2 owner of each address. Pure and deterministic.

import { nodesWithoutSession } from './why.ts';
import { aggregate, comparePrefix, formatPrefix, tryParseIP } from '../ip/index.ts';
import { receivePolicyFor } from '../config/receive.ts';
import type { Family, IP, Prefix } from '../ip/index.ts';
import type { BGPAdvertisement, Config, L2Advertisement, Peer, PreferredNodeSelector } from '../config/types.ts';
import type { EndpointSlice, Namespace, Node, Service } from '../model/objects.ts';
import { EXCLUDE_LB_LABEL, SERVICE_NAME_LABEL, objectKey } from '../model/objects.ts';
import { anySelectorMatches } from '../model/selector.ts';
import { nodeIsReady } from '../model/node.ts';
import { isManaged } from '../allocator/service.ts';
import type { Assignment } from '../allocator/types.ts';
import type { Layer2Plan, PlanOutput, PlannedRoute, ServicePlan, SessionPlan } from './types.ts';
import { electL2Owner } from './elect.ts';

export interface PlanInput {
  config: Config;
  services: Service[];
  /** key "namespace/name" -> assignment (allocator output). */
  assignments: Record<string, Assignment>;
  nodes: Node[];
  endpointSlices: EndpointSlice[];
  namespaces?: Namespace[];
  /** No EndpointSlice for a service => a ready endpoint on every node (plan CLI, standalone). */
  assumeEndpoints?: boolean;
  /** Allocation failures to report in `services` (key -> reason). */
  errors?: Record<string, string>;
  /** Our loadBalancerClass (which services are listed); unset = services without a class. */
  loadBalancerClass?: string;
}

interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  /** May announce services (not excluded, network available). */
  eligible: boolean;
  /** No Ready condition saying False/Unknown (nodes without conditions count as ready). */
  ready: boolean;
  addresses: IP[];
}

interface SvcView {
  svc: Service;
  key: string;
  labels: Record<string, string>;
  ips: IP[];
  ipTexts: string[];
  pool: string;
  /** Nodes this service may be announced from (endpoint rule + eligibility). */
  nodes: Set<string>;
  assumed: boolean;
  /**
   * externalTrafficPolicy: Local with EndpointSlices: ready (serving) endpoints per node, per
   * address family of the slices (a dual-stack pod is in an IPv4 and an IPv6 slice: counted once
   * per family, not twice).
   */
  localEndpoints?: LocalEndpoints;
  /**
   * externalTrafficPolicy: Local and no node has a ready endpoint: the eligible nodes, which
   * announce it through advertisements with `metallb-ts.io/local-fallback` (MetalLB #148).
   */
  fallbackNodes?: Set<string>;
}

/** Ready local endpoints per node: by slice address family, and the most over the families. */
interface LocalEndpoints {
  4?: Map<string, number>;
  6?: Map<string, number>;
  any: Map<string, number>;
}

/**
 * Weighted ECMP: the link-bandwidth weight of a fallback route (no node has a ready endpoint),
 * one hundredth of one endpoint's, so that any path with a real endpoint outweighs it.
 */
export const FALLBACK_WEIGHT = 0.01;

function localWeight(l: LocalEndpoints | undefined, node: string, family: 4 | 6): number | undefined {
  if (!l) return undefined;
  return (l[family] ?? l.any).get(node);
}

function nodeInfo(n: Node): NodeInfo {
  const labels = n.metadata.labels ?? {};
  const unavailable = (n.status?.conditions ?? []).some((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
  const excluded = Object.prototype.hasOwnProperty.call(labels, EXCLUDE_LB_LABEL);
  const addrs: IP[] = [];
  for (const type of ['InternalIP', 'ExternalIP']) {
    for (const a of n.status?.addresses ?? []) {
      if (a.type !== type) continue;
      const ip = tryParseIP(a.address);
      if (ip && !addrs.some((x) => x.family === ip.family && x.value === ip.value)) addrs.push(ip);
    }
  }
  return { name: n.metadata.name, labels, eligible: !unavailable && !excluded, ready: nodeIsReady(n), addresses: addrs };
}

/** An endpoint serves when `ready` is unset or true, or `serving` is true. */
export function endpointServes(c: { ready?: boolean | null; serving?: boolean | null } | undefined): boolean {
  if (!c) return true;
  return c.ready === undefined || c.ready === null || c.ready === true || c.serving === true;
}

function isEBGP(p: Peer): boolean {
  if (p.dynamicASN === 'internal') return false;
  if (p.dynamicASN === 'external') return true;
  return (p.localASN ?? p.myASN) !== p.peerASN;
}

function peerCarries(p: Peer, f: Family): boolean {
  if (!p.address) return true; // unnumbered (interface) sessions carry both families
  return p.dualStackAddressFamily || p.address.family === f;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Ctx {
  nodes: NodeInfo[];
  views: SvcView[];
  services: ServicePlan[];
}

function buildContext(input: PlanInput): Ctx {
  const nodes: NodeInfo[] = [];
  const seenNodes = new Set<string>();
  for (const n of [...input.nodes].sort((a, b) => cmpStr(a.metadata.name, b.metadata.name))) {
    if (seenNodes.has(n.metadata.name)) continue;
    seenNodes.add(n.metadata.name);
    nodes.push(nodeInfo(n));
  }
  const eligible = nodes.filter((n) => n.eligible).map((n) => n.name);

  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of input.endpointSlices) {
    const svcName = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svcName) continue;
    const key = `${s.metadata.namespace ?? 'default'}/${svcName}`;
    let arr = slicesBySvc.get(key);
    if (!arr) slicesBySvc.set(key, (arr = []));
    arr.push(s);
  }

  const views: SvcView[] = [];
  const services: ServicePlan[] = [];
  const seen = new Set<string>();
  // key computed once per service (not twice per comparison)
  const keyed = input.services.map((svc) => ({ svc, key: objectKey(svc.metadata) }));
  keyed.sort((a, b) => cmpStr(a.key, b.key));
  for (const { svc, key } of keyed) {
    if (seen.has(key)) continue;
    seen.add(key);
    const a = input.assignments[key];
    if (!a && !isManaged(svc, input.loadBalancerClass)) continue;
    const slices = slicesBySvc.get(key);
    const assumed = !slices && input.assumeEndpoints === true;
    const nodesFor = new Set<string>();
    let localEndpoints: LocalEndpoints | undefined;
    const isLocal = svc.spec.externalTrafficPolicy === 'Local';
    if (assumed) {
      for (const n of eligible) nodesFor.add(n);
    } else if (slices) {
      const byFamily = new Map<0 | 4 | 6, Map<string, number>>();
      let any = false;
      for (const sl of slices) {
        const fam = sl.addressType === 'IPv6' ? 6 : sl.addressType === 'FQDN' ? 0 : 4;
        let local = byFamily.get(fam);
        if (!local) byFamily.set(fam, (local = new Map()));
        for (const ep of sl.endpoints ?? []) {
          if (!endpointServes(ep.conditions)) continue;
          any = true;
          if (ep.nodeName) local.set(ep.nodeName, (local.get(ep.nodeName) ?? 0) + 1);
        }
      }
      const most = new Map<string, number>();
      for (const m of byFamily.values()) for (const [n, c] of m) most.set(n, Math.max(c, most.get(n) ?? 0));
      for (const n of eligible) if (isLocal ? most.has(n) : any) nodesFor.add(n);
      if (isLocal) {
        localEndpoints = { any: most };
        const v4 = byFamily.get(4);
        const v6 = byFamily.get(6);
        if (v4) localEndpoints[4] = v4;
        if (v6) localEndpoints[6] = v6;
      }
    }
    const fallback = isLocal && !assumed && nodesFor.size === 0 && (localEndpoints?.any.size ?? 0) === 0;
    const plan: ServicePlan = {
      namespace: svc.metadata.namespace ?? 'default',
      name: svc.metadata.name,
      ips: a ? [...a.ips] : [],
      pool: a ? a.pool : null,
      endpointsAssumed: assumed,
      error: a ? null : (input.errors?.[key] ?? 'no IP assigned'),
    };
    services.push(plan);
    if (!a) continue;
    const ips: IP[] = [];
    const texts: string[] = [];
    for (const t of a.ips) {
      const ip = tryParseIP(t);
      if (ip) {
        ips.push(ip);
        texts.push(t);
      }
    }
    const view: SvcView = { svc, key, labels: svc.metadata.labels ?? {}, ips, ipTexts: texts, pool: a.pool, nodes: nodesFor, assumed };
    if (localEndpoints) view.localEndpoints = localEndpoints;
    if (fallback) view.fallbackNodes = new Set(eligible);
    views.push(view);
  }
  return { nodes, views, services };
}

function communityParts(ad: BGPAdvertisement): { std: number[]; large: [number, number, number][] } {
  const std: number[] = [];
  const large: [number, number, number][] = [];
  for (const c of ad.communities) {
    if (c.kind === 'standard') std.push(c.value >>> 0);
    else large.push([c.global >>> 0, c.local1 >>> 0, c.local2 >>> 0]);
  }
  return { std, large };
}

function cmpLarge(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Identity of a prefix inside one session's route table. IPv4 prefixes get an exact number
 * (network * 64 + length < 2^38): hashing a number is much cheaper than building and hashing a
 * string, which matters with 100k routes per session. IPv6 prefixes use their text.
 */
type RouteKey = number | string;

function routeKey(p: Prefix): RouteKey {
  return p.family === 4 ? Number(p.network) * 64 + p.length : formatPrefix(p);
}

/**
 * Sessions of one node whose routes are necessarily identical: same eBGP/iBGP, same families
 * carried, and the same advertisements naming them in `peers`. Their route list is computed
 * once and shared (one array for all of them: 10 routers × 100k routes hold 100k routes).
 */
interface RouteGroup {
  sessions: SessionPlan[];
  ebgp: boolean;
  /** A member's name, for advertisements' `peers` filter (equal for all by construction). */
  peer: string;
  config: Peer;
  map: Map<RouteKey, PlannedRoute>;
}

function routeGroupKey(p: Peer, ebgp: boolean, ads: readonly BGPAdvertisement[]): string {
  const named = ads.flatMap((ad, i) => (ad.peers.length > 0 && ad.peers.includes(p.name) ? [i] : []));
  return `${ebgp ? 'e' : 'i'}|${peerCarries(p, 4) ? 4 : ''}${peerCarries(p, 6) ? 6 : ''}|${named.join(',')}`;
}

/** Weighted ECMP and local fallback facts of one advertisement on a route (several: the last weight, the longest interval). */
function setWeight(r: PlannedRoute, weight: number | undefined, intervalMs: number | undefined, fallback: boolean): void {
  if (weight !== undefined) r.weight = weight;
  if (intervalMs !== undefined) r.weightIntervalMs = Math.max(intervalMs, r.weightIntervalMs ?? 0);
  if (fallback) r.fallback = true;
}

function planSessions(config: Config, ctx: Ctx, onlyNode?: string): SessionPlan[] {
  const sessions: SessionPlan[] = [];
  const groups: RouteGroup[] = [];
  const byNode = new Map<string, RouteGroup[]>();
  const peers = [...config.peers].sort((a, b) => cmpStr(a.name, b.name));
  for (const n of ctx.nodes) {
    if (onlyNode !== undefined && n.name !== onlyNode) continue;
    const list = new Map<string, RouteGroup>();
    for (const p of peers) {
      if (!anySelectorMatches(p.nodeSelectors, n.labels)) continue;
      const addrs: IP[] = [];
      if (p.sourceAddress) addrs.push(p.sourceAddress);
      for (const a of n.addresses) if (!addrs.some((x) => x.family === a.family && x.value === a.value)) addrs.push(a);
      const s: SessionPlan = { node: n.name, peer: p.name, config: p, ebgp: isEBGP(p), routes: [], nodeAddresses: addrs };
      const receive = receivePolicyFor(p, n.labels);
      if (receive) s.receive = receive;
      sessions.push(s);
      const key = routeGroupKey(p, s.ebgp, config.bgpAdvertisements);
      const g = list.get(key);
      if (g) g.sessions.push(s);
      else {
        const ng: RouteGroup = { sessions: [s], ebgp: s.ebgp, peer: p.name, config: p, map: new Map() };
        list.set(key, ng);
        groups.push(ng);
      }
    }
    byNode.set(n.name, [...list.values()]);
  }
  const adsByPool = new Map<string, BGPAdvertisement[]>();
  for (const ad of config.bgpAdvertisements) {
    for (const pool of ad.pools) {
      let arr = adsByPool.get(pool);
      if (!arr) adsByPool.set(pool, (arr = []));
      arr.push(ad);
    }
  }
  // Per advertisement, computed once: its communities and the nodes its nodeSelectors allow.
  const commOf = new Map<BGPAdvertisement, ReturnType<typeof communityParts>>();
  const nodeOK = new Map<BGPAdvertisement, Set<string>>();
  for (const ad of config.bgpAdvertisements) {
    commOf.set(ad, communityParts(ad));
    nodeOK.set(ad, new Set(ctx.nodes.filter((n) => anySelectorMatches(ad.nodeSelectors, n.labels)).map((n) => n.name)));
  }
  for (const v of ctx.views) {
    const ads = (adsByPool.get(v.pool) ?? []).filter((ad) => ad.serviceSelectors.length === 0 || anySelectorMatches(ad.serviceSelectors, v.labels));
    if (ads.length === 0) continue;
    for (const ad of ads) {
      const comm = commOf.get(ad) as ReturnType<typeof communityParts>;
      const allowed = nodeOK.get(ad) as Set<string>;
      const prefixes = v.ips.map((ip) => {
        const prefix: Prefix = aggregate(ip, ip.family === 4 ? ad.aggregationLength : ad.aggregationLengthV6);
        return { family: ip.family, prefix, key: routeKey(prefix) };
      });
      // Local fallback: nobody has a ready endpoint, every eligible node announces (low weight)
      const fallback = ad.localFallback === 'all-nodes' && v.fallbackNodes !== undefined;
      const weighted = ad.weightedECMP === 'endpoints';
      for (const nodeName of fallback ? (v.fallbackNodes as Set<string>) : v.nodes) {
        const list = byNode.get(nodeName);
        if (!list || list.length === 0) continue;
        if (!allowed.has(nodeName)) continue;
        for (const s of list) {
          if (ad.peers.length > 0 && !ad.peers.includes(s.peer)) continue;
          const m = s.map;
          for (const { family, prefix, key } of prefixes) {
            if (!peerCarries(s.config, family)) continue;
            // Weighted ECMP: this node's share of the Service's ready endpoints (of this family).
            // (host routes only: an aggregate covers other Services' endpoints too)
            const host = prefix.length === (family === 4 ? 32 : 128);
            const weight = !weighted || !host ? undefined : fallback ? FALLBACK_WEIGHT : localWeight(v.localEndpoints, nodeName, family);
            let r = m.get(key);
            if (!r) {
              // first advertisement of this prefix: its communities as they are (own copies)
              r = { prefix, communities: comm.std.slice(), largeCommunities: comm.large.map((c) => [c[0], c[1], c[2]]) };
              if (!s.ebgp && ad.localPref !== undefined) r.localPref = ad.localPref;
              setWeight(r, weight, weighted && host ? ad.weightIntervalMs : undefined, fallback);
              m.set(key, r);
              continue;
            }
            setWeight(r, weight, weighted && host ? ad.weightIntervalMs : undefined, fallback);
            if (!s.ebgp && ad.localPref !== undefined) {
              r.localPref = r.localPref === undefined ? ad.localPref : Math.max(r.localPref, ad.localPref);
            }
            for (const c of comm.std) if (!r.communities.includes(c)) r.communities.push(c);
            for (const c of comm.large) if (!r.largeCommunities.some((x) => cmpLarge(x, c) === 0)) r.largeCommunities.push([c[0], c[1], c[2]]);
          }
        }
      }
    }
  }
  for (const s of groups) {
    const routes = [...s.map.values()];
    for (const r of routes) {
      // iBGP always carries LOCAL_PREF: 0 unless an advertisement sets one (MetalLB's native
      // speaker does the same), so the plan shows exactly what the router receives.
      if (!s.ebgp && r.localPref === undefined) r.localPref = 0;
      r.communities.sort((a, b) => a - b);
      r.largeCommunities.sort(cmpLarge);
    }
    routes.sort((a, b) => comparePrefix(a.prefix, b.prefix));
    for (const m of s.sessions) m.routes = routes;
  }
  sessions.sort((a, b) => cmpStr(a.node, b.node) || cmpStr(a.peer, b.peer));
  return sessions;
}

function planLayer2(config: Config, ctx: Ctx, onlyNode?: string): Layer2Plan[] {
  const adsByPool = new Map<string, L2Advertisement[]>();
  for (const ad of config.l2Advertisements) {
    for (const pool of ad.pools) {
      let arr = adsByPool.get(pool);
      if (!arr) adsByPool.set(pool, (arr = []));
      arr.push(ad);
    }
  }
  const nodeByName = new Map(ctx.nodes.map((n) => [n.name, n]));
  interface Acc {
    ip: IP;
    text: string;
    services: string[];
    candidates: Set<string>;
    ads: L2Advertisement[];
  }
  const byIP = new Map<string, Acc>();
  for (const v of ctx.views) {
    const ads = (adsByPool.get(v.pool) ?? []).filter((ad) => anySelectorMatches(ad.serviceSelectors, v.labels));
    if (ads.length === 0) continue;
    for (let i = 0; i < v.ips.length; i++) {
      const ip = v.ips[i] as IP;
      const text = v.ipTexts[i] as string;
      let acc = byIP.get(text);
      if (!acc) byIP.set(text, (acc = { ip, text, services: [], candidates: new Set(), ads: [] }));
      acc.services.push(v.key);
      for (const ad of ads) if (!acc.ads.includes(ad)) acc.ads.push(ad);
      for (const nodeName of v.nodes) {
        const n = nodeByName.get(nodeName);
        // Layer 2 candidates must also be Ready (a NotReady node's speaker is presumed gone)
        if (n && n.ready && ads.some((ad) => anySelectorMatches(ad.nodeSelectors, n.labels))) acc.candidates.add(nodeName);
      }
    }
  }
  const out: Layer2Plan[] = [];
  const accs = [...byIP.values()].sort((a, b) => a.ip.family - b.ip.family || (a.ip.value < b.ip.value ? -1 : a.ip.value > b.ip.value ? 1 : 0));
  for (const acc of accs) {
    if (onlyNode !== undefined && !acc.candidates.has(onlyNode)) continue;
    const candidates = [...acc.candidates].sort().map((name) => ({ name, labels: nodeByName.get(name)?.labels ?? {} }));
    const preferred: PreferredNodeSelector[] = acc.ads.flatMap((ad) => ad.preferredNodeSelectors);
    const owner = electL2Owner(acc.text, candidates, preferred);
    let interfaces: string[] = [];
    // interfaces as seen by the node the plan is for (planNode: that node, which may take the IP
    // over on re-election), else by the elected owner
    const ifNode = onlyNode ?? owner;
    if (ifNode !== null) {
      const labels = nodeByName.get(ifNode)?.labels ?? {};
      const matching = acc.ads.filter((ad) => anySelectorMatches(ad.nodeSelectors, labels));
      if (!matching.some((ad) => ad.interfaces.length === 0)) {
        interfaces = [...new Set(matching.flatMap((ad) => ad.interfaces))].sort();
      }
    }
    out.push({ ip: acc.text, services: [...acc.services].sort(), node: owner, interfaces, candidates, preferred });
  }
  return out;
}

/** Everything every node announces. */
export function planAll(input: PlanInput): PlanOutput {
  const ctx = buildContext(input);
  const out: PlanOutput = { services: ctx.services, bgp: planSessions(input.config, ctx), layer2: planLayer2(input.config, ctx) };
  const none = nodesWithoutSession(input.config.peers, ctx.nodes);
  if (none.length > 0) out.noSession = none;
  return out;
}

/**
 * What one speaker announces: its sessions, and the Layer 2 addresses it owns. `layer2Candidates`
 * (additive): every Layer 2 address this node is a candidate for (with `candidates`/`preferred`
 * and this node's interfaces), for the Layer 2 agent's re-election over live speakers.
 */
export function planNode(
  input: PlanInput,
  node: string,
): { sessions: PlanOutput['bgp']; layer2: Layer2Plan[]; layer2Candidates: Layer2Plan[] } {
  const ctx = buildContext(input);
  const l2 = planLayer2(input.config, ctx, node);
  return {
    sessions: planSessions(input.config, ctx, node),
    layer2: l2.filter((l) => l.node === node),
    layer2Candidates: l2,
  };
}

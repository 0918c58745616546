// Builders for hand-made Config objects and Kubernetes objects, with MetalLB's defaults.

import { parseRangeOrCIDR, rangeToPrefixes } from '../../../src/ip/index.ts';
import type { IPRange } from '../../../src/ip/index.ts';
import type { BGPAdvertisement, Community, Config, L2Advertisement, Peer, Pool, SourceRef } from '../../../src/config/types.ts';
import type { EndpointSlice, IPFamily, IPFamilyPolicy, Namespace, Node, Service, ServicePort } from '../../../src/model/objects.ts';
import type { LabelSelector } from '../../../src/model/selector.ts';
import { makePeer } from '../helpers/peer.ts';

const src = (kind: string, name: string): SourceRef => ({ file: 'test', line: 1, kind, name });

export function pool(name: string, addresses: string[], opts: Partial<Omit<Pool, 'name' | 'ranges' | 'cidrs'>> = {}): Pool {
  const ranges: IPRange[] = addresses.map((a) => {
    const r = parseRangeOrCIDR(a);
    if (typeof r === 'string') throw new Error(r);
    return r;
  });
  return {
    name,
    ranges,
    cidrs: ranges.flatMap(rangeToPrefixes),
    autoAssign: true,
    avoidBuggyIPs: false,
    labels: {},
    source: src('IPAddressPool', name),
    ...opts,
  };
}

export function peer(name: string, address: string, myASN: number, peerASN: number, opts: Partial<Peer> = {}): Peer {
  return makePeer(name, address, myASN, peerASN, src('BGPPeer', name), opts);
}

export function std(text: string): Community {
  const [a, b] = text.split(':').map(Number);
  return { kind: 'standard', value: ((a ?? 0) << 16) + (b ?? 0) };
}

export function bgpAd(name: string, pools: string[], opts: Partial<BGPAdvertisement> = {}): BGPAdvertisement {
  return {
    name,
    pools,
    aggregationLength: 32,
    aggregationLengthV6: 128,
    communities: [],
    peers: [],
    nodeSelectors: [],
    serviceSelectors: [],
    source: src('BGPAdvertisement', name),
    ...opts,
  };
}

export function l2Ad(name: string, pools: string[], opts: Partial<L2Advertisement> = {}): L2Advertisement {
  return {
    name,
    pools,
    interfaces: [],
    nodeSelectors: [],
    serviceSelectors: [],
    preferredNodeSelectors: [],
    source: src('L2Advertisement', name),
    ...opts,
  };
}

export function config(parts: Partial<Config> = {}): Config {
  const byName = <T extends { name: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    pools: byName(parts.pools ?? []),
    peers: byName(parts.peers ?? []),
    bgpAdvertisements: byName(parts.bgpAdvertisements ?? []),
    l2Advertisements: byName(parts.l2Advertisements ?? []),
    bfdProfiles: parts.bfdProfiles ?? [],
    communityAliases: parts.communityAliases ?? {},
  };
}

export interface SvcOpts {
  ns?: string;
  ip?: string; // spec.loadBalancerIP
  ips?: string; // metallb.io/loadBalancerIPs
  legacyIPs?: string; // metallb.universe.tf/loadBalancerIPs
  pool?: string;
  share?: string;
  ports?: (number | ServicePort)[];
  etp?: 'Cluster' | 'Local';
  selector?: Record<string, string>;
  labels?: Record<string, string>;
  families?: IPFamily[];
  policy?: IPFamilyPolicy;
  cls?: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  ingress?: string[];
  annotations?: Record<string, string>;
}

export function svc(name: string, o: SvcOpts = {}): Service {
  const annotations: Record<string, string> = { ...(o.annotations ?? {}) };
  if (o.ips !== undefined) annotations['metallb.io/loadBalancerIPs'] = o.ips;
  if (o.legacyIPs !== undefined) annotations['metallb.universe.tf/loadBalancerIPs'] = o.legacyIPs;
  if (o.pool !== undefined) annotations['metallb.io/address-pool'] = o.pool;
  if (o.share !== undefined) annotations['metallb.io/allow-shared-ip'] = o.share;
  const s: Service = {
    metadata: { name, namespace: o.ns ?? 'default', labels: o.labels ?? {}, annotations },
    spec: {
      type: o.type ?? 'LoadBalancer',
      ports: (o.ports ?? [80]).map((p) => (typeof p === 'number' ? { port: p, protocol: 'TCP' as const } : p)),
      selector: o.selector ?? { app: name },
      externalTrafficPolicy: o.etp ?? 'Cluster',
    },
  };
  if (o.ip !== undefined) s.spec.loadBalancerIP = o.ip;
  if (o.families) s.spec.ipFamilies = o.families;
  if (o.policy) s.spec.ipFamilyPolicy = o.policy;
  if (o.cls !== undefined) s.spec.loadBalancerClass = o.cls;
  if (o.ingress) s.status = { loadBalancer: { ingress: o.ingress.map((ip) => ({ ip })) } };
  return s;
}

export function namespace(name: string, labels: Record<string, string> = {}): Namespace {
  return { metadata: { name, labels } };
}

export function node(
  name: string,
  labels: Record<string, string> = {},
  o: { addresses?: string[]; networkUnavailable?: boolean } = {},
): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: {
      conditions: o.networkUnavailable ? [{ type: 'NetworkUnavailable', status: 'True' }] : [{ type: 'Ready', status: 'True' }],
      addresses: (o.addresses ?? []).map((address) => ({ type: 'InternalIP', address })),
    },
  };
}

export function slice(
  service: string,
  endpoints: { node: string; ready?: boolean | null; serving?: boolean | null }[],
  ns = 'default',
  name = `${service}-abc`,
): EndpointSlice {
  return {
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e, i) => {
      const conditions: { ready?: boolean | null; serving?: boolean | null } = {};
      if (e.ready !== undefined) conditions.ready = e.ready;
      if (e.serving !== undefined) conditions.serving = e.serving;
      return { addresses: [`10.244.0.${i + 1}`], nodeName: e.node, conditions };
    }),
  };
}

export function sel(matchLabels: Record<string, string>): LabelSelector {
  return { matchLabels };
}

const REQUESTABLE = ['10.0.0.1', '10.0.0.5', '10.0.0.15', '10.0.1.2', '10.0.2.3', 'fd00::3', '10.9.9.9', '10.0.0.0'];

/** A random Service (requests, pools, sharing, ports, families, type) for randomized tests. */
export function randomService(rnd: () => number, name: string): Service {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const o: SvcOpts = {};
  o.ns = rnd() < 0.2 ? 'team' : 'default';
  const r = rnd();
  if (r < 0.15) o.ip = pick(REQUESTABLE);
  else if (r < 0.2) o.ips = `${pick(REQUESTABLE)},${pick(REQUESTABLE)}`;
  if (rnd() < 0.15) o.pool = pick(['a', 'b', 'd', 'missing']);
  if (rnd() < 0.4) o.share = pick(['k1', 'k2']);
  const ports = [80, 443, 53].filter(() => rnd() < 0.5);
  o.ports = ports.length > 0 ? ports : [8080];
  o.etp = rnd() < 0.3 ? 'Local' : 'Cluster';
  o.selector = { app: pick(['x', 'y']) };
  const fam = rnd();
  if (fam < 0.15) o.policy = 'RequireDualStack';
  else if (fam < 0.3) o.policy = 'PreferDualStack';
  else if (fam < 0.4) o.families = ['IPv6'];
  if (rnd() < 0.05) o.type = 'ClusterIP';
  return svc(name, o);
}

/** Pool sets for randomized tests (small pools: exhaustion, autoAssign, avoidBuggyIPs, dual stack, priorities). */
export const RANDOM_POOL_SETS: (() => Pool[])[] = [
  () => [pool('a', ['10.0.0.0/28']), pool('b', ['10.0.1.0/29'], { autoAssign: false }), pool('d', ['10.0.2.0/29', 'fd00::/125'])],
  () => [pool('a', ['10.0.0.0/29']), pool('b', ['10.0.1.0/29']), pool('d', ['10.0.2.0/29', 'fd00::/125'])],
  () => [pool('a', ['10.0.0.0/28'], { avoidBuggyIPs: true }), pool('d', ['10.0.2.0/30', 'fd00::/126'])],
  () => [
    pool('a', ['10.0.0.0/28']),
    pool('b', ['10.0.1.0/29'], { serviceAllocation: { priority: 1, namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [] } }),
    pool('d', ['10.0.2.0/29', 'fd00::/125']),
  ],
  () => [pool('renamed', ['10.0.0.0/28']), pool('d', ['10.0.2.0/29', 'fd00::/125'])],
  () => [pool('a', ['10.0.0.0/24']), pool('d', ['fd00::/120'])],
];

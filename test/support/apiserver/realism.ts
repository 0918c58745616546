// What kube-apiserver does that a naive test server hides, kept apart from the REST core:
//   - Service defaulting on create (ClusterIP allocation, ipFamilies, ipFamilyPolicy, nodePorts,
//     sessionAffinity, traffic policies) and `ipMode: VIP` on load-balancer ingress entries;
//   - list paging (`limit` / `continue` over a consistent snapshot, 410 for an expired token);
//   - per-request latency and list order the client does not choose (seeded shuffle);
//   - request accounting by Kubernetes verb (get/list/watch/create/update/patch/delete).

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'other';

export interface LatencyOptions {
  /** Delay before every answer (ms): a number, or [min, max] drawn uniformly. Default 0. */
  requestLatencyMs?: number | [number, number];
  /** Extra delay before list answers (ms), as above. Default 0. */
  listLatencyMs?: number | [number, number];
  /**
   * List items come back in an order the client does not choose: a seeded shuffle (a number) or
   * a fresh random order each time (true). Default false (sorted by namespace/name).
   */
  shuffleLists?: boolean | number;
}

/** Deterministic PRNG for reproducible shuffles (the tests' seeded mulberry32). */
export { mulberry32 as prng } from '../../unit/helpers/random.ts';

export function pickDelay(v: number | [number, number] | undefined, rnd: () => number): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return v[0] + Math.floor(rnd() * (v[1] - v[0] + 1));
}

export function shuffle<T>(items: T[], rnd: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
  return items;
}

export function verbOf(method: string, named: boolean, watch: boolean): Verb {
  switch (method) {
    case 'GET':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return 'other';
  }
}

// ---- Service defaults ----

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Allocates ClusterIPs from 10.96.0.0/12 and fd00:10:96::/112, and node ports 30000-32767. */
export class ServiceAllocators {
  private nextV4 = 1;
  private nextV6 = 1;
  private ports = new Set<number>();
  private nextPort = 30000;

  clusterIP(family: 'IPv4' | 'IPv6'): string {
    if (family === 'IPv4') {
      const n = this.nextV4++;
      return `10.${96 + ((n >> 16) & 0x0f)}.${(n >> 8) & 0xff}.${n & 0xff}`;
    }
    return `fd00:10:96::${(this.nextV6++).toString(16)}`;
  }

  nodePort(): number {
    for (let i = 0; i < 2768; i++) {
      const p = this.nextPort;
      this.nextPort = this.nextPort >= 32767 ? 30000 : this.nextPort + 1;
      if (!this.ports.has(p)) {
        this.ports.add(p);
        return p;
      }
    }
    throw new Error('node port range exhausted');
  }

  reserve(port: number): void {
    this.ports.add(port);
  }

  free(port: number): void {
    this.ports.delete(port);
  }
}

/**
 * kube-apiserver's Service defaulting and allocation (v1.31), applied to a Service being created:
 * type ClusterIP, sessionAffinity None, ipFamilyPolicy SingleStack, ipFamilies [IPv4] (or from
 * the given clusterIPs), a clusterIP per family, nodePorts for NodePort/LoadBalancer (unless
 * allocateLoadBalancerNodePorts is false), externalTrafficPolicy Cluster for external types,
 * internalTrafficPolicy Cluster, ports' protocol TCP and targetPort = port; status.loadBalancer {}.
 */
export function defaultService(o: Rec, alloc: ServiceAllocators): void {
  const spec: Rec = isRec(o['spec']) ? o['spec'] : {};
  o['spec'] = spec;
  const type = typeof spec['type'] === 'string' ? spec['type'] : 'ClusterIP';
  spec['type'] = type;
  spec['sessionAffinity'] ??= 'None';
  if (type === 'ExternalName') return;
  const headless = spec['clusterIP'] === 'None';
  const policy = typeof spec['ipFamilyPolicy'] === 'string' ? spec['ipFamilyPolicy'] : 'SingleStack';
  let families = Array.isArray(spec['ipFamilies']) ? (spec['ipFamilies'] as string[]).filter((f) => f === 'IPv4' || f === 'IPv6') : [];
  if (families.length === 0) families = ['IPv4'];
  if (policy !== 'SingleStack' && families.length === 1) families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  if (policy === 'SingleStack') families = families.slice(0, 1);
  spec['ipFamilyPolicy'] = policy;
  spec['ipFamilies'] = families;
  if (headless) spec['clusterIPs'] = ['None'];
  else {
    const given = typeof spec['clusterIP'] === 'string' && spec['clusterIP'] !== '' ? [spec['clusterIP']] : [];
    const ips = families.map((f, i) => (i === 0 && given[0] ? given[0] : alloc.clusterIP(f as 'IPv4' | 'IPv6')));
    spec['clusterIP'] = ips[0];
    spec['clusterIPs'] = ips;
  }
  spec['internalTrafficPolicy'] ??= 'Cluster';
  const external = type === 'NodePort' || type === 'LoadBalancer';
  if (external) spec['externalTrafficPolicy'] ??= 'Cluster';
  if (type === 'LoadBalancer') spec['allocateLoadBalancerNodePorts'] ??= true;
  const wantNodePorts = type === 'NodePort' || (type === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] !== false);
  if (Array.isArray(spec['ports'])) {
    for (const p of spec['ports'] as unknown[]) {
      if (!isRec(p)) continue;
      p['protocol'] ??= 'TCP';
      p['targetPort'] ??= p['port'];
      if (wantNodePorts) {
        if (typeof p['nodePort'] === 'number') alloc.reserve(p['nodePort']);
        else p['nodePort'] = alloc.nodePort();
      }
    }
  }
  if (type === 'LoadBalancer' && spec['externalTrafficPolicy'] === 'Local' && spec['healthCheckNodePort'] === undefined) {
    spec['healthCheckNodePort'] = alloc.nodePort();
  }
  o['status'] = { loadBalancer: {} };
}

/** Frees what a deleted Service held. */
export function releaseService(o: Rec, alloc: ServiceAllocators): void {
  const spec = isRec(o['spec']) ? o['spec'] : {};
  for (const p of Array.isArray(spec['ports']) ? (spec['ports'] as unknown[]) : []) {
    if (isRec(p) && typeof p['nodePort'] === 'number') alloc.free(p['nodePort']);
  }
  if (typeof spec['healthCheckNodePort'] === 'number') alloc.free(spec['healthCheckNodePort']);
}

/** Status written for a Service: every load-balancer ingress entry with an ip gets ipMode VIP (v1.30+). */
export function defaultServiceStatus(o: Rec): void {
  const st = o['status'];
  if (!isRec(st)) return;
  const lb = st['loadBalancer'];
  if (!isRec(lb) || !Array.isArray(lb['ingress'])) return;
  for (const ing of lb['ingress'] as unknown[]) {
    if (isRec(ing) && typeof ing['ip'] === 'string' && ing['ipMode'] === undefined) ing['ipMode'] = 'VIP';
  }
}

// ---- paging ----

interface Snapshot<T> {
  rv: number;
  items: T[];
}

/**
 * Continue tokens over list snapshots: a paged list is served from the snapshot taken by its
 * first page (as etcd serves it at the first page's revision). Tokens are opaque base64 JSON.
 * Tokens older than `floor` (compaction) are rejected with 410, as kube-apiserver does.
 */
export class Pager<T> {
  private snaps = new Map<string, Snapshot<T>>();
  private seq = 0;

  /** First page: returns the page and a token for the rest (undefined when none remains). */
  first(items: T[], rv: number, limit: number): { page: T[]; token?: string; remaining: number } {
    if (limit <= 0 || items.length <= limit) return { page: items, remaining: 0 };
    const id = String(++this.seq);
    this.snaps.set(id, { rv, items });
    return this.slice(id, 0, limit);
  }

  next(token: string, limit: number, floor: number): { page: T[]; token?: string; remaining: number; rv: number } | 'expired' | 'invalid' {
    let parsed: { id?: string; off?: number; rv?: number };
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as typeof parsed;
    } catch {
      return 'invalid';
    }
    if (typeof parsed.id !== 'string' || typeof parsed.off !== 'number' || typeof parsed.rv !== 'number') return 'invalid';
    const snap = this.snaps.get(parsed.id);
    if (!snap || parsed.rv < floor) {
      this.snaps.delete(parsed.id);
      return 'expired';
    }
    return { ...this.slice(parsed.id, parsed.off, limit > 0 ? limit : snap.items.length), rv: snap.rv };
  }

  private slice(id: string, off: number, limit: number): { page: T[]; token?: string; remaining: number } {
    const snap = this.snaps.get(id) as Snapshot<T>;
    const page = snap.items.slice(off, off + limit);
    const end = off + page.length;
    if (end >= snap.items.length) {
      this.snaps.delete(id);
      return { page, remaining: 0 };
    }
    const token = Buffer.from(JSON.stringify({ id, off: end, rv: snap.rv })).toString('base64');
    return { page, token, remaining: snap.items.length - end };
  }

  /** Forget every snapshot (compaction / restart). */
  clear(): void {
    this.snaps.clear();
  }
}

// The incremental allocator: MetalLB's IP assignment semantics, deterministic, with a cost per
// operation that does not depend on pool size (used addresses are kept as runs; the lowest free
// address is found by skipping runs; avoidBuggyIPs is arithmetic).

import { preferDualStackAttempts } from './dualstack.ts';
import { formatIP, tryParseIP } from '../ip/index.ts';
import type { Family, IP } from '../ip/index.ts';
import type { Config, Pool } from '../config/types.ts';
import type { Namespace, Service } from '../model/objects.ts';
import { objectKey } from '../model/objects.ts';
import { anySelectorMatches } from '../model/selector.ts';
import { RunSet } from './runset.ts';
import { analyzeService, isManaged } from './service.ts';
import type { ServiceInfo } from './service.ts';
import type { Assignment, PoolStats, ServiceResult } from './types.ts';

interface Range {
  first: bigint;
  last: bigint;
}

interface FamilyState {
  family: Family;
  /** Merged, sorted, disjoint. */
  ranges: Range[];
  used: RunSet;
  /** No free (and not avoided) address of the ranges is below `hint`. */
  hint: bigint;
  /** sharing key -> addresses of this family held under that key. */
  shared: Map<string, Set<bigint>>;
  size: bigint;
  /** Addresses skipped because of avoidBuggyIPs. */
  avoided: bigint;
}

interface PoolState {
  pool: Pool;
  avoidBuggy: boolean;
  v4: FamilyState;
  v6: FamilyState;
}

interface IPUse {
  ip: IP;
  pool: string;
  sharingKey: string;
  backendKey: string;
  /** The services holding this address (usually one; several when shared). */
  holders: Held[];
}

interface Held {
  info: ServiceInfo;
  ips: IP[];
  /** Canonical text of `ips`. */
  texts: string[];
  pool: string;
}

type Placement = { ips: IP[]; pool: PoolState } | { error: string };

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isBuggy(family: Family, v: bigint): boolean {
  if (family !== 4) return false;
  const low = v & 255n;
  return low === 0n || low === 255n;
}

/** Number of IPv4 values in [0, x] whose last byte is 0 or 255. */
function buggyUpTo(x: bigint): bigint {
  if (x < 0n) return 0n;
  const q = (x + 1n) / 256n;
  const r = (x + 1n) % 256n;
  return 2n * q + (r >= 1n ? 1n : 0n);
}

function familyState(family: Family, pool: Pool, avoid: boolean): FamilyState {
  const rs = pool.ranges
    .filter((r) => r.family === family)
    .map((r) => ({ first: r.first, last: r.last }))
    .sort((a, b) => cmpBig(a.first, b.first));
  const merged: Range[] = [];
  for (const r of rs) {
    const last = merged[merged.length - 1];
    if (last && r.first <= last.last + 1n) {
      if (r.last > last.last) last.last = r.last;
    } else merged.push({ ...r });
  }
  let size = 0n;
  let avoided = 0n;
  for (const r of merged) {
    size += r.last - r.first + 1n;
    if (avoid && family === 4) avoided += buggyUpTo(r.last) - buggyUpTo(r.first - 1n);
  }
  return { family, ranges: merged, used: new RunSet(), hint: 0n, shared: new Map(), size, avoided };
}

function inRanges(ranges: Range[], v: bigint): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid] as Range;
    if (v < r.first) hi = mid - 1;
    else if (v > r.last) lo = mid + 1;
    else return true;
  }
  return false;
}

function sortIPs(ips: IP[]): IP[] {
  if (ips.length < 2) return ips;
  return [...ips].sort((a, b) => a.family - b.family || cmpBig(a.value, b.value));
}

export function sameAssignment(a: Assignment | undefined, b: Assignment | undefined): boolean {
  if (!a || !b) return a === b;
  return a.pool === b.pool && a.ips.length === b.ips.length && a.ips.every((ip, i) => ip === b.ips[i]);
}

export interface AllocatorOptions {
  loadBalancerClass?: string;
  namespaces?: Namespace[];
}

export class Allocator {
  private config!: Config;
  private pools = new Map<string, PoolState>();
  private poolList: PoolState[] = [];
  /** autoAssign pools in trial order: serviceAllocation pools by priority/name, then the others by name. */
  private autoOrder: PoolState[] = [];
  private uses4 = new Map<bigint, IPUse>();
  private uses6 = new Map<bigint, IPUse>();
  private held = new Map<string, Held>();
  private readonly lbClass: string | undefined;
  private nsLabels = new Map<string, Record<string, string>>();

  constructor(config: Config, opts: AllocatorOptions = {}) {
    this.lbClass = opts.loadBalancerClass;
    this.setNamespaces(opts.namespaces ?? []);
    this.buildPools(config);
  }

  /** Replaces the known namespaces (for namespaceSelectors); existing assignments are not revisited. */
  setNamespaces(namespaces: Namespace[]): void {
    this.nsLabels.clear();
    for (const ns of namespaces) {
      this.nsLabels.set(ns.metadata.name, { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns.metadata.name });
    }
  }

  private buildPools(config: Config): void {
    this.config = config;
    this.pools.clear();
    this.poolList = [];
    for (const pool of config.pools) {
      if (this.pools.has(pool.name)) continue;
      const ps: PoolState = {
        pool,
        avoidBuggy: pool.avoidBuggyIPs,
        v4: familyState(4, pool, pool.avoidBuggyIPs),
        v6: familyState(6, pool, pool.avoidBuggyIPs),
      };
      this.pools.set(pool.name, ps);
      this.poolList.push(ps);
    }
    const byName = (a: PoolState, b: PoolState): number => (a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0);
    const withSA = this.poolList.filter((p) => p.pool.autoAssign && p.pool.serviceAllocation);
    const without = this.poolList.filter((p) => p.pool.autoAssign && !p.pool.serviceAllocation);
    withSA.sort((a, b) => {
      const pa = a.pool.serviceAllocation?.priority;
      const pb = b.pool.serviceAllocation?.priority;
      if (pa !== pb) {
        if (pa === undefined) return 1;
        if (pb === undefined) return -1;
        return pa - pb;
      }
      return byName(a, b);
    });
    without.sort(byName);
    this.autoOrder = [...withSA, ...without];
  }

  // -------------------------------------------------------------------------------------------
  // Lookups

  private fam(ps: PoolState, f: Family): FamilyState {
    return f === 4 ? ps.v4 : ps.v6;
  }

  private uses(f: Family): Map<bigint, IPUse> {
    return f === 4 ? this.uses4 : this.uses6;
  }

  private poolFor(ip: IP): PoolState | undefined {
    for (const ps of this.poolList) {
      if (inRanges(this.fam(ps, ip.family).ranges, ip.value)) return ps;
    }
    return undefined;
  }

  private serves(ps: PoolState, info: ServiceInfo): boolean {
    const sa = ps.pool.serviceAllocation;
    if (!sa) return true;
    const nsAny = sa.namespaces.length === 0 && sa.namespaceSelectors.length === 0;
    const nsOK =
      nsAny ||
      sa.namespaces.includes(info.namespace) ||
      (sa.namespaceSelectors.length > 0 &&
        anySelectorMatches(sa.namespaceSelectors, this.nsLabels.get(info.namespace) ?? { 'kubernetes.io/metadata.name': info.namespace }));
    if (!nsOK) return false;
    return anySelectorMatches(sa.serviceSelectors, info.labels);
  }

  /** Why `info` (as service `self`) cannot use `ip`, or undefined when it can. */
  private conflict(ip: IP, info: ServiceInfo): string | undefined {
    const use = this.uses(ip.family).get(ip.value);
    if (!use) return undefined;
    let other: string | undefined;
    for (const h of use.holders) {
      const k = h.info.key;
      if (k !== info.key && (other === undefined || k < other)) other = k;
    }
    if (other === undefined) return undefined;
    const t = formatIP(ip);
    if (!use.sharingKey && !info.sharingKey) return `IP ${t} is already in use by ${other}`;
    if (!use.sharingKey) return `IP ${t} is already in use by ${other}, which does not allow sharing (no metallb.io/allow-shared-ip)`;
    if (!info.sharingKey) {
      return `IP ${t} is already in use by ${other}; both services need the same metallb.io/allow-shared-ip key to share it`;
    }
    if (use.sharingKey !== info.sharingKey) {
      return `sharing key mismatch with ${other} on IP ${t} ("${info.sharingKey}" vs "${use.sharingKey}")`;
    }
    if (use.backendKey !== info.backendKey) {
      return `cannot share IP ${t} with ${other}: services sharing an IP need the same externalTrafficPolicy, and for Local the same selector`;
    }
    for (const p of info.ports) {
      for (const h of use.holders) {
        if (h.info.key !== info.key && h.info.ports.includes(p)) return `port ${p} is already used by ${h.info.key} on IP ${t}`;
      }
    }
    return undefined;
  }

  private lowestFree(fs: FamilyState, avoid: boolean): bigint | undefined {
    for (const r of fs.ranges) {
      if (r.last < fs.hint) continue;
      let v = r.first > fs.hint ? r.first : fs.hint;
      while (v <= r.last) {
        v = fs.used.nextAbsent(v);
        if (v > r.last) break;
        if (avoid && fs.family === 4) {
          const low = v & 255n;
          if (low === 0n) {
            v += 1n;
            continue;
          }
          if (low === 255n) {
            v += 2n;
            continue;
          }
        }
        fs.hint = v;
        return v;
      }
    }
    const lastRange = fs.ranges[fs.ranges.length - 1];
    if (lastRange) fs.hint = lastRange.last + 1n;
    return undefined;
  }

  private lowestShared(fs: FamilyState, info: ServiceInfo): bigint | undefined {
    if (!info.sharingKey) return undefined;
    const set = fs.shared.get(info.sharingKey);
    if (!set) return undefined;
    let best: bigint | undefined;
    for (const v of set) {
      if (best !== undefined && v >= best) continue;
      if (this.conflict({ family: fs.family, value: v }, info) === undefined) best = v;
    }
    return best;
  }

  private pick(ps: PoolState, f: Family, info: ServiceInfo, prior: IP[]): bigint | undefined {
    const fs = this.fam(ps, f);
    const p = prior.find((ip) => ip.family === f);
    if (p && inRanges(fs.ranges, p.value) && !(ps.avoidBuggy && isBuggy(f, p.value)) && this.conflict(p, info) === undefined) {
      return p.value;
    }
    const free = this.lowestFree(fs, ps.avoidBuggy);
    const shared = this.lowestShared(fs, info);
    if (free === undefined) return shared;
    if (shared === undefined) return free;
    return shared < free ? shared : free;
  }

  private fromPool(ps: PoolState, info: ServiceInfo, prior: IP[]): Placement {
    const name = ps.pool.name;
    const has = (f: Family): boolean => this.fam(ps, f).ranges.length > 0;
    let fams: Family[];
    const w = info.want;
    if (w.kind === 'required') {
      const missing = w.families.find((f) => !has(f));
      if (missing !== undefined) return { error: `pool ${name} has no IPv${missing} addresses` };
      fams = w.families;
    } else if (w.kind === 'prefer') {
      fams = w.families.filter(has);
      if (fams.length === 0) return { error: `pool ${name} has no IPv${w.families.join('/IPv')} addresses` };
    } else {
      fams = has(4) ? [4] : has(6) ? [6] : [];
      if (fams.length === 0) return { error: `pool ${name} has no addresses` };
    }
    const ips: IP[] = [];
    for (const f of fams) {
      const v = this.pick(ps, f, info, prior);
      if (v === undefined) {
        return { error: has(4) && has(6) ? `pool ${name} exhausted (no free IPv${f} address)` : `pool ${name} exhausted` };
      }
      ips.push({ family: f, value: v });
    }
    return { ips: sortIPs(ips), pool: ps };
  }

  private place(info: ServiceInfo, prior: IP[]): Placement {
    if (info.requested.length > 0) {
      let ps: PoolState | undefined;
      for (const ip of info.requested) {
        const p = this.poolFor(ip);
        if (!p) return { error: `requested IP ${formatIP(ip)} is not in any pool` };
        if (p.avoidBuggy && isBuggy(ip.family, ip.value)) {
          return { error: `requested IP ${formatIP(ip)} ends in .0 or .255, which pool ${p.pool.name} avoids (avoidBuggyIPs)` };
        }
        if (ps && ps !== p) {
          return { error: `requested IPs are in different pools (${ps.pool.name}, ${p.pool.name}); they must come from one pool` };
        }
        ps = p;
      }
      if (!ps) return { error: 'no IP requested' };
      if (info.pool !== undefined && info.pool !== ps.pool.name) {
        return { error: `requested IP ${formatIP(info.requested[0] as IP)} is in pool ${ps.pool.name}, not in the requested pool ${info.pool}` };
      }
      if (!this.serves(ps, info)) return { error: `pool ${ps.pool.name} does not serve this service (serviceAllocation namespaces/selectors)` };
      for (const ip of info.requested) {
        const c = this.conflict(ip, info);
        if (c) return { error: c };
      }
      return { ips: info.requested, pool: ps };
    }
    if (info.pool !== undefined) {
      const ps = this.pools.get(info.pool);
      if (!ps) return { error: `pool ${info.pool} does not exist` };
      if (!this.serves(ps, info)) return { error: `pool ${info.pool} does not serve this service (serviceAllocation namespaces/selectors)` };
      return this.fromPool(ps, info, prior);
    }
    if (this.poolList.length === 0) return { error: 'no IP address pools are configured' };
    const reasons: string[] = [];
    let tried = 0;
    const w = info.want;
    if (w.kind === 'prefer' && w.families.length === 2) {
      // MetalLB's choice: a pool with both families first, then the primary family's pools.
      const serving = this.autoOrder.filter((ps) => this.serves(ps, info));
      tried = serving.length;
      const groups = [serving.filter((ps) => ps.pool.serviceAllocation), serving.filter((ps) => !ps.pool.serviceAllocation)];
      const has = (ps: PoolState, f: Family): boolean => this.fam(ps, f).ranges.length > 0;
      for (const a of preferDualStackAttempts(groups, has, [w.families[0] as Family, w.families[1] as Family])) {
        const r = this.fromPool(a.pool, { ...info, want: { kind: 'required', families: a.families } }, prior);
        if (!('error' in r)) return r;
        if (!reasons.includes(r.error)) reasons.push(r.error);
      }
      if (tried > 0 && reasons.length === 0) reasons.push(`no pool has IPv${w.families.join(' or IPv')} addresses`);
    } else {
      for (const ps of this.autoOrder) {
        if (!this.serves(ps, info)) continue;
        tried++;
        const r = this.fromPool(ps, info, prior);
        if (!('error' in r)) return r;
        reasons.push(r.error);
      }
    }
    if (tried === 0) {
      const anyServes = this.poolList.some((ps) => this.serves(ps, info));
      return {
        error: anyServes
          ? 'no pool with autoAssign serves this service (request an IP or set metallb.io/address-pool)'
          : 'no pool serves this service (serviceAllocation namespaces/selectors)',
      };
    }
    return { error: reasons.length === 1 ? (reasons[0] as string) : `no address available: ${reasons.join('; ')}` };
  }

  /** Whether `ips` is still a valid assignment for `info`; the pool, or an error. */
  private check(ips: IP[], info: ServiceInfo): PoolState | string {
    if (ips.length === 0 || ips.length > 2) return 'invalid assignment';
    let ps: PoolState | undefined;
    for (const ip of ips) {
      const p = this.poolFor(ip);
      if (!p) return `IP ${formatIP(ip)} is no longer in any pool`;
      if (ps && p !== ps) return 'addresses in different pools';
      if (p.avoidBuggy && isBuggy(ip.family, ip.value)) return `IP ${formatIP(ip)} is avoided by pool ${p.pool.name}`;
      ps = p;
    }
    if (!ps) return 'invalid assignment';
    const fams = ips.map((i) => i.family);
    if (fams.length === 2 && fams[0] === fams[1]) return 'two addresses of one family';
    const w = info.want;
    if (w.kind === 'required') {
      if (fams.length !== w.families.length || !w.families.every((f) => fams.includes(f))) return 'address families changed';
    } else if (w.kind === 'prefer') {
      if (!fams.every((f) => w.families.includes(f))) return 'address families changed';
    } else if (fams.length !== 1) return 'address families changed';
    if (info.requested.length > 0) {
      if (info.requested.length !== ips.length || !info.requested.every((r) => ips.some((i) => i.family === r.family && i.value === r.value))) {
        return 'requested IPs changed';
      }
    }
    if (info.pool !== undefined && info.pool !== ps.pool.name) return 'requested pool changed';
    if (!this.serves(ps, info)) return `pool ${ps.pool.name} does not serve this service`;
    for (const ip of ips) {
      const c = this.conflict(ip, info);
      if (c) return c;
    }
    return ps;
  }

  private register(info: ServiceInfo, ips: IP[], ps: PoolState): void {
    const sorted = sortIPs(ips);
    const held: Held = { info, ips: sorted, texts: sorted.map(formatIP), pool: ps.pool.name };
    for (const ip of ips) {
      const m = this.uses(ip.family);
      let use = m.get(ip.value);
      if (!use) {
        use = { ip, pool: ps.pool.name, sharingKey: info.sharingKey, backendKey: info.backendKey, holders: [] };
        m.set(ip.value, use);
        const fs = this.fam(ps, ip.family);
        fs.used.add(ip.value);
        if (info.sharingKey) {
          let s = fs.shared.get(info.sharingKey);
          if (!s) fs.shared.set(info.sharingKey, (s = new Set()));
          s.add(ip.value);
        }
      }
      use.holders.push(held);
    }
    this.held.set(info.key, held);
  }

  private unregister(key: string): Held | undefined {
    const h = this.held.get(key);
    if (!h) return undefined;
    this.held.delete(key);
    for (const ip of h.ips) {
      const m = this.uses(ip.family);
      const use = m.get(ip.value);
      if (!use) continue;
      use.holders = use.holders.filter((x) => x !== h);
      if (use.holders.length > 0) continue;
      m.delete(ip.value);
      const ps = this.pools.get(use.pool);
      if (!ps) continue;
      const fs = this.fam(ps, ip.family);
      fs.used.delete(ip.value);
      if (ip.value < fs.hint) fs.hint = ip.value;
      if (use.sharingKey) {
        const s = fs.shared.get(use.sharingKey);
        s?.delete(ip.value);
        if (s && s.size === 0) fs.shared.delete(use.sharingKey);
      }
    }
    return h;
  }

  private toAssignment(h: Held): Assignment {
    return { ips: [...h.texts], pool: h.pool };
  }

  // -------------------------------------------------------------------------------------------
  // Public API

  /** Whether this allocator serves the service (type LoadBalancer, our class or none). */
  manages(svc: Service): boolean {
    return isManaged(svc, this.lbClass);
  }

  /**
   * Records an assignment a service held before (restart: state file or Service status).
   * Returns false (and records nothing) when it is no longer valid for the service and config.
   */
  restore(key: string, svc: Service, a: Assignment): boolean {
    this.unregister(key);
    if (!this.manages(svc)) return false;
    const info = analyzeService(svc, key);
    if ('error' in info) return false;
    const ips: IP[] = [];
    for (const t of a.ips) {
      const ip = tryParseIP(t);
      if (!ip) return false;
      ips.push(ip);
    }
    const r = this.check(ips, info);
    if (typeof r === 'string') return false;
    this.register(info, ips, r);
    return true;
  }

  /**
   * Decides the assignment of one service given everything currently held: keeps its current
   * assignment when still valid, otherwise releases it and allocates anew (preferring the
   * addresses in `prior`, e.g. a previous assignment that could not be restored).
   */
  assign(svc: Service, prior: string[] = [], knownKey?: string): ServiceResult {
    // `knownKey`: objectKey(svc.metadata), when the caller already computed it
    const key = knownKey ?? objectKey(svc.metadata);
    if (!this.manages(svc)) {
      const had = this.unregister(key) !== undefined;
      return { key, changed: had };
    }
    const info = analyzeService(svc, key);
    if ('error' in info) {
      const had = this.unregister(key) !== undefined;
      return { key, error: info.error, changed: had };
    }
    const cur = this.unregister(key);
    const priorIPs: IP[] = [];
    if (cur) {
      const r = this.check(cur.ips, info);
      if (typeof r !== 'string') {
        this.register(info, cur.ips, r);
        const h = this.held.get(key) as Held;
        return { key, assignment: this.toAssignment(h), changed: h.pool !== cur.pool };
      }
      priorIPs.push(...cur.ips);
    } else {
      for (const t of prior) {
        const ip = tryParseIP(t);
        if (ip) priorIPs.push(ip);
      }
    }
    const res = this.place(info, priorIPs);
    if ('error' in res) return { key, error: res.error, changed: cur !== undefined };
    this.register(info, res.ips, res.pool);
    const h = this.held.get(key) as Held;
    const a = this.toAssignment(h);
    return { key, assignment: a, changed: !cur || !sameAssignment(a, this.toAssignment(cur)) };
  }

  release(key: string): void {
    this.unregister(key);
  }

  get(key: string): Assignment | undefined {
    const h = this.held.get(key);
    return h ? this.toAssignment(h) : undefined;
  }

  snapshot(): Record<string, Assignment> {
    const out: Record<string, Assignment> = {};
    for (const key of [...this.held.keys()].sort()) out[key] = this.toAssignment(this.held.get(key) as Held);
    return out;
  }

  /**
   * Applies a new configuration. Every assignment still valid is kept (its pool name updated if
   * the address moved to another pool); the others are released. Returns the released keys,
   * sorted: the caller re-runs `assign` for those services.
   */
  setConfig(config: Config): string[] {
    const old = [...this.held.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.buildPools(config);
    this.uses4.clear();
    this.uses6.clear();
    this.held.clear();
    const released: string[] = [];
    const values = new Map<FamilyState, bigint[]>();
    for (const [key, h0] of old) {
      let ps: PoolState | undefined;
      let ok = true;
      for (const ip of h0.ips) {
        const p = this.poolFor(ip);
        if (!p || (ps && p !== ps) || (p.avoidBuggy && isBuggy(ip.family, ip.value))) {
          ok = false;
          break;
        }
        ps = p;
      }
      if (!ok || !ps || (h0.info.pool !== undefined && h0.info.pool !== ps.pool.name) || !this.serves(ps, h0.info)) {
        released.push(key);
        continue;
      }
      const h: Held = { info: h0.info, ips: h0.ips, texts: h0.texts, pool: ps.pool.name };
      // Same bookkeeping as register(), but the run sets are built in bulk below.
      for (const ip of h.ips) {
        const m = this.uses(ip.family);
        let use = m.get(ip.value);
        if (!use) {
          use = { ip, pool: ps.pool.name, sharingKey: h.info.sharingKey, backendKey: h.info.backendKey, holders: [] };
          m.set(ip.value, use);
          const fs = this.fam(ps, ip.family);
          let arr = values.get(fs);
          if (!arr) values.set(fs, (arr = []));
          arr.push(ip.value);
          if (use.sharingKey) {
            let s = fs.shared.get(use.sharingKey);
            if (!s) fs.shared.set(use.sharingKey, (s = new Set()));
            s.add(ip.value);
          }
        }
        use.holders.push(h);
      }
      this.held.set(key, h);
    }
    for (const [fs, arr] of values) {
      arr.sort(cmpBig);
      fs.used = RunSet.fromSorted(arr);
    }
    return released;
  }

  /** Current configuration. */
  getConfig(): Config {
    return this.config;
  }

  poolStats(pool: string): PoolStats {
    const ps = this.pools.get(pool);
    const stats = (fs: FamilyState | undefined): { assigned: number; available: bigint } => {
      if (!fs) return { assigned: 0, available: 0n };
      const assigned = fs.used.size;
      return { assigned, available: fs.size - fs.avoided - BigInt(assigned) };
    };
    return { v4: stats(ps?.v4), v6: stats(ps?.v6) };
  }

  /** Keys of the services holding `ip` (canonical text), sorted. */
  holders(ip: string): string[] {
    const p = tryParseIP(ip);
    if (!p) return [];
    const use = this.uses(p.family).get(p.value);
    return use ? use.holders.map((h) => h.info.key).sort() : [];
  }
}

// Received routes → the node's routing table: feeds the Loc-RIB from the sessions' Adj-RIB-In
// changes and applies the reconciler's operations with the netlink addon (protocol 186, our
// table, metric 20 like FRR's zebra for BGP). Shell: the decisions are in locrib.ts/kernel.ts.
//
// Lifecycle: start() lists our protocol's routes in the table and deletes them (stale routes
// of a previous run); changes are applied on the next tick (coalesced); removeSession() drops a
// session's routes (session down / deconfigured); stop() deletes everything we installed.
// Graceful restart of metallb-ts itself (RFC 4724 Forwarding State): stop({ keep: true }) leaves
// the routes in the kernel, and the next process's start({ keepUntil }) adopts them instead of
// deleting them: they keep forwarding, are replaced as the sessions re-learn them, and those
// not selected again by `keepUntil` (the restart time we announced) are deleted then.
//
// Next hops are resolved through the kernel's forwarding table first (nexthop.ts, as zebra):
// a next hop on a connected network is used as is, one behind a gateway (multi-hop peers) is
// installed via that gateway, an unresolvable one is not installed and listed in `failed` with
// the reason. Routes with a recursive or unresolved next hop are re-resolved every
// `recheckMs` (default 5 s), so they follow changes of the kernel's routes.

import type { Logger } from 'pino';
import type { NetlinkAddon, NetlinkRoute } from '../native/netlink.ts';
import { RTPROT_BGP, RT_TABLE_MAIN, isNetlinkError, tryLoadNetlinkAddon } from '../native/netlink.ts';
import type { KernelRoute } from './kernel.ts';
import { kernelKey, kernelRouteOf, reconcileKernel } from './kernel.ts';
import type { Candidate } from './locrib.ts';
import { LocRib } from './locrib.ts';
import type { RouteChange } from './ribin.ts';
import type { FibAnswer, NexthopResolution, ResolvedNexthop } from './nexthop.ts';
import { combineResolutions, resolveNexthop } from './nexthop.ts';

/** Metric (RTA_PRIORITY) of our routes: FRR's zebra uses 20 for BGP. */
export const KERNEL_ROUTE_METRIC = 20;

export interface KernelSyncOptions {
  netlink: NetlinkAddon;
  logger: Logger;
  /** Routing table id (default 254, main). */
  table?: number;
  /** Metric of our routes (default KERNEL_ROUTE_METRIC); stale cleanup only deletes this metric. */
  metric?: number;
  /** Coalescing scheduler (default setImmediate). */
  defer?: (fn: () => void) => void;
  /** Re-resolve recursive / unresolved next hops this often (default 5000; 0 = never). */
  recheckMs?: number;
}

export interface KernelSyncStatus {
  table: number;
  metric: number;
  installed: number;
  /** Prefixes that could not be installed, with the kernel's reason or why the next hop is unresolvable. */
  failed: { prefix: string; error: string }[];
  staleRemoved: number;
  /** Routes installed via a resolved next hop (their BGP next hop is not on a connected network). */
  recursive: number;
  /** Routes of the previous run kept over our own graceful restart, not re-learned yet. */
  adoptedFromPreviousRun: number;
}

export class KernelRouteSync {
  readonly table: number;
  readonly metric: number;
  private readonly rib = new LocRib();
  /** What is in the kernel (resolved next hops), by route key. */
  private readonly installed = new Map<string, KernelRoute>();
  /** Not installed: route key → prefix and reason. */
  private readonly failed = new Map<string, { prefix: string; error: string }>();
  /** Keys whose next hops are recursive or unresolved: re-resolved every recheckMs. */
  private readonly watch = new Set<string>();
  /** BGP next hops of routes installed via resolved ones (for /status). */
  private readonly resolvedFrom = new Map<string, string[]>();
  private recheckTimer: NodeJS.Timeout | undefined;
  private warnedNoLookup = false;
  private readonly sessions = new Map<string, Set<string>>();
  private pending = false;
  private stopped = false;
  private staleRemoved = 0;
  /** Routes adopted from a previous run (graceful restart) not selected again yet. */
  private readonly adopted = new Set<string>();
  private adoptTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: KernelSyncOptions) {
    this.table = opts.table ?? RT_TABLE_MAIN;
    this.metric = opts.metric ?? KERNEL_ROUTE_METRIC;
    this.log = opts.logger.child({ component: 'kernel-routes' });
  }

  /**
   * Deletes the stale routes of our protocol and metric in our table (left by a previous run
   * that crashed). Another BGP daemon installing proto-bgp routes at the same metric into the
   * same table would lose them here: give metallb-ts its own table or metric then.
   */
  start(opts: { keepUntil?: number; now?: number } = {}): void {
    const now = opts.now ?? Date.now();
    const keep = opts.keepUntil !== undefined && opts.keepUntil > now;
    for (const family of [4, 6] as const) {
      let list: NetlinkRoute[];
      try {
        list = this.opts.netlink.list(family, this.table);
      } catch (e) {
        this.log.error({ err: (e as Error).message, family }, 'cannot list kernel routes');
        continue;
      }
      for (const r of list) {
        if (r.metric !== this.metric) continue;
        if (keep) this.adopt(r);
        else if (this.remove(r)) this.staleRemoved++;
      }
    }
    if (this.staleRemoved > 0) this.log.info({ count: this.staleRemoved, table: this.table }, 'removed stale BGP routes left by a previous run');
    if (keep && opts.keepUntil !== undefined) {
      this.log.info({ count: this.adopted.size, table: this.table, until: new Date(opts.keepUntil).toISOString() }, 'graceful restart: kept the received routes of the previous run in the kernel until the sessions re-learn them');
      this.adoptTimer = setTimeout(() => this.dropAdopted(), opts.keepUntil - now);
      this.adoptTimer.unref();
    }
    const every = this.opts.recheckMs ?? 5000;
    if (every > 0) {
      this.recheckTimer = setInterval(() => this.recheck(), every);
      this.recheckTimer.unref();
    }
  }

  /** Applies one session's Adj-RIB-In changes (ebgp/interface describe the session). */
  update(session: string, changes: readonly RouteChange[], ctx: { ebgp: boolean; viaInterface?: string }): void {
    if (this.stopped || changes.length === 0) return;
    let keys = this.sessions.get(session);
    if (!keys) this.sessions.set(session, (keys = new Set()));
    for (const c of changes) {
      let cand: Candidate | undefined;
      if (c.path) {
        cand = { ...c.path, ebgp: ctx.ebgp };
        if (ctx.viaInterface !== undefined) cand.viaInterface = ctx.viaInterface;
        keys.add(c.key);
      } else keys.delete(c.key);
      this.rib.set(session, c.key, cand);
    }
    this.schedule();
  }

  /** Drops every route of a session. */
  removeSession(session: string): void {
    const keys = this.sessions.get(session);
    if (!keys) return;
    this.sessions.delete(session);
    for (const k of keys) this.rib.set(session, k, undefined);
    this.schedule();
  }

  /**
   * Deletes every route we installed, or with `keep` (graceful restart of metallb-ts: the
   * Forwarding State we announced) leaves them for the next process to adopt. Further updates
   * are ignored.
   */
  stop(opts: { keep?: boolean } = {}): void {
    this.stopped = true;
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    if (this.adoptTimer) clearTimeout(this.adoptTimer);
    if (opts.keep) {
      if (this.installed.size > 0) this.log.info({ count: this.installed.size, table: this.table }, 'graceful restart: received routes left in the kernel for the next run');
    } else {
      for (const r of [...this.installed.values()]) this.remove({ ...this.netlinkRoute(r) });
    }
    this.installed.clear();
  }

  /**
   * Ignores further changes (the sessions are about to close because we stop), keeping the
   * kernel as it is until stop() decides: deleted, or kept for a graceful restart.
   */
  freeze(): void {
    this.stopped = true;
  }

  /** Deletes the adopted routes no session selected again (the restart time is over). */
  private dropAdopted(): void {
    if (this.stopped) return;
    const keys = [...this.adopted];
    this.adopted.clear();
    const n = keys.filter((k) => this.installed.has(k)).length;
    this.apply(keys);
    if (n > 0) this.log.info({ count: n }, 'graceful restart over: received routes of the previous run that no session re-learned are removed');
  }

  status(): KernelSyncStatus {
    return {
      table: this.table,
      metric: this.metric,
      installed: this.installed.size,
      failed: [...this.failed.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : 1)),
      staleRemoved: this.staleRemoved,
      recursive: this.resolvedFrom.size,
      adoptedFromPreviousRun: this.adopted.size,
    };
  }

  /**
   * Installed routes in `ip route` form (prefix → next hops in the kernel), for /status and
   * tests; `bgpNexthops` when they were resolved from other (not connected) BGP next hops. At
   * most `max` of them (a /status with a list limit).
   */
  routes(max = Infinity): { prefix: string; nexthops: string[]; bgpNexthops?: string[] }[] {
    const out: { prefix: string; nexthops: string[]; bgpNexthops?: string[] }[] = [];
    for (const [key, r] of this.installed) {
      if (out.length >= max) break;
      const from = this.resolvedFrom.get(key);
      out.push({ prefix: `${r.dst}/${r.prefixLen}`, nexthops: r.nexthops.map((h) => h.gateway), ...(from ? { bgpNexthops: from } : {}) });
    }
    return out;
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    (this.opts.defer ?? setImmediate)(() => {
      this.pending = false;
      this.flush();
    });
  }

  /** Applies the selection of every dirty prefix now. */
  flush(): void {
    if (this.stopped) return;
    this.apply(this.rib.takeDirty());
  }

  /** Re-resolves the routes with recursive or unresolved next hops (the kernel's routes may have changed). */
  private recheck(): void {
    if (this.stopped || this.watch.size === 0) return;
    this.apply([...this.watch]);
  }

  private apply(keys: Iterable<string>): void {
    const list = [...keys];
    const cache = new Map<string, NexthopResolution>();
    const want = new Map<string, KernelRoute>();
    for (const key of list) {
      const sel = this.rib.selected(key);
      this.adopted.delete(key); // selected again (kept, or replaced below) or withdrawn (deleted below)
      if (!sel) {
        this.failed.delete(key);
        this.watch.delete(key);
        this.resolvedFrom.delete(key);
        continue;
      }
      const route = kernelRouteOf(sel);
      const name = `${route.dst}/${route.prefixLen}`;
      const res = this.resolve(route, cache);
      if (res.watch) this.watch.add(key);
      else this.watch.delete(key);
      if ('error' in res) {
        if (this.failed.get(key)?.error !== res.error) this.log.warn({ prefix: name, nexthops: route.nexthops.map((h) => h.gateway), err: res.error }, 'received route not installed');
        this.failed.set(key, { prefix: name, error: res.error });
        this.resolvedFrom.delete(key);
        continue;
      }
      this.failed.delete(key);
      if (res.recursive) this.resolvedFrom.set(key, route.nexthops.map((h) => h.gateway));
      else this.resolvedFrom.delete(key);
      want.set(key, { ...route, nexthops: res.nexthops.map((h) => ({ gateway: h.gateway, ifindex: h.ifindex })) });
    }
    for (const op of reconcileKernel(this.installed, list, (k) => want.get(k))) {
      const name = `${op.route.dst}/${op.route.prefixLen}`;
      if (op.kind === 'delete') {
        this.remove(this.netlinkRoute(op.route));
        this.installed.delete(op.key);
        continue;
      }
      try {
        this.opts.netlink.add(this.netlinkRoute(op.route), op.kind === 'replace');
        this.installed.set(op.key, op.route);
      } catch (e) {
        const msg = this.explain(e, op.route);
        this.failed.set(op.key, { prefix: name, error: msg });
        // a failed replace leaves the previous route in the kernel: still ours, still tracked
        if (op.kind === 'add') this.installed.delete(op.key);
        this.log.warn({ prefix: name, nexthops: op.route.nexthops.map((h) => h.gateway), err: msg }, 'cannot install received route');
      }
    }
  }

  /** The next hops a route goes into the kernel with (resolved as zebra does), or why none. */
  private resolve(route: KernelRoute, cache: Map<string, NexthopResolution>): (({ nexthops: ResolvedNexthop[]; recursive: boolean }) | { error: string }) & { watch: boolean } {
    const each = route.nexthops.map((h): NexthopResolution => {
      // IPv6 link-local next hop of the session's interface: on-link by definition
      if (h.viaInterface !== undefined) return { nexthops: [{ gateway: h.gateway, ifindex: this.opts.netlink.ifindex(h.viaInterface) }], recursive: false };
      let r = cache.get(h.gateway);
      if (!r) {
        r = resolveNexthop(h.gateway, this.lookup(route.family, h.gateway), RTPROT_BGP);
        cache.set(h.gateway, r);
      }
      return r;
    });
    const watch = each.some((r) => 'error' in r || r.recursive);
    return { ...combineResolutions(each), watch };
  }

  private lookup(family: 4 | 6, address: string): FibAnswer {
    // an addon built before lookup existed (a stale build/): install as before, without resolution
    if (typeof (this.opts.netlink as Partial<NetlinkAddon>).lookup !== 'function') {
      if (!this.warnedNoLookup) this.log.warn('the metallb_netlink addon has no route lookup (stale build): next hops are not resolved; run `npm run build:native`');
      this.warnedNoLookup = true;
      return { prefixLen: 32, protocol: 0, type: 1, oif: 0, nexthops: [] };
    }
    try {
      const r = this.opts.netlink.lookup(family, address);
      return { prefixLen: r.prefixLen, protocol: r.protocol, type: r.type, oif: r.oif, nexthops: r.nexthops };
    } catch (e) {
      return { error: isNetlinkError(e) ? e.code : (e as Error).message };
    }
  }

  private explain(e: unknown, r: KernelRoute): string {
    if (!isNetlinkError(e)) return (e as Error).message;
    if (e.code === 'EEXIST') return `a route of another protocol holds ${r.dst}/${r.prefixLen} metric ${this.metric} in table ${this.table}: left alone`;
    if (e.code === 'ENETUNREACH' || e.code === 'EHOSTUNREACH') return `next hop ${r.nexthops.map((h) => h.gateway).join(', ')} is not directly reachable (${e.message})`;
    return e.message;
  }

  /** Takes over a route of a previous run (graceful restart): tracked as installed, unselected. */
  private adopt(r: NetlinkRoute): void {
    const route: KernelRoute = { family: r.family, dst: r.dst, prefixLen: r.prefixLen, nexthops: r.nexthops.map((h) => ({ gateway: h.gateway, ifindex: h.ifindex })) };
    const key = kernelKey(route);
    this.installed.set(key, route);
    this.adopted.add(key);
  }

  private netlinkRoute(r: KernelRoute): NetlinkRoute {
    return {
      family: r.family,
      dst: r.dst,
      prefixLen: r.prefixLen,
      table: this.table,
      metric: this.metric,
      nexthops: r.nexthops.map((h) => ({ gateway: h.gateway, ifindex: h.ifindex ?? (h.viaInterface === undefined ? 0 : this.opts.netlink.ifindex(h.viaInterface)) })),
    };
  }

  /** Deletes one route of ours; true when it existed. */
  private remove(r: NetlinkRoute): boolean {
    try {
      this.opts.netlink.remove(r);
      return true;
    } catch (e) {
      if (isNetlinkError(e) && e.code === 'ESRCH') return false;
      this.log.warn({ prefix: `${r.dst}/${r.prefixLen}`, err: (e as Error).message }, 'cannot delete kernel route');
      return false;
    }
  }
}

/**
 * Received routes → this machine's routing table (peers with a receive policy only). Stale
 * routes of a previous run are deleted at once. Undefined when the netlink addon is missing.
 */
export function kernelRouteSync(logger: Logger, table?: number, start: { keepUntil?: number } = {}): KernelRouteSync | undefined {
  const netlink = tryLoadNetlinkAddon();
  if (netlink instanceof Error) {
    logger.warn({ err: netlink.message }, 'received routes cannot be installed into the kernel');
    return undefined;
  }
  const sync = new KernelRouteSync({ netlink, logger, ...(table !== undefined ? { table } : {}) });
  sync.start(start);
  return sync;
}

// Kernel route reconciler: the selected routes (Loc-RIB) → rtnetlink operations, given what
// is installed. Pure. The shell (sync.ts) performs the operations with the netlink addon.
//
// A prefix we have not installed is added exclusively (`add`; the kernel refuses when a route
// of another protocol holds the same destination and metric, and we leave that one alone);
// a prefix we installed is `replace`d when its next hops change and `delete`d when it has no
// selection any more. At start the installed set is what the kernel lists with protocol 186
// in our table: nothing is selected yet, so stale routes left by a crash are deleted.

import { formatIP, parseIP } from '../ip/index.ts';
import { routeKey } from './ribin.ts';
import type { Family } from '../ip/index.ts';
import type { Selection } from './locrib.ts';

export interface KernelNexthop {
  gateway: string;
  /** Interface name for link-local gateways; undefined = the kernel resolves it. */
  viaInterface?: string;
  /** Output interface index of a resolved next hop (src/routes/nexthop.ts); 0/undefined = the kernel finds it. */
  ifindex?: number;
}

export interface KernelRoute {
  family: Family;
  dst: string;
  prefixLen: number;
  nexthops: KernelNexthop[];
}

export type KernelOp = { kind: 'add' | 'replace'; key: string; route: KernelRoute } | { kind: 'delete'; key: string; route: KernelRoute };

export function kernelRouteOf(s: Selection): KernelRoute {
  return {
    family: s.prefix.family,
    dst: formatIP({ family: s.prefix.family, value: s.prefix.network }),
    prefixLen: s.prefix.length,
    nexthops: s.nexthops.map((h) => (h.viaInterface === undefined ? { gateway: formatIP(h.gateway) } : { gateway: formatIP(h.gateway), viaInterface: h.viaInterface })),
  };
}

/** Key of a kernel route's destination (the Loc-RIB's routeKey). */
export function kernelKey(r: { family: number; dst: string; prefixLen: number }): string {
  return routeKey(r.family, parseIP(r.dst).value, r.prefixLen);
}

function sameNexthops(a: KernelNexthop[], b: KernelNexthop[]): boolean {
  if (a.length !== b.length) return false;
  const k = (h: KernelNexthop): string => `${h.gateway}%${h.viaInterface ?? ''}%${h.ifindex ?? 0}`;
  const sa = a.map(k).sort();
  const sb = b.map(k).sort();
  return sa.every((x, i) => x === sb[i]);
}

/** Operations that move `installed` to `want` for the given keys (want(key) undefined = absent). */
export function reconcileKernel(
  installed: ReadonlyMap<string, KernelRoute>,
  keys: Iterable<string>,
  want: (key: string) => KernelRoute | undefined,
): KernelOp[] {
  const ops: KernelOp[] = [];
  for (const key of keys) {
    const cur = installed.get(key);
    const next = want(key);
    if (!next) {
      if (cur) ops.push({ kind: 'delete', key, route: cur });
    } else if (!cur) {
      ops.push({ kind: 'add', key, route: next });
    } else if (!sameNexthops(cur.nexthops, next.nexthops)) {
      ops.push({ kind: 'replace', key, route: next });
    }
  }
  return ops;
}

// Next-hop resolution for received routes, as FRR's zebra does it: a BGP next hop that is not
// on a connected network (a multi-hop peer announces its loopback, or a third party's address)
// is resolved through the kernel's own forwarding table — the route the kernel would use to
// reach the next hop — and the received route is installed via THAT route's gateway(s)
// (recursive resolution). Pure: the shell (sync.ts) passes what the kernel answered
// (`ip route get NEXTHOP fibmatch`, the netlink addon's `lookup`).
//
// Rules:
//   connected route (no gateway)     → installed via the next hop itself, on that interface
//   route with gateway(s)            → installed via those gateways (ECMP when several)
//   no route (ENETUNREACH), or a     → not installed: "next hop X is unreachable: ..." (the
//   blackhole/unreachable/prohibit     kernel answers those with EINVAL/EHOSTUNREACH/EACCES)
//   route
//   only the default route (/0)      → not installed (FRR resolves next hops via the default
//                                      route only with `ip nht resolve-via-default`)
//   a route we installed (proto 186) → not installed (no recursion over received routes: a
//                                      route resolving through another received route could
//                                      loop or outlive the route it depends on)

/** What the kernel answered for one address (the matching FIB entry), or the errno name. */
export type FibAnswer =
  | {
      prefixLen: number;
      /** rtm_protocol of the matching route. */
      protocol: number;
      /** rtm_type (1 = unicast). */
      type: number;
      /** Output interface of a connected route. */
      oif: number;
      nexthops: { gateway: string; ifindex: number }[];
    }
  | { error: string };

export interface ResolvedNexthop {
  gateway: string;
  /** Output interface index (0 = the kernel finds it). */
  ifindex: number;
}

export type NexthopResolution = { nexthops: ResolvedNexthop[]; recursive: boolean } | { error: string };

const RTN_UNICAST = 1;
/** What the kernel's route lookup errors mean (the route that covers the address, if any). */
const LOOKUP_ERRORS: Record<string, string> = {
  ENETUNREACH: 'no route to it in the kernel',
  EINVAL: 'a blackhole route covers it',
  EHOSTUNREACH: 'an unreachable route covers it',
  EACCES: 'a prohibit route covers it',
};
const RT_TYPE_NAMES: Record<number, string> = { 2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole', 7: 'unreachable', 8: 'prohibit', 9: 'throw', 10: 'nat' };

/** How one BGP next hop is reached, from the kernel's answer for it. */
export function resolveNexthop(gateway: string, fib: FibAnswer, ownProtocol: number): NexthopResolution {
  if ('error' in fib) return { error: `next hop ${gateway} is unreachable: ${LOOKUP_ERRORS[fib.error] ?? 'the kernel has no usable route to it'} (${fib.error})` };
  if (fib.type !== RTN_UNICAST) return { error: `next hop ${gateway} resolves to a ${RT_TYPE_NAMES[fib.type] ?? `type ${fib.type}`} route` };
  if (fib.prefixLen === 0) {
    return { error: `next hop ${gateway} is only reachable through the default route, which is not used to resolve next hops (as FRR without "ip nht resolve-via-default")` };
  }
  if (fib.protocol === ownProtocol) {
    return { error: `next hop ${gateway} is only reachable through a route learned over BGP (next hops are not resolved through received routes)` };
  }
  if (fib.nexthops.length === 0) return { nexthops: [{ gateway, ifindex: fib.oif }], recursive: false };
  return { nexthops: fib.nexthops.map((h) => ({ gateway: h.gateway, ifindex: h.ifindex })), recursive: true };
}

/**
 * The next hops a route is installed with, from the resolution of each of its BGP next hops:
 * the union of the resolvable ones (deduplicated, in order); an error naming every next hop
 * when none resolves.
 */
export function combineResolutions(resolutions: readonly NexthopResolution[]): { nexthops: ResolvedNexthop[]; recursive: boolean } | { error: string } {
  const out: ResolvedNexthop[] = [];
  const seen = new Set<string>();
  const errors: string[] = [];
  let recursive = false;
  for (const r of resolutions) {
    if ('error' in r) {
      errors.push(r.error);
      continue;
    }
    recursive ||= r.recursive;
    for (const h of r.nexthops) {
      const k = `${h.gateway}%${h.ifindex}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(h);
    }
  }
  if (out.length === 0) return { error: errors.join('; ') || 'no next hop' };
  return { nexthops: out, recursive };
}

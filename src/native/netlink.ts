// Loader for the metallb_netlink native addon (native/netlink.cc): routes with protocol 186
// ("bgp") in the node's routing table over rtnetlink. Linux only; needs CAP_NET_ADMIN to write.
// The addon only ever writes or deletes routes of protocol 186 and lists only those.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** rtnetlink protocol number of our routes (`proto bgp` in `ip route`). */
export const RTPROT_BGP = 186;
/** The main routing table. */
export const RT_TABLE_MAIN = 254;

export interface NetlinkNexthop {
  gateway: string;
  /** 0 = let the kernel find the interface (the gateway must be directly reachable). */
  ifindex: number;
}

export interface NetlinkRoute {
  family: 4 | 6;
  /** Network address (host bits zero). */
  dst: string;
  prefixLen: number;
  table: number;
  /** RTA_PRIORITY (the `metric` of `ip route`). */
  metric: number;
  /** One next hop = plain route; several = RTA_MULTIPATH (ECMP). */
  nexthops: NetlinkNexthop[];
}

export interface NetlinkAddon {
  /** RTM_NEWROUTE; replace=false fails with code EEXIST when the slot is taken. */
  add(route: NetlinkRoute, replace: boolean): void;
  /** RTM_DELROUTE of our protocol; code ESRCH when there is no such route. */
  remove(route: Omit<NetlinkRoute, 'nexthops'>): void;
  /** Routes of protocol 186 in that table. */
  list(family: 4 | 6, table: number): NetlinkRoute[];
  ifindex(name: string): number;
  /**
   * The route the kernel forwards `address` with (`ip route get ADDRESS fibmatch`: policy
   * routing applied, any protocol); throws with code ENETUNREACH etc. when there is none.
   */
  lookup(family: 4 | 6, address: string): NetlinkRoute & { protocol: number; type: number; oif: number };
}

/** errno-carrying error thrown by the addon. */
export interface NetlinkError extends Error {
  code: string;
  errno: number;
}

export function isNetlinkError(e: unknown): e is NetlinkError {
  return e instanceof Error && typeof (e as Partial<NetlinkError>).code === 'string' && typeof (e as Partial<NetlinkError>).errno === 'number';
}

export class NetlinkAddonError extends Error {
  readonly code = 'ERR_NATIVE_NETLINK_MISSING';
  constructor(message: string) {
    super(message);
    this.name = 'NetlinkAddonError';
  }
}

let cached: NetlinkAddon | NetlinkAddonError | undefined;

/** The addon, or an error that says how to build it. Never throws. */
export function tryLoadNetlinkAddon(): NetlinkAddon | NetlinkAddonError {
  if (cached) return cached;
  if (process.platform !== 'linux') return (cached = new NetlinkAddonError(`kernel routes need Linux (this is ${process.platform})`));
  const here = dirname(fileURLToPath(import.meta.url));
  const paths: string[] = [];
  for (let dir = here, i = 0; i < 5; i++, dir = dirname(dir)) paths.push(join(dir, 'build', 'Release', 'metallb_netlink.node'));
  const found = paths.find((p) => existsSync(p));
  if (!found) {
    return (cached = new NetlinkAddonError('native addon build/Release/metallb_netlink.node not found: run `npm run build:native` (needs python3, make, g++)'));
  }
  try {
    cached = createRequire(import.meta.url)(found) as NetlinkAddon;
  } catch (e) {
    cached = new NetlinkAddonError(`cannot load ${found}: ${(e as Error).message}`);
  }
  return cached;
}

// Adj-RIB-In of one BGP session: the routes a neighbor announced that its receive policy
// accepts, after RFC 7606 validation by the codec. Pure: UPDATE in, changes out.
//
// The policy (mode all|filtered, prefix ranges, prefixLimit) is the config model's
// EffectiveReceive for this node (src/config/receive.ts, from FRRConfiguration toReceive).
// Counted per session: `received` = distinct prefixes the neighbor currently announces (before
// the policy), `accepted` = those the policy imports (the Adj-RIB-In). When `accepted` would
// exceed the policy's prefixLimit the caller closes the session with Cease / Maximum Number of
// Prefixes Reached (RFC 4486 subcode 1): `apply` reports it and keeps nothing.
// Received paths whose AS_PATH contains our own AS are rejected (RFC 4271 §9.1.2 loop check).

import type { Family, IP, Prefix } from '../ip/index.ts';
import type { NLRI, PathAttributes, UpdateMessage } from '../bgp/codec/messages.ts';
import type { EffectiveReceive } from '../config/receive.ts';
import { policyAccepts } from '../config/receive.ts';

export const DEFAULT_LOCAL_PREF = 100;

/** What best-path selection and the kernel need from one received path. */
export interface ReceivedPath {
  prefix: Prefix;
  /** Global next hop (IPv4 NEXT_HOP or the first MP_REACH next hop). */
  nextHop: IP;
  /** IPv6 link-local next hop, when the neighbor sent one. */
  linkLocal?: IP;
  localPref: number;
  /** RFC 4271 §9.1.2.2 a: AS_SET counts 1, confederation segments 0. */
  asPathLength: number;
  /** First AS of the path (the neighboring AS); undefined for an empty path (iBGP). */
  neighborAS?: number;
  origin: number;
  med: number;
}

export interface RouteChange {
  key: string;
  /** undefined = the prefix left the Adj-RIB-In. */
  path: ReceivedPath | undefined;
}

export interface RibInContext {
  ebgp: boolean;
  localASN: number;
}

export interface ApplyResult {
  changes: RouteChange[];
  /** The policy's prefixLimit was exceeded: close the session (Cease 6/1). */
  overLimit?: { accepted: number; max: number; family: Family };
}

/** Map key of a prefix. */
export function routeKey(family: number, network: bigint, length: number): string {
  return `${family}:${network.toString(16)}/${length}`;
}

function asPathInfo(a: PathAttributes): { length: number; first?: number; loops: (asn: number) => boolean } {
  let length = 0;
  let first: number | undefined;
  const all = new Set<number>();
  for (const s of a.asPath ?? []) {
    for (const asn of s.asns) all.add(asn);
    if (s.type === 2) length += s.asns.length;
    else if (s.type === 1) length += 1;
    if (first === undefined && (s.type === 1 || s.type === 2) && s.asns.length > 0) first = s.asns[0];
  }
  return { length, ...(first === undefined ? {} : { first }), loops: (asn) => all.has(asn) };
}

function isLinkLocal(ip: { family: number; value: bigint }): boolean {
  return ip.family === 6 && ip.value >> 118n === 0x3fan;
}

export class AdjRibIn {
  private readonly rib = new Map<string, ReceivedPath>();
  private readonly seen = new Set<string>();

  constructor(
    readonly policy: EffectiveReceive,
    private readonly ctx: RibInContext,
  ) {}

  get received(): number {
    return this.seen.size;
  }
  get accepted(): number {
    return this.rib.size;
  }
  paths(): IterableIterator<[string, ReceivedPath]> {
    return this.rib.entries();
  }

  /** Applies one UPDATE. `treatAsWithdraw`: RFC 7606 said every NLRI in it is withdrawn. */
  apply(m: UpdateMessage, treatAsWithdraw = false): ApplyResult {
    const changes: RouteChange[] = [];
    const withdraw = (n: NLRI): void => {
      const k = routeKey(n.family, n.network, n.length);
      this.seen.delete(k);
      if (this.rib.delete(k)) changes.push({ key: k, path: undefined });
    };
    for (const n of m.withdrawn) withdraw(n);
    const mpUn = m.attributes.mpUnreach;
    if (mpUn && mpUn.safi === 1) for (const n of mpUn.withdrawn) withdraw(n);
    const a = m.attributes;
    const mp = a.mpReach && a.mpReach.safi === 1 ? a.mpReach : undefined;
    if (treatAsWithdraw) {
      for (const n of m.nlri) withdraw(n);
      for (const n of mp?.nlri ?? []) withdraw(n);
      return { changes };
    }
    const path = asPathInfo(a);
    const loop = this.ctx.ebgp && path.loops(this.ctx.localASN);
    const announce = (n: NLRI, nextHop: IP | undefined, linkLocal: IP | undefined): void => {
      const k = routeKey(n.family, n.network, n.length);
      this.seen.add(k);
      if (loop || nextHop === undefined || !policyAccepts(this.policy, n)) {
        if (this.rib.delete(k)) changes.push({ key: k, path: undefined });
        return;
      }
      const p: ReceivedPath = {
        prefix: { family: n.family, network: n.network, length: n.length },
        nextHop,
        localPref: this.ctx.ebgp ? DEFAULT_LOCAL_PREF : (a.localPref ?? DEFAULT_LOCAL_PREF),
        asPathLength: path.length,
        origin: a.origin ?? 2,
        med: a.med ?? 0,
      };
      if (linkLocal) p.linkLocal = linkLocal;
      if (path.first !== undefined) p.neighborAS = path.first;
      this.rib.set(k, p);
      changes.push({ key: k, path: p });
    };
    const v4nh: IP | undefined = a.nextHop ? { family: 4, value: a.nextHop.value } : undefined;
    for (const n of m.nlri) announce(n, v4nh, undefined);
    if (mp) {
      const hops = mp.nextHops.map((h): IP => ({ family: h.family, value: h.value }));
      const global = hops.find((h) => !isLinkLocal(h));
      const ll = hops.find((h) => isLinkLocal(h));
      for (const n of mp.nlri) announce(n, global ?? ll, ll);
    }
    const max = this.policy.prefixLimit;
    if (this.rib.size > max) {
      const accepted = this.rib.size;
      const family = changes.at(-1)?.path?.prefix.family ?? 4;
      // Applied in order, the additions above and the removals below leave nothing behind.
      return { changes: [...changes, ...this.clear()], overLimit: { accepted, max, family } };
    }
    return { changes };
  }

  /** Forgets everything (session down): the removals. */
  clear(): RouteChange[] {
    const out: RouteChange[] = [];
    for (const k of this.rib.keys()) out.push({ key: k, path: undefined });
    this.rib.clear();
    this.seen.clear();
    return out;
  }
}

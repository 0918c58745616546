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
//
// Graceful restart, receiving side (RFC 4724 §4.2): when a peer that negotiated graceful
// restart goes away, its routes of the families it kept forwarding state for are kept, marked
// stale, until a deadline (its restart time; after it reconnected with graceful restart, the
// stale-path time). A route the peer announces again is fresh; End-of-RIB for a family removes
// that family's routes still stale; a deadline reached removes them too. Times are the caller's
// clock (ms): this class never reads a clock.

import type { Family, IP, Prefix } from '../ip/index.ts';
import { isLinkLocal } from '../ip/index.ts';
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

/** FRR's default `bgp graceful-restart stalepath-time`: how long stale routes wait for End-of-RIB after the peer is back. */
export const STALE_PATH_TIME_MS = 360_000;

export class AdjRibIn {
  private readonly rib = new Map<string, ReceivedPath>();
  private readonly seen = new Set<string>();
  /** Keys of routes kept from before the peer's restart and not announced again yet. */
  private readonly stale = new Set<string>();
  /** Per family with stale routes: until when (caller's clock, ms) they are kept. */
  private readonly staleUntil = new Map<Family, number>();

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
  /** Routes kept as stale (graceful restart of the peer). */
  get staleCount(): number {
    return this.stale.size;
  }
  /** The earliest deadline of the stale routes, if any. */
  nextStaleDeadline(): number | undefined {
    let min: number | undefined;
    for (const t of this.staleUntil.values()) if (min === undefined || t < min) min = t;
    return min;
  }

  /**
   * The peer went away with graceful restart: routes of `families` are kept, stale, until
   * `until`; every other route is removed (returned). Prefixes the policy refused are forgotten.
   */
  markStale(families: readonly Family[], until: number): RouteChange[] {
    const out: RouteChange[] = [];
    this.seen.clear();
    for (const [k, p] of this.rib) {
      if (families.includes(p.prefix.family)) {
        this.stale.add(k);
        this.seen.add(k);
        this.staleUntil.set(p.prefix.family, until);
      } else {
        this.rib.delete(k);
        this.stale.delete(k);
        out.push({ key: k, path: undefined });
      }
    }
    for (const f of [...this.staleUntil.keys()]) if (!families.includes(f)) this.staleUntil.delete(f);
    return out;
  }

  /**
   * The peer is back. Stale routes of `keep` families wait for its End-of-RIB until `until`;
   * the stale routes of every other family are removed now (it came back without graceful
   * restart, or without the Forwarding State bit for them).
   */
  peerReturned(keep: readonly Family[], until: number): RouteChange[] {
    for (const f of this.staleUntil.keys()) this.staleUntil.set(f, until);
    return this.dropStale((f) => !keep.includes(f));
  }

  /** End-of-RIB for `family`: its routes still stale are removed. */
  endOfRib(family: Family): RouteChange[] {
    return this.dropStale((f) => f === family);
  }

  /** Removes the stale routes whose deadline is at or before `now`. */
  expire(now: number): RouteChange[] {
    return this.dropStale((f) => (this.staleUntil.get(f) ?? Infinity) <= now);
  }

  private dropStale(which: (f: Family) => boolean): RouteChange[] {
    const out: RouteChange[] = [];
    for (const k of this.stale) {
      const p = this.rib.get(k);
      if (p && !which(p.prefix.family)) continue;
      this.stale.delete(k);
      this.seen.delete(k);
      if (this.rib.delete(k)) out.push({ key: k, path: undefined });
    }
    for (const f of [...this.staleUntil.keys()]) if (which(f)) this.staleUntil.delete(f);
    return out;
  }

  /** Applies one UPDATE. `treatAsWithdraw`: RFC 7606 said every NLRI in it is withdrawn. */
  apply(m: UpdateMessage, treatAsWithdraw = false): ApplyResult {
    const changes: RouteChange[] = [];
    const withdraw = (n: NLRI): void => {
      const k = routeKey(n.family, n.network, n.length);
      this.seen.delete(k);
      this.stale.delete(k);
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
      this.stale.delete(k);
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
    this.stale.clear();
    this.staleUntil.clear();
    return out;
  }
}

// Adj-RIB-Out computation for one session: planned routes -> exact prefixes and path attributes
// on the wire, and the difference between two tables. Pure.
//
// Attributes (MetalLB's behaviour): ORIGIN INCOMPLETE; AS_PATH empty on iBGP, [local AS] on eBGP;
// NEXT_HOP (IPv4) or MP_REACH_NLRI next hop (IPv6) = the route's nextHop, else the session's
// local address of the route's family, else the node's address of that family (dual-stack); on an
// unnumbered session the interface's IPv6 next hops for both families (IPv4 in MP_REACH_NLRI,
// RFC 8950); LOCAL_PREF on iBGP only = the advertisement's localPref,
// else 0 (MetalLB: "localpref set to zero" by default); COMMUNITIES; LARGE_COMMUNITIES; for a
// route with a `weight` (weighted ECMP), the link-bandwidth extended community of the local AS
// with LINK_BANDWIDTH_PER_WEIGHT bytes/s per unit of weight.
// While draining (RFC 8326) every route also carries 65535:0 and LOCAL_PREF 0 on iBGP.

import type { IP } from '../../ip/index.ts';
import { formatIP, formatPrefix } from '../../ip/index.ts';
import type { BgpRoute } from './types.ts';
import type { AfiSafi, NLRI, PathAttributes } from '../codec/messages.ts';
import { Origin } from '../codec/messages.ts';
import { linkBandwidth } from '../codec/extcommunity.ts';

/** Link bandwidth per unit of route weight (one ready endpoint): 1 Mbit/s, in bytes per second. */
export const LINK_BANDWIDTH_PER_WEIGHT = 125_000;

export interface RibContext {
  ebgp: boolean;
  /** AS prepended on eBGP (the AS presented to the peer). */
  localASN: number;
  /** The session's local addresses (the TCP local address, by family). */
  localAddress: { 4?: IP; 6?: IP };
  /**
   * Next hop for a family the TCP connection does not have (dual-stack sessions): the node's
   * own address of that family (SessionPlan.nodeAddresses).
   */
  otherAddress?: { 4?: IP; 6?: IP };
  /** Families negotiated on the session. */
  families: AfiSafi[];
  /**
   * Unnumbered sessions: the IPv6 next hops (a global address of the interface first when there
   * is one, then our link-local address) for IPv6 routes, and for IPv4 routes when
   * `extendedNextHop` (RFC 8950) was negotiated; IPv4 routes are not announced otherwise.
   */
  linkNextHops?: IP[];
  extendedNextHop?: boolean;
  /**
   * RFC 8326 graceful shutdown (drain): every route carries GRACEFUL_SHUTDOWN (65535:0) and,
   * on iBGP, LOCAL_PREF 0, so routers move traffic elsewhere before the routes are withdrawn.
   */
  gracefulShutdown?: boolean;
}

/** GRACEFUL_SHUTDOWN well-known community 65535:0 (RFC 8326). */
export const GRACEFUL_SHUTDOWN = 0xffff0000;

export interface RibEntry {
  /** Map key of the prefix (see prefixKey). */
  key: string;
  nlri: NLRI;
  /** Attributes; for IPv6 `mpReach` carries the next hop with an empty `nlri` list. */
  attributes: PathAttributes;
  /** Canonical form of `attributes`: equal keys = identical attributes (packable together). */
  attrKey: string;
}

export type AdjRibOut = Map<string, RibEntry>;

export interface SkippedRoute {
  prefix: string;
  reason: string;
}

function familyNegotiated(families: AfiSafi[], family: 4 | 6): boolean {
  return families.some((f) => f.afi === (family === 4 ? 1 : 2) && f.safi === 1);
}

/** Canonical key of the attributes this module produces (equal keys = identical attributes). */
export function attrKey(a: PathAttributes): string {
  const nh = a.nextHop ? `4:${a.nextHop.value.toString(16)}` : a.mpReach ? a.mpReach.nextHops.map((h) => `${h.family}:${h.value.toString(16)}`).join(',') : '';
  const path = (a.asPath ?? []).map((s) => `${s.type}:${s.asns.join('.')}`).join(' ');
  const lc = (a.largeCommunities ?? []).map((c) => c.join(':')).join(',');
  const ext = (a.extendedCommunities ?? []).map((c) => c.toString(16)).join(',');
  return `${a.origin ?? ''}|${path}|${nh}|${a.localPref ?? ''}|${(a.communities ?? []).join(',')}|${lc}|${ext}`;
}

/** Map key of a prefix (cheap; use formatPrefix for display). */
export function prefixKey(family: number, network: bigint, length: number): string {
  return `${family}:${network.toString(16)}/${length}`;
}

/** The table a session should carry for the planned routes. */
export function buildRib(routes: readonly BgpRoute[], ctx: RibContext): { rib: AdjRibOut; skipped: SkippedRoute[] } {
  const rib: AdjRibOut = new Map();
  const skipped: SkippedRoute[] = [];
  const interned = new Map<string, { attributes: PathAttributes; attrKey: string }>();
  for (const r of routes) {
    const fam = r.prefix.family;
    const key = prefixKey(fam, r.prefix.network, r.prefix.length);
    if (!familyNegotiated(ctx.families, fam)) {
      skipped.push({ prefix: formatPrefix(r.prefix), reason: `IPv${fam} unicast was not negotiated on this session` });
      continue;
    }
    const link = r.nextHop === undefined ? ctx.linkNextHops : undefined;
    if (link !== undefined && fam === 4 && ctx.extendedNextHop !== true) {
      skipped.push({ prefix: formatPrefix(r.prefix), reason: 'unnumbered session: the peer did not negotiate the extended next hop capability (RFC 8950), so IPv4 routes cannot carry our IPv6 next hop' });
      continue;
    }
    if (link !== undefined && link.length === 0) {
      skipped.push({ prefix: formatPrefix(r.prefix), reason: 'unnumbered session: our IPv6 link-local address on the interface is not known' });
      continue;
    }
    const nh: IP | undefined = link?.[link.length - 1] ?? r.nextHop ?? ctx.localAddress[fam] ?? ctx.otherAddress?.[fam];
    if (nh && link === undefined && nh.family !== fam) {
      skipped.push({ prefix: formatPrefix(r.prefix), reason: `next hop ${formatIP(nh)} is not an IPv${fam} address` });
      continue;
    }
    if (!nh) {
      skipped.push({
        prefix: formatPrefix(r.prefix),
        reason: `no IPv${fam} next hop: the session has no local IPv${fam} address, the node none either, and the route sets none`,
      });
      continue;
    }
    // Routes usually share a handful of attribute sets: build each set (and its key) once.
    const gshut = ctx.gracefulShutdown === true;
    const sig = `${fam}|${link ? link.map((h) => h.value.toString(16)).join(',') : nh.value.toString(16)}|${r.localPref ?? ''}|${r.communities.join(',')}|${r.largeCommunities.join(';')}|${gshut ? 'g' : ''}|${r.weight ?? ''}`;
    let shared = interned.get(sig);
    if (!shared) {
      const a: PathAttributes = {
        origin: Origin.INCOMPLETE,
        asPath: ctx.ebgp ? [{ type: 2, asns: [ctx.localASN] }] : [],
      };
      if (link) a.mpReach = { afi: fam === 4 ? 1 : 2, safi: 1, nextHops: link.map((h) => ({ family: h.family, value: h.value })), nlri: [] };
      else if (fam === 4) a.nextHop = { family: 4, value: nh.value };
      else a.mpReach = { afi: 2, safi: 1, nextHops: [{ family: nh.family, value: nh.value }], nlri: [] };
      if (!ctx.ebgp) a.localPref = gshut ? 0 : (r.localPref ?? 0);
      const communities = gshut && !r.communities.includes(GRACEFUL_SHUTDOWN) ? [...r.communities, GRACEFUL_SHUTDOWN].sort((x, y) => x - y) : r.communities;
      if (communities.length > 0) a.communities = [...communities];
      if (r.largeCommunities.length > 0) a.largeCommunities = r.largeCommunities.map((c) => [c[0], c[1], c[2]]);
      if (r.weight !== undefined) a.extendedCommunities = [linkBandwidth(ctx.localASN, r.weight * LINK_BANDWIDTH_PER_WEIGHT)];
      shared = { attributes: a, attrKey: attrKey(a) };
      interned.set(sig, shared);
    }
    const nlri: NLRI = { family: fam, network: r.prefix.network, length: r.prefix.length };
    rib.set(key, { key, nlri, attributes: shared.attributes, attrKey: shared.attrKey });
  }
  return { rib, skipped };
}

export interface RibDiff {
  /** Prefixes to (re-)announce, grouped by identical attributes (groups in first-seen order). */
  announce: { attributes: PathAttributes; prefixes: NLRI[]; attrKey: string }[];
  withdraw: NLRI[];
}

/** Group entries with identical attributes. */
export function groupEntries(entries: Iterable<RibEntry>): RibDiff['announce'] {
  const groups = new Map<string, RibDiff['announce'][number]>();
  for (const e of entries) {
    let g = groups.get(e.attrKey);
    if (!g) {
      g = { attributes: e.attributes, prefixes: [], attrKey: e.attrKey };
      groups.set(e.attrKey, g);
    }
    g.prefixes.push(e.nlri);
  }
  return [...groups.values()];
}

/** What to send to move the peer from `current` to `next`. */
export function diffRib(current: AdjRibOut, next: AdjRibOut): RibDiff {
  const withdraw: NLRI[] = [];
  for (const [k, e] of current) if (!next.has(k)) withdraw.push(e.nlri);
  const changed: RibEntry[] = [];
  for (const [k, e] of next) {
    const old = current.get(k);
    if (!old || old.attrKey !== e.attrKey) changed.push(e);
  }
  return { announce: groupEntries(changed), withdraw };
}

// Loc-RIB across sessions: for every received prefix, the paths of each session that accepted
// it, and the selection that goes into the kernel. Pure and incremental: `set` marks a prefix
// dirty, `takeDirty` + `selected` recompute only those.
//
// Selection (RFC 4271 §9.1.2.2, reduced to what we receive): highest LOCAL_PREF, then shortest
// AS_PATH, then lowest ORIGIN, then lowest MED (compared between every path, as FRR's
// `bgp always-compare-med`), then eBGP over iBGP. Every path left after these steps is used:
// equal-preference paths from several neighbors become one ECMP route (next hops deduplicated,
// sorted) — FRR calls this multipath with `bgp bestpath as-path multipath-relax`.

import type { IP, Prefix } from '../ip/index.ts';
import { compareIP, isLinkLocal } from '../ip/index.ts';
import type { ReceivedPath } from './ribin.ts';

export interface Candidate extends ReceivedPath {
  ebgp: boolean;
  /** Interface the session runs over (for IPv6 link-local next hops); optional. */
  viaInterface?: string;
}

export interface SelectedNexthop {
  gateway: IP;
  /** Needed when `gateway` is an IPv6 link-local address. */
  viaInterface?: string;
}

export interface Selection {
  prefix: Prefix;
  nexthops: SelectedNexthop[];
}

function better(a: Candidate, b: Candidate): number {
  if (a.localPref !== b.localPref) return b.localPref - a.localPref;
  if (a.asPathLength !== b.asPathLength) return a.asPathLength - b.asPathLength;
  if (a.origin !== b.origin) return a.origin - b.origin;
  if (a.med !== b.med) return a.med - b.med;
  if (a.ebgp !== b.ebgp) return a.ebgp ? -1 : 1;
  return 0;
}

/** The best paths of one prefix and their next hops (undefined when no path). */
export function selectPaths(paths: Iterable<Candidate>): Selection | undefined {
  let best: Candidate[] = [];
  for (const p of paths) {
    const c = best[0] === undefined ? -1 : better(p, best[0]);
    if (c < 0) best = [p];
    else if (c === 0) best.push(p);
  }
  const first = best[0];
  if (!first) return undefined;
  const hops = new Map<string, SelectedNexthop>();
  for (const p of best) {
    const gw = p.nextHop;
    const h: SelectedNexthop = { gateway: gw };
    if (p.viaInterface !== undefined && isLinkLocal(gw)) h.viaInterface = p.viaInterface;
    hops.set(`${gw.family}:${gw.value.toString(16)}|${h.viaInterface ?? ''}`, h);
  }
  const nexthops = [...hops.values()].sort((a, b) => compareIP(a.gateway, b.gateway) || (a.viaInterface ?? '').localeCompare(b.viaInterface ?? ''));
  return { prefix: first.prefix, nexthops };
}

export class LocRib {
  private readonly byPrefix = new Map<string, Map<string, Candidate>>();
  private dirty = new Set<string>();

  /** Session `session` now has `path` for prefix `key` (undefined = no longer). */
  set(session: string, key: string, path: Candidate | undefined): void {
    let m = this.byPrefix.get(key);
    if (path) {
      if (!m) this.byPrefix.set(key, (m = new Map()));
      m.set(session, path);
    } else {
      if (!m || !m.delete(session)) return;
      if (m.size === 0) this.byPrefix.delete(key);
    }
    this.dirty.add(key);
  }

  /** Prefixes whose selection may have changed since the last call. */
  takeDirty(): string[] {
    const out = [...this.dirty];
    this.dirty = new Set();
    return out;
  }

  selected(key: string): Selection | undefined {
    const m = this.byPrefix.get(key);
    return m ? selectPaths(m.values()) : undefined;
  }

  /** How many sessions offer this prefix. */
  pathCount(key: string): number {
    return this.byPrefix.get(key)?.size ?? 0;
  }

  get size(): number {
    return this.byPrefix.size;
  }
}

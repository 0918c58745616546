// Pool choice for a PreferDualStack Service that wants both families, as MetalLB's allocator
// makes it (findBestPoolForService): within each group of pools (the pools pinned to the
// Service by serviceAllocation, by priority; then the other autoAssign pools), a pool that can
// give every family wins, whatever its place in the order; only when no pool of the group has
// both families does a single-family pool serve, the primary family (the Service's
// ipFamilies[0], IPv4 when unset) before the secondary. Pure.

import type { Family } from '../ip/index.ts';

export interface Attempt<P> {
  pool: P;
  /** The families to take from this pool (all of them or nothing). */
  families: Family[];
}

/**
 * The pools to try, in order, with the families to take from each. `groups` are tried one
 * after the other (a later group only when the earlier one gave nothing); `families` is the
 * Service's [primary, secondary]; `has(pool, family)` says whether the pool has addresses of it.
 */
export function preferDualStackAttempts<P>(groups: readonly (readonly P[])[], has: (pool: P, f: Family) => boolean, families: readonly [Family, Family]): Attempt<P>[] {
  const out: Attempt<P>[] = [];
  for (const group of groups) {
    for (const pool of group) if (families.every((f) => has(pool, f))) out.push({ pool, families: [...families] });
    for (const f of families) for (const pool of group) if (has(pool, f)) out.push({ pool, families: [f] });
  }
  return out;
}

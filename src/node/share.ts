// Sessions whose routes are identical share one routes array (pure).

import type { PlannedRoute, SessionPlan } from '../planner/types.ts';

function sameIP(a: PlannedRoute['nextHop'], b: PlannedRoute['nextHop']): boolean {
  return a === b || (a !== undefined && b !== undefined && a.family === b.family && a.value === b.value);
}

function sameRoute(a: PlannedRoute, b: PlannedRoute): boolean {
  return (
    a.prefix.family === b.prefix.family &&
    a.prefix.length === b.prefix.length &&
    a.prefix.network === b.prefix.network &&
    sameIP(a.nextHop, b.nextHop) &&
    a.localPref === b.localPref &&
    a.weight === b.weight &&
    a.weightIntervalMs === b.weightIntervalMs &&
    a.fallback === b.fallback &&
    a.communities.length === b.communities.length &&
    a.communities.every((c, i) => c === b.communities[i]) &&
    a.largeCommunities.length === b.largeCommunities.length &&
    a.largeCommunities.every((c, i) => {
      const d = b.largeCommunities[i];
      return d !== undefined && c[0] === d[0] && c[1] === d[1] && c[2] === d[2];
    })
  );
}

/**
 * Sessions whose routes are identical (the usual case: every peer gets the same
 * advertisements) share one routes array, so that 10 sessions of 100k routes hold 100k
 * PlannedRoutes, not 1M. The planner makes a copy per session; nobody modifies them after.
 */
export function shareRoutes(sessions: SessionPlan[]): SessionPlan[] {
  const distinct: PlannedRoute[][] = [];
  return sessions.map((s) => {
    const same = distinct.find((d) => d.length === s.routes.length && d.every((r, i) => sameRoute(r, s.routes[i] as PlannedRoute)));
    if (same === undefined) {
      distinct.push(s.routes);
      return s;
    }
    return same === s.routes ? s : { ...s, routes: same };
  });
}

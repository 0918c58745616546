// The announcement planner (pure): per node, the BGP sessions and the exact routes per session,
// and the Layer 2 owner of every address. See docs/plan.md.

export { planAll, planNode, endpointServes, FALLBACK_WEIGHT } from './plan.ts';
export type { PlanInput } from './plan.ts';
export { electL2Owner, electionHash } from './elect.ts';
export type { L2Candidate } from './elect.ts';
export { planToJSON, formatPlanTable, formatCommunity, formatLargeCommunity } from './format.ts';
export type { PlanJSON } from './format.ts';
export type * from './types.ts';
export { applyHostFacts } from './nexthop.ts';
export type { HostFacts } from './nexthop.ts';
export { resolvePeerPasswords } from './passwords.ts';
export type { BlockedSession, ResolvedPasswords } from './passwords.ts';

// The node runtime: one NodeAgent per node, used by standalone and the Kubernetes speaker.

export { NodeAgent, blockedReason, findSessionStatus, routeStatus } from './agent.ts';
export type { ApplyResult, NodeAgentOptions } from './agent.ts';
export { shareRoutes } from './share.ts';
export { layer2Members, memberSecret } from './layer2.ts';
export type { MemberOptions } from './layer2.ts';
export type * from './types.ts';

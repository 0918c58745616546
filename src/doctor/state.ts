// The whole-cluster picture doctor and `plan --diff` reason about: from an input set (a folder,
// or the objects listed from a live cluster) to allocation, plan of every node and pool usage,
// exactly as `metallb-ts plan` computes them.

import { allocate, ANN_ALLOCATED_FROM_POOL } from '../allocator/index.ts';
import type { Assignment } from '../allocator/index.ts';
import type { InputSet } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { canonicalIP, rangeSize } from '../ip/index.ts';
import type { Node, Service } from '../model/objects.ts';
import { objectKey } from '../model/objects.ts';
import { planAll } from '../planner/index.ts';
import type { PlanOutput } from '../planner/types.ts';
import type { PoolUsage } from './types.ts';

export interface StateOptions {
  /** With no Node objects: the single node's name and address (defaults "local", 127.0.0.1). */
  node?: string;
  nodeAddress?: string;
  loadBalancerClass?: string;
  /** Assignments to start from instead of the Services' status (plan --diff: the current state). */
  previous?: Record<string, Assignment>;
}

export interface ClusterState {
  config: Config;
  nodes: Node[];
  /** False when no Node object was given and one was made up. */
  nodesKnown: boolean;
  assignments: Record<string, Assignment>;
  plan: PlanOutput;
  pools: PoolUsage[];
}

/** What a Service held before, from its status and the pool annotation. */
export function previousFromStatus(services: Service[]): Record<string, Assignment> {
  const out: Record<string, Assignment> = {};
  for (const svc of services) {
    const ips: string[] = [];
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      const c = ing.ip ? canonicalIP(ing.ip) : undefined;
      if (c && !ips.includes(c)) ips.push(c);
    }
    if (ips.length === 0) continue;
    ips.sort((a, b) => (a.includes(':') ? 1 : 0) - (b.includes(':') ? 1 : 0));
    out[objectKey(svc.metadata)] = { ips, pool: svc.metadata.annotations?.[ANN_ALLOCATED_FROM_POOL] ?? '' };
  }
  return out;
}

export function poolUsage(config: Config, assignments: Record<string, Assignment>): PoolUsage[] {
  const use = new Map<string, { v4: number; v6: number; services: number }>();
  for (const a of Object.values(assignments)) {
    const u = use.get(a.pool) ?? { v4: 0, v6: 0, services: 0 };
    u.services++;
    for (const ip of a.ips) {
      if (ip.includes(':')) u.v6++;
      else u.v4++;
    }
    use.set(a.pool, u);
  }
  const clamp = (n: bigint): number => (n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n));
  return config.pools.map((p) => {
    let v4 = 0n;
    let v6 = 0n;
    for (const r of p.ranges) {
      if (r.family === 6) v6 += rangeSize(r);
      else v4 += rangeSize(r);
    }
    const u = use.get(p.name) ?? { v4: 0, v6: 0, services: 0 };
    return {
      pool: p.name,
      inUse: u.v4 + u.v6,
      total: clamp(v4 + v6),
      ipv4InUse: u.v4,
      ipv6InUse: u.v6,
      ipv4Total: clamp(v4),
      ipv6Total: clamp(v6),
      services: u.services,
    };
  });
}

export function syntheticNodes(name: string, address: string): Node[] {
  return [{ metadata: { name, labels: { 'kubernetes.io/hostname': name } }, status: { addresses: [{ type: 'InternalIP', address }] } }];
}

/** Allocates and plans every node of a valid input set. */
export function clusterState(inputs: InputSet, config: Config, opts: StateOptions = {}): ClusterState {
  const nodesKnown = inputs.nodes.length > 0;
  const nodes = nodesKnown ? inputs.nodes : syntheticNodes(opts.node ?? 'local', opts.nodeAddress ?? '127.0.0.1');
  const alloc = allocate({
    config,
    services: inputs.services,
    namespaces: inputs.namespaces,
    previous: opts.previous ?? previousFromStatus(inputs.services),
    ...(opts.loadBalancerClass !== undefined ? { loadBalancerClass: opts.loadBalancerClass } : {}),
  });
  const errors: Record<string, string> = {};
  for (const r of alloc.results) if (r.error !== undefined) errors[r.key] = r.error;
  const plan = planAll({
    config,
    services: inputs.services,
    assignments: alloc.assignments,
    nodes,
    endpointSlices: inputs.endpointSlices,
    namespaces: inputs.namespaces,
    assumeEndpoints: true,
    errors,
    ...(opts.loadBalancerClass !== undefined ? { loadBalancerClass: opts.loadBalancerClass } : {}),
  });
  return { config, nodes, nodesKnown, assignments: alloc.assignments, plan, pools: poolUsage(config, alloc.assignments) };
}

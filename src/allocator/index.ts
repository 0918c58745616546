// The allocator: which IP each LoadBalancer Service gets (MetalLB semantics, fully
// deterministic). `allocate` is the one-shot pure function; `Allocator` the incremental engine
// the controller and standalone mode keep in memory.

import type { Service } from '../model/objects.ts';
import { objectKey } from '../model/objects.ts';
import { Allocator, sameAssignment } from './allocator.ts';
import { annotation } from './service.ts';
import { ANN_LOADBALANCER_IPS } from './types.ts';
import type { AllocationInput, AllocationOutput, Assignment, ServiceResult } from './types.ts';

export { Allocator, sameAssignment } from './allocator.ts';
export type { AllocatorOptions } from './allocator.ts';
export { analyzeService, isManaged, annotation, backendKeyOf } from './service.ts';
export type { ServiceInfo, FamilyWant } from './service.ts';
export { RunSet } from './runset.ts';
export * from './types.ts';

/**
 * One-shot allocation. Order of decisions (deterministic, same input -> same output):
 * 1. previous assignments still valid are restored, by key;
 * 2. services requesting specific IPs are placed, by key;
 * 3. the other services, by key (lowest free address of the first pool that can serve them,
 *    preferring the address they held before when it is free again).
 */
export function allocate(input: AllocationInput): AllocationOutput {
  const opts: { loadBalancerClass?: string; namespaces?: NonNullable<AllocationInput['namespaces']> } = {};
  if (input.loadBalancerClass !== undefined) opts.loadBalancerClass = input.loadBalancerClass;
  if (input.namespaces !== undefined) opts.namespaces = input.namespaces;
  const alloc = new Allocator(input.config, opts);

  const byKey = new Map<string, Service>();
  for (const svc of input.services) {
    const key = objectKey(svc.metadata);
    if (!byKey.has(key)) byKey.set(key, svc);
  }
  const keys = [...byKey.keys()].sort();
  // One slot per key (same order as `keys`): no second map, no re-lookup by key.
  const slots: (ServiceResult | undefined)[] = new Array<ServiceResult | undefined>(keys.length);
  // input.previous[key] looked up once per key (a lookup by a fresh string is not free)
  const prevs: (Assignment | undefined)[] = new Array<Assignment | undefined>(keys.length);
  const requestedIdx: number[] = [];
  const otherIdx: number[] = [];

  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const svc = byKey.get(key) as Service;
    const prev = input.previous[key];
    prevs[i] = prev;
    if (!alloc.manages(svc)) {
      if (prev) slots[i] = { key, changed: true };
      continue;
    }
    if (prev && alloc.restore(key, svc, prev)) {
      const a = alloc.get(key) as Assignment;
      slots[i] = { key, assignment: a, changed: !sameAssignment(a, prev) };
      continue;
    }
    const ann = annotation(svc, ANN_LOADBALANCER_IPS);
    if (!!svc.spec.loadBalancerIP || (ann !== undefined && ann.trim() !== '')) requestedIdx.push(i);
    else otherIdx.push(i);
  }
  const place = (i: number): void => {
    const key = keys[i] as string;
    const svc = byKey.get(key) as Service;
    const prev = prevs[i];
    const r = alloc.assign(svc, prev?.ips ?? [], key);
    const res: ServiceResult = { key, changed: !sameAssignment(r.assignment, prev) };
    if (r.assignment) res.assignment = r.assignment;
    if (r.error !== undefined) res.error = r.error;
    slots[i] = res;
  };
  for (const i of requestedIdx) place(i);
  for (const i of otherIdx) place(i);
  // `keys` is sorted, and no decision changes an earlier one: build both outputs in key order.
  const assignments: Record<string, Assignment> = {};
  const out: ServiceResult[] = [];
  for (const r of slots) {
    if (!r) continue;
    out.push(r);
    if (r.assignment) assignments[r.key] = { ips: r.assignment.ips.slice(), pool: r.assignment.pool };
  }
  return { assignments, results: out };
}

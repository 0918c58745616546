// One-shot allocation over a fresh Allocator (see allocate in ./index.ts), also the full pass of
// IncrementalAllocation, which keeps the Allocator and the per-key bookkeeping for its next call.

import type { Service } from '../model/objects.ts';
import { objectKey } from '../model/objects.ts';
import { Allocator, sameAssignment } from './allocator.ts';
import { annotation } from './service.ts';
import { ANN_LOADBALANCER_IPS } from './types.ts';
import type { AllocationInput, AllocationOutput, Assignment, ServiceResult } from './types.ts';

export function newAllocator(input: AllocationInput): Allocator {
  const opts: { loadBalancerClass?: string; namespaces?: NonNullable<AllocationInput['namespaces']> } = {};
  if (input.loadBalancerClass !== undefined) opts.loadBalancerClass = input.loadBalancerClass;
  if (input.namespaces !== undefined) opts.namespaces = input.namespaces;
  return new Allocator(input.config, opts);
}

/** The Services by key (the first one of a key wins), and the keys sorted. */
export function servicesByKey(services: readonly Service[]): Map<string, Service> {
  const byKey = new Map<string, Service>();
  for (const svc of services) {
    const key = objectKey(svc.metadata);
    if (!byKey.has(key)) byKey.set(key, svc);
  }
  return byKey;
}

/** Whether the Service asks for specific addresses (placed before the others). */
export function requestsIPs(svc: Service): boolean {
  const ann = annotation(svc, ANN_LOADBALANCER_IPS);
  return !!svc.spec.loadBalancerIP || (ann !== undefined && ann.trim() !== '');
}

export interface FullAllocation {
  output: AllocationOutput;
  byKey: Map<string, Service>;
  keys: string[];
}

/** allocate() on `alloc` (empty): restores, then requested, then the others, all by key. */
export function allocateWith(alloc: Allocator, input: AllocationInput): FullAllocation {
  const byKey = servicesByKey(input.services);
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
    if (requestsIPs(svc)) requestedIdx.push(i);
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
  return { output: { assignments, results: out }, byKey, keys };
}

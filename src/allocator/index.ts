// The allocator: which IP each LoadBalancer Service gets (MetalLB semantics, fully
// deterministic). `allocate` is the one-shot pure function; `Allocator` the incremental engine
// the controller and standalone mode keep in memory.

import { allocateWith, newAllocator } from './oneshot.ts';
import type { AllocationInput, AllocationOutput } from './types.ts';

export { Allocator, sameAssignment } from './allocator.ts';
export type { AllocatorOptions } from './allocator.ts';
export { analyzeService, isManaged, annotation, backendKeyOf } from './service.ts';
export type { ServiceInfo, FamilyWant } from './service.ts';
export { RunSet } from './runset.ts';
export { IncrementalAllocation } from './incremental.ts';
export * from './types.ts';

/**
 * One-shot allocation. Order of decisions (deterministic, same input -> same output):
 * 1. previous assignments still valid are restored, by key;
 * 2. services requesting specific IPs are placed, by key;
 * 3. the other services, by key (lowest free address of the first pool that can serve them,
 *    preferring the address they held before when it is free again).
 */
export function allocate(input: AllocationInput): AllocationOutput {
  return allocateWith(newAllocator(input), input).output;
}

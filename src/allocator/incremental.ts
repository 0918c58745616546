// allocate() for a long-running caller that allocates again after every change (standalone):
// when the configuration, namespaces and class are the same objects as last time and
// `previous` is the last call's own output, only the Services that changed (by object
// identity: a reader that keeps unchanged objects, like config/load's InputCache, gives the
// same objects again), were removed, or have no address yet are decided again, on the Allocator
// kept from the last call. Anything else, or a changed Service whose previous addresses cannot
// be restored (whose turn in key order could then decide another Service), is a full pass.
// Either way the output is exactly allocate()'s (a unit test compares both on random sequences).

import type { Namespace, Service } from '../model/objects.ts';
import type { Config } from '../config/types.ts';
import type { Allocator } from './allocator.ts';
import { allocateWith, newAllocator, requestsIPs, servicesByKey } from './oneshot.ts';
import type { AllocationInput, AllocationOutput, Assignment, ServiceResult } from './types.ts';

interface Last {
  config: Config;
  namespaces: readonly Namespace[] | undefined;
  lbClass: string | undefined;
  alloc: Allocator;
  byKey: Map<string, Service>;
  /** Sorted. */
  keys: string[];
  output: AllocationOutput;
  /** Keys that got no address (an error) last time: placed again. */
  failed: Set<string>;
}

function sameItems<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Index of `key` in sorted `keys`, or -(insertion point) - 1. */
function search(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = keys[mid] as string;
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/**
 * Above this many Services nothing is kept between calls (every call is a full pass): the kept
 * Allocator costs ~0.4 KB per Service, which would break the memory budget of a standalone
 * process with 100k Services (docs/benchmarks.md §5), where a full pass is what a change costs
 * anyway among the other per-Service work of a reload.
 */
export const INCREMENTAL_MAX_SERVICES = 20_000;

export class IncrementalAllocation {
  private last: Last | undefined;

  constructor(private readonly maxServices = INCREMENTAL_MAX_SERVICES) {}

  /** How the last call was computed, and how many Services it decided again. */
  lastPass: { full: boolean; decided: number } = { full: true, decided: 0 };

  allocate(input: AllocationInput): AllocationOutput {
    const l = this.last;
    if (!l || l.config !== input.config || l.lbClass !== input.loadBalancerClass || !sameItems(l.namespaces, input.namespaces) || input.previous !== l.output.assignments) {
      return this.full(input);
    }
    return this.incremental(l, input) ?? this.full(input);
  }

  private full(input: AllocationInput): AllocationOutput {
    const alloc = newAllocator(input);
    const r = allocateWith(alloc, input);
    this.remember(input, alloc, r.byKey, r.keys, r.output);
    this.lastPass = { full: true, decided: r.keys.length };
    return r.output;
  }

  private remember(input: AllocationInput, alloc: Allocator, byKey: Map<string, Service>, keys: string[], output: AllocationOutput): void {
    if (keys.length > this.maxServices) {
      this.last = undefined;
      return;
    }
    const failed = new Set<string>();
    for (const r of output.results) if (r.error !== undefined) failed.add(r.key);
    this.last = { config: input.config, namespaces: input.namespaces, lbClass: input.loadBalancerClass, alloc, byKey, keys, output: { assignments: output.assignments, results: [] }, failed };
  }

  /** undefined: a full pass is needed (the Allocator may have been changed: it is dropped). */
  private incremental(l: Last, input: AllocationInput): AllocationOutput | undefined {
    const alloc = l.alloc;
    const byKey = servicesByKey(input.services);
    const keys = l.keys.slice();
    const changed: string[] = [];
    for (const [key, svc] of byKey) {
      const before = l.byKey.get(key);
      if (before === svc) continue;
      changed.push(key);
      if (before === undefined) {
        const i = search(keys, key);
        if (i < 0) keys.splice(-i - 1, 0, key);
      }
    }
    for (const key of l.byKey.keys()) {
      if (byKey.has(key)) continue;
      alloc.release(key);
      const i = search(keys, key);
      if (i >= 0) keys.splice(i, 1);
    }
    changed.sort();
    // this call's decisions (the rest is as last time)
    const decided = new Map<string, ServiceResult | null>();
    const toPlace: string[] = [];
    this.last = undefined; // the Allocator changes from here on
    for (const key of changed) {
      const svc = byKey.get(key) as Service;
      const prev = input.previous[key];
      alloc.release(key);
      if (!alloc.manages(svc)) {
        decided.set(key, prev ? { key, changed: true } : null);
        continue;
      }
      if (prev) {
        // restored as a full pass would; if not, its place in key order matters: full pass
        if (!alloc.restore(key, svc, prev)) return undefined;
        decided.set(key, { key, assignment: alloc.get(key) as Assignment, changed: false });
        continue;
      }
      toPlace.push(key);
    }
    // Services without an address are placed again: an address may have been freed
    for (const key of l.failed) if (!decided.has(key) && byKey.has(key)) toPlace.push(key);
    toPlace.sort();
    const place = (key: string): void => {
      const r = alloc.assign(byKey.get(key) as Service, [], key);
      const res: ServiceResult = { key, changed: r.assignment !== undefined };
      if (r.assignment) res.assignment = r.assignment;
      if (r.error !== undefined) res.error = r.error;
      decided.set(key, res);
    };
    for (const key of toPlace) if (requestsIPs(byKey.get(key) as Service)) place(key);
    for (const key of toPlace) if (!requestsIPs(byKey.get(key) as Service)) place(key);

    const assignments: Record<string, Assignment> = {};
    const results: ServiceResult[] = [];
    for (const key of keys) {
      const d = decided.get(key);
      if (d === null) continue;
      if (d !== undefined) {
        results.push(d);
        if (d.assignment) assignments[key] = { ips: d.assignment.ips.slice(), pool: d.assignment.pool };
        continue;
      }
      // unchanged: held as before (restored by a full pass: unchanged), or not managed (no result)
      const a = l.output.assignments[key];
      if (a === undefined) continue;
      results.push({ key, assignment: a, changed: false });
      assignments[key] = a;
    }
    const output = { assignments, results };
    this.remember(input, alloc, byKey, keys, output);
    this.lastPass = { full: false, decided: decided.size };
    return output;
  }
}

// Public types of the allocator (re-exported by ./index.ts).

import type { Config } from '../config/types.ts';
import type { Namespace, Service } from '../model/objects.ts';

export interface Assignment {
  /** Canonical text, IPv4 first. */
  ips: string[];
  pool: string;
}

export interface AllocationInput {
  config: Config;
  /** Any services; non-LoadBalancer / other-class ones are ignored (and lose any previous assignment). */
  services: Service[];
  /** For pool namespaceSelectors. */
  namespaces?: Namespace[];
  /** key "namespace/name": what each service held before (state file, or Service status + annotation). */
  previous: Record<string, Assignment>;
  /** Our loadBalancerClass; unset = serve services with no class only. */
  loadBalancerClass?: string;
}

export interface ServiceResult {
  key: string;
  assignment?: Assignment;
  /** Clear reason when the service could not get (or keep) an address. */
  error?: string;
  /** True when the assignment differs from the previous one (including losing it). */
  changed: boolean;
}

export interface AllocationOutput {
  assignments: Record<string, Assignment>;
  /** Sorted by key. */
  results: ServiceResult[];
}

export interface FamilyStats {
  assigned: number;
  available: bigint;
}

export interface PoolStats {
  v4: FamilyStats;
  v6: FamilyStats;
}

export { ANNOTATION_PREFIXES, ANN_LOADBALANCER_IPS, ANN_ADDRESS_POOL, ANN_ALLOW_SHARED_IP, ANN_ALLOCATED_FROM_POOL } from '../model/service.ts';

// The Services' IPs as the Kubernetes speaker learns them (pure): the controller wrote them into
// `status.loadBalancer.ingress`; the configuration says which pool they belong to.

import type { Assignment } from '../allocator/types.ts';
import type { Config } from '../config/types.ts';
import { rangeContains, tryParseIP } from '../ip/index.ts';
import type { Service } from '../model/objects.ts';
import { objectKey } from '../model/objects.ts';
import { ANN_ALLOCATED_FROM_POOL, ingressIPs, isManaged } from '../model/service.ts';

/** The pool whose ranges contain every IP: the annotated one when it fits, else the first (config order). */
export function poolOf(cfg: Config, ips: readonly string[], annotated: string | undefined): string | undefined {
  const parsed = ips.map((t) => tryParseIP(t));
  if (parsed.some((p) => p === undefined)) return undefined;
  const fits = cfg.pools.filter((p) => parsed.every((ip) => ip !== undefined && p.ranges.some((r) => rangeContains(r, ip))));
  return fits.find((p) => p.name === annotated)?.name ?? fits[0]?.name;
}

/**
 * `namespace/name` -> IPs and pool of every Service we manage that has IPs in its status from
 * one of our pools (addresses outside every pool are not ours to announce).
 */
export function assignmentsFromServices(cfg: Config, services: readonly Service[], loadBalancerClass: string | undefined): Record<string, Assignment> {
  const out: Record<string, Assignment> = {};
  for (const svc of services) {
    if (!isManaged(svc, loadBalancerClass)) continue;
    const ips = ingressIPs(svc);
    if (ips.length === 0) continue;
    const pool = poolOf(cfg, ips, svc.metadata.annotations?.[ANN_ALLOCATED_FROM_POOL]);
    if (pool === undefined) continue;
    out[objectKey(svc.metadata)] = { ips, pool };
  }
  return out;
}

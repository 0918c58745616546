// Service facts with one home: whether MetalLB manages a Service, the IPs in its status, and
// MetalLB's annotations under both spellings (metallb.io/ and the older metallb.universe.tf/).

import type { Service } from './objects.ts';

/** Annotation prefixes MetalLB reads, newest first. */
export const ANNOTATION_PREFIXES = ['metallb.io/', 'metallb.universe.tf/'] as const;
export const ANN_LOADBALANCER_IPS = 'loadBalancerIPs';
export const ANN_ADDRESS_POOL = 'address-pool';
export const ANN_ALLOW_SHARED_IP = 'allow-shared-ip';
/** Written by the controller: the pool an address came from. */
export const ANN_ALLOCATED_FROM_POOL = 'metallb.io/ip-allocated-from-pool';

const FULL_NAMES = new Map<string, string[]>();

/** The value of a MetalLB annotation under `metallb.io/` or the older `metallb.universe.tf/`. */
export function annotation(svc: Service, name: string): string | undefined {
  const a = svc.metadata.annotations;
  if (!a) return undefined;
  let names = FULL_NAMES.get(name);
  if (!names) FULL_NAMES.set(name, (names = ANNOTATION_PREFIXES.map((p) => p + name)));
  for (const full of names) {
    const v = a[full];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Whether MetalLB (with our loadBalancerClass) serves this Service at all. */
export function isManaged(svc: Service, loadBalancerClass: string | undefined): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  return cls === undefined || cls === null || cls === '' || cls === loadBalancerClass;
}

/** The IPs in `status.loadBalancer.ingress` (hostnames and empty entries skipped). */
export function ingressIPs(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '');
}

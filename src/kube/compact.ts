// Compact copies of the objects the controller caches: only the fields the allocator and the
// controller read (src/model/objects.ts types them), like client-go's informer transforms that
// strip managedFields. A Service straight from the API server also carries managedFields, the
// kubectl last-applied-configuration annotation (a copy of the whole object), and spec fields
// we never read; at 10,000 Services those are most of the cache.

import type { LoadBalancerIngress, Service, ServicePort, ServiceSpec } from '../model/objects.ts';
import type { KubeObject } from './client.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

function copyIf<T extends object>(to: T, from: Rec, keys: readonly (keyof T & string)[]): void {
  for (const k of keys) if (from[k] !== undefined) (to as Rec)[k] = from[k];
}

/** The Service with only what the controller reads (metadata, the typed spec fields, ingress). */
export function compactService<T extends KubeObject>(o: T): T {
  const m = o.metadata;
  const meta: KubeObject['metadata'] = { name: m.name };
  copyIf(meta, m, ['namespace', 'uid', 'resourceVersion', 'generation', 'labels', 'deletionTimestamp']);
  if (m.annotations) {
    const { [LAST_APPLIED]: _dropped, ...rest } = m.annotations;
    if (Object.keys(rest).length > 0) meta.annotations = rest;
  }
  const out: Rec & { metadata: KubeObject['metadata'] } = { metadata: meta };
  const spec = o['spec'];
  if (isRec(spec)) {
    const s: ServiceSpec = {};
    copyIf(s, spec, ['type', 'loadBalancerIP', 'loadBalancerClass', 'selector', 'externalTrafficPolicy', 'ipFamilies', 'ipFamilyPolicy', 'clusterIP', 'clusterIPs']);
    if (Array.isArray(spec['ports'])) {
      s.ports = (spec['ports'] as unknown[]).filter(isRec).map((p) => {
        const q = {} as ServicePort;
        copyIf(q, p, ['name', 'port', 'protocol', 'targetPort', 'nodePort']);
        return q;
      });
    }
    out['spec'] = s;
  }
  const lb = isRec(o['status']) ? (o['status'] as Service['status'])?.loadBalancer : undefined;
  if (lb) {
    const ingress = Array.isArray(lb.ingress)
      ? lb.ingress.filter(isRec).map((i) => {
          const e: LoadBalancerIngress = {};
          copyIf(e, i as Rec, ['ip', 'hostname']);
          return e;
        })
      : undefined;
    out['status'] = { loadBalancer: ingress ? { ingress } : {} };
  }
  return out as T;
}

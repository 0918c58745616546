// Service manifests read from files (standalone, validate, plan) get the same treatment as our
// CRDs: a field the API server would not know (`loadBalancerIp`), a value with a case slip
// (`type: Loadbalancer`) and a misspelled MetalLB annotation are warnings with "did you mean".
// Warnings, not errors: the API server would drop an unknown field and go on, and so do we; but
// the Service then does not do what its author meant, so we say so.

import { ANNOTATION_PREFIXES, ANN_ADDRESS_POOL, ANN_ALLOCATED_FROM_POOL, ANN_ALLOW_SHARED_IP, ANN_LOADBALANCER_IPS } from '../model/service.ts';
import { closest } from './issues.ts';
import { fieldDiagnostic, isRecord, type FieldPath } from './path.ts';
import type { Diagnostic, LoadedObject } from './types.ts';

const TOP = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const META = ['name', 'namespace', 'labels', 'annotations', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName', 'ownerReferences', 'finalizers', 'managedFields', 'selfLink'];
const SPEC = [
  'ports', 'selector', 'clusterIP', 'clusterIPs', 'type', 'externalIPs', 'sessionAffinity', 'loadBalancerIP', 'loadBalancerSourceRanges',
  'externalName', 'externalTrafficPolicy', 'healthCheckNodePort', 'publishNotReadyAddresses', 'sessionAffinityConfig', 'ipFamilies',
  'ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy', 'trafficDistribution',
];
const PORT = ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'];

/** Every MetalLB Service annotation key, in both spellings. */
const METALLB_SERVICE_ANNOTATIONS: readonly string[] = ANNOTATION_PREFIXES.flatMap((p) =>
  [ANN_LOADBALANCER_IPS, ANN_ADDRESS_POOL, ANN_ALLOW_SHARED_IP, ANN_ALLOCATED_FROM_POOL.slice(ANNOTATION_PREFIXES[0].length)].map((n) => `${p}${n}`),
);

/** Fields whose value is one of a few words (Kubernetes spells them in CamelCase). */
const ENUMS: Record<string, readonly string[]> = {
  type: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'],
  externalTrafficPolicy: ['Cluster', 'Local'],
  internalTrafficPolicy: ['Cluster', 'Local'],
  ipFamilyPolicy: ['SingleStack', 'PreferDualStack', 'RequireDualStack'],
  sessionAffinity: ['None', 'ClientIP'],
};
const FAMILIES = ['IPv4', 'IPv6'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

function unknownKeys(out: Diagnostic[], lo: LoadedObject, obj: Record<string, unknown>, path: FieldPath, known: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (known.includes(k)) continue;
    const guess = closest(k, known);
    out.push(warning(lo, [...path, k], guess !== undefined ? `unknown field; did you mean "${guess}"? (ignored)` : 'unknown field (ignored)'));
  }
}

function enumValue(out: Diagnostic[], lo: LoadedObject, path: FieldPath, v: unknown, allowed: readonly string[]): void {
  if (typeof v !== 'string' || allowed.includes(v)) return;
  const same = allowed.find((a) => a.toLowerCase() === v.toLowerCase()) ?? closest(v, allowed);
  const last = path[path.length - 1];
  const what = typeof last === 'number' ? String(path[path.length - 2]) : String(last);
  out.push(warning(lo, path, same !== undefined ? `"${v}" is not a valid ${what}; did you mean "${same}"?` : `"${v}" is not a valid ${what} (one of ${allowed.join(', ')})`));
}

function warning(lo: LoadedObject, path: FieldPath, message: string): Diagnostic {
  return { ...fieldDiagnostic(lo, path, message), code: 'service-field' };
}

/** Warnings about a Service read from a file (objects from the API server are not judged). */
export function serviceWarnings(lo: LoadedObject): Diagnostic[] {
  if (lo.fromApiServer) return [];
  const out: Diagnostic[] = [];
  const obj = lo.object;
  unknownKeys(out, lo, obj, [], TOP);
  const meta = obj['metadata'];
  if (isRecord(meta)) {
    unknownKeys(out, lo, meta, ['metadata'], META);
    const ann = meta['annotations'];
    if (isRecord(ann)) {
      for (const k of Object.keys(ann)) {
        if (METALLB_SERVICE_ANNOTATIONS.includes(k)) continue;
        const guess = closest(k, METALLB_SERVICE_ANNOTATIONS);
        if (guess !== undefined) out.push(warning(lo, ['metadata', 'annotations', k], `not a MetalLB annotation; did you mean "${guess}"? (ignored)`));
      }
    }
  }
  const spec = obj['spec'];
  if (!isRecord(spec)) return out;
  unknownKeys(out, lo, spec, ['spec'], SPEC);
  for (const [f, allowed] of Object.entries(ENUMS)) enumValue(out, lo, ['spec', f], spec[f], allowed);
  const fams = spec['ipFamilies'];
  if (Array.isArray(fams)) fams.forEach((v: unknown, i) => enumValue(out, lo, ['spec', 'ipFamilies', i], v, FAMILIES));
  const ports = spec['ports'];
  if (Array.isArray(ports)) {
    ports.forEach((p: unknown, i) => {
      if (!isRecord(p)) return;
      unknownKeys(out, lo, p, ['spec', 'ports', i], PORT);
      enumValue(out, lo, ['spec', 'ports', i, 'protocol'], p['protocol'], PROTOCOLS);
    });
  }
  return out;
}

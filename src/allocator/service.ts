// What the allocator needs to know about one Service, derived once: whether we manage it, the
// IPs it requests, the pool it asks for, its sharing key / backend key / ports, and the address
// families it wants.

import { tryParseIP, formatIP } from '../ip/index.ts';
import type { Family, IP } from '../ip/index.ts';
import type { Service } from '../model/objects.ts';
import { objectKey } from '../model/objects.ts';
import { ANN_ADDRESS_POOL, ANN_ALLOW_SHARED_IP, ANN_LOADBALANCER_IPS, annotation, isManaged } from '../model/service.ts';

/**
 * Which families a service wants:
 * - `required`: exactly these families (in order), all of them or nothing;
 * - `prefer`: both if the pool has both, else the one it has (PreferDualStack; families in the
 *   Service's ipFamilies order, the primary first — see dualstack.ts for the pool choice);
 * - `any`: one address of whatever family the pool offers, IPv4 first (single stack, family unknown).
 */
export type FamilyWant = { kind: 'required'; families: Family[] } | { kind: 'prefer'; families: Family[] } | { kind: 'any' };

export interface ServiceInfo {
  key: string;
  namespace: string;
  labels: Record<string, string>;
  /** Requested addresses (spec.loadBalancerIP or the loadBalancerIPs annotation), v4 first. */
  requested: IP[];
  /** metallb.io/address-pool, if set. */
  pool?: string;
  /** metallb.io/allow-shared-ip, "" when unset. */
  sharingKey: string;
  /** "Cluster" or "Local:<selector>": services sharing an IP must agree on it. */
  backendKey: string;
  /** "TCP/80" entries. */
  ports: string[];
  want: FamilyWant;
}

export { annotation, isManaged };

function famOf(f: string): Family | undefined {
  return f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : undefined;
}

export function backendKeyOf(svc: Service): string {
  if (svc.spec.externalTrafficPolicy === 'Local') {
    const sel = Object.entries(svc.spec.selector ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return `Local:${sel}`;
  }
  return 'Cluster';
}

/**
 * Derives the allocation-relevant facts of a service, or a precise error. `key` is
 * `objectKey(svc.metadata)` when the caller already has it (saves rebuilding the string).
 */
export function analyzeService(svc: Service, key: string = objectKey(svc.metadata)): ServiceInfo | { error: string } {
  const spec = svc.spec;

  // Requested addresses.
  const annIPs = annotation(svc, ANN_LOADBALANCER_IPS);
  const specIP = spec.loadBalancerIP;
  if (annIPs !== undefined && annIPs.trim() !== '' && specIP) {
    return { error: 'service can not have both spec.loadBalancerIP and the metallb.io/loadBalancerIPs annotation' };
  }
  const requested: IP[] = [];
  const texts = annIPs !== undefined && annIPs.trim() !== '' ? annIPs.split(',') : specIP ? [specIP] : [];
  for (const raw of texts) {
    const t = raw.trim();
    if (t === '') continue; // "a,b," or "a, ,b": empty entries are ignored
    const ip = tryParseIP(t);
    if (!ip) return { error: `requested IP "${t}" is not a valid IP address` };
    if (requested.some((r) => r.family === ip.family)) {
      return { error: `more than one IPv${ip.family} address requested (${requested.map(formatIP).join(', ')}, ${formatIP(ip)})` };
    }
    requested.push(ip);
  }
  requested.sort((a, b) => a.family - b.family);

  // Families.
  const policy = spec.ipFamilyPolicy ?? 'SingleStack';
  const declared: Family[] = [];
  for (const f of spec.ipFamilies ?? []) {
    const fam = famOf(f);
    if (fam !== undefined && !declared.includes(fam)) declared.push(fam);
  }
  let want: FamilyWant;
  if (requested.length > 0) {
    const reqFams = requested.map((r) => r.family);
    if (policy === 'SingleStack' && reqFams.length > 1) {
      return { error: 'service is SingleStack but requests an IPv4 and an IPv6 address' };
    }
    if (policy === 'RequireDualStack' && reqFams.length < 2) {
      return { error: 'service is RequireDualStack but requests a single address (request one IPv4 and one IPv6 address)' };
    }
    if (declared.length > 0) {
      for (const r of requested) {
        if (!declared.includes(r.family)) {
          return { error: `requested IP ${formatIP(r)} is IPv${r.family} but the service's ipFamilies are ${spec.ipFamilies?.join(', ')}` };
        }
      }
    }
    want = { kind: 'required', families: reqFams };
  } else if (policy === 'RequireDualStack') {
    want = { kind: 'required', families: [4, 6] };
  } else if (policy === 'PreferDualStack') {
    // the order is the Service's: ipFamilies[0] is the primary family (IPv4 when unset)
    want = declared.length > 0 ? { kind: 'prefer', families: declared } : { kind: 'prefer', families: [4, 6] };
  } else {
    let fam: Family | undefined = declared[0];
    if (fam === undefined) {
      const cip = spec.clusterIPs?.[0] ?? spec.clusterIP;
      const parsed = cip ? tryParseIP(cip) : undefined;
      fam = parsed?.family;
    }
    want = fam === undefined ? { kind: 'any' } : { kind: 'required', families: [fam] };
  }

  const ports = (spec.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`);
  const poolAnn = annotation(svc, ANN_ADDRESS_POOL);
  const info: ServiceInfo = {
    key,
    namespace: svc.metadata.namespace ?? 'default',
    labels: svc.metadata.labels ?? {},
    requested,
    sharingKey: annotation(svc, ANN_ALLOW_SHARED_IP) ?? '',
    backendKey: backendKeyOf(svc),
    ports,
    want,
  };
  if (poolAnn !== undefined && poolAnn.trim() !== '') info.pool = poolAnn.trim();
  return info;
}

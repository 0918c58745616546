// When does the webhook's certificate Secret need new certificates? Pure decisions over the facts
// x509.ts reads from the Secret, with the clock passed in. The rules follow MetalLB's
// cert-controller: a missing, unreadable or mismatched bundle starts over with a new CA; a CA
// close to expiry is replaced with everything it signed; a serving certificate is replaced when
// it is close to expiry, not yet valid, not signed by the CA, or lacks one of the Service's DNS
// names. Also: the Secret's data keys, and the JSON patch that puts the CA into a
// ValidatingWebhookConfiguration's caBundle.

/** What x509.inspect reads from a stored bundle (times in ms since the epoch). */
export interface BundleFacts {
  caIsCA: boolean;
  caNotBefore: number;
  caNotAfter: number;
  servingNotBefore: number;
  servingNotAfter: number;
  servingSignedByCA: boolean;
  servingDnsNames: string[];
}

export type Inspection = { kind: 'missing'; problem: string } | { kind: 'invalid'; problem: string } | { kind: 'valid'; facts: BundleFacts };

export interface RotationPolicy {
  /** Names the serving certificate must carry (`<service>.<namespace>.svc`, `...svc.cluster.local`). */
  dnsNames: string[];
  /** Replace a certificate this long before it expires (ms). */
  renewBeforeMs: number;
}

export type Decision =
  | { action: 'keep'; nextCheckAt: number }
  | { action: 'serving'; reason: string }
  | { action: 'all'; reason: string; corrupt: boolean };

const iso = (t: number): string => new Date(t).toISOString();

export function decide(i: Inspection, now: number, p: RotationPolicy): Decision {
  if (i.kind === 'missing') return { action: 'all', reason: i.problem, corrupt: false };
  if (i.kind === 'invalid') return { action: 'all', reason: i.problem, corrupt: true };
  const f = i.facts;
  if (!f.caIsCA) return { action: 'all', reason: 'ca.crt is not a CA certificate', corrupt: true };
  if (!(f.caNotBefore <= now)) return { action: 'all', reason: `the CA is not valid before ${iso(f.caNotBefore)}`, corrupt: true };
  if (!(f.caNotAfter - p.renewBeforeMs > now)) return { action: 'all', reason: `the CA expires at ${iso(f.caNotAfter)}`, corrupt: false };
  if (!f.servingSignedByCA) return { action: 'serving', reason: 'tls.crt is not signed by ca.crt' };
  const missing = p.dnsNames.filter((n) => !f.servingDnsNames.includes(n));
  if (missing.length > 0) return { action: 'serving', reason: `tls.crt lacks the DNS name${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  if (!(f.servingNotBefore <= now)) return { action: 'serving', reason: `tls.crt is not valid before ${iso(f.servingNotBefore)}` };
  if (!(f.servingNotAfter - p.renewBeforeMs > now)) return { action: 'serving', reason: `tls.crt expires at ${iso(f.servingNotAfter)}` };
  return { action: 'keep', nextCheckAt: Math.min(f.caNotAfter, f.servingNotAfter) - p.renewBeforeMs };
}

/** Validity window of a new certificate: backdated a little for clocks slightly behind ours. */
export function validity(now: number, lifetimeMs: number, capAt?: number): { notBefore: Date; notAfter: Date } {
  const backdate = Math.min(5 * 60_000, Math.floor(lifetimeMs / 10));
  const end = capAt === undefined ? now + lifetimeMs : Math.min(capAt, now + lifetimeMs);
  return { notBefore: new Date(now - backdate), notAfter: new Date(end) };
}

/** The service DNS names the serving certificate carries. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/** The Secret's data keys (those of MetalLB's cert-controller and of a cert-manager Secret). */
export const SECRET_KEYS = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

export interface JsonPatchOp {
  op: 'add' | 'test';
  path: string;
  value: unknown;
}

interface WebhookEntry {
  clientConfig?: { caBundle?: string };
}

/**
 * The JSON patch that sets every webhook's `clientConfig.caBundle` to `caPem` (base64), guarded
 * by the object's resourceVersion; null when every webhook already carries it.
 */
export function caBundlePatch(obj: { metadata: { resourceVersion?: string }; webhooks?: WebhookEntry[] }, caPem: string): JsonPatchOp[] | null {
  const want = Buffer.from(caPem, 'utf8').toString('base64');
  const ops: JsonPatchOp[] = [];
  (obj.webhooks ?? []).forEach((w, i) => {
    if (w.clientConfig?.caBundle === want) return;
    ops.push(w.clientConfig ? { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want } : { op: 'add', path: `/webhooks/${i}/clientConfig`, value: { caBundle: want } });
  });
  if (ops.length === 0) return null;
  return [{ op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion ?? '' }, ...ops];
}

/** How long to sleep before the next check: until `nextCheckAt`, at least 1 s, at most `maxMs`. */
export function nextCheckDelay(now: number, nextCheckAt: number, maxMs: number): number {
  return Math.max(1000, Math.min(maxMs, nextCheckAt - now));
}

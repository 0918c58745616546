// The webhook's serving certificate without cert-manager, as MetalLB's controller does it with
// cert-controller: a CA and a serving certificate live in one Secret (keys ca.crt, ca.key,
// tls.crt, tls.key); the leader creates them when the Secret is missing, replaces them when they
// are unreadable, do not match, lack the Service's DNS names or come close to expiry
// (policy.ts), and puts the CA into the caBundle of the ValidatingWebhookConfiguration(s).
// Every replica (leader or not) serves tls.crt/tls.key from that Secret as soon as it appears and
// again whenever it changes (its informer), so rotation needs no restart.
// With `rotation: null` (cert-manager issues the Secret and injects the caBundle) the Secret is
// only read.

import type { Logger } from 'pino';
import { R, isConflict, isNotFound, keyOf } from '../client.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../client.ts';
import type { EventRecorder } from '../events.ts';
import { Informer } from '../informer.ts';
import { secretValue } from '../../model/secret.ts';
import { SECRET_KEYS, caBundlePatch, decide, nextCheckDelay, serviceDnsNames, validity } from './policy.ts';
import type { Inspection } from './policy.ts';
import { checkServingPair, createCA, createServing, fingerprint, inspect } from './x509.ts';
import type { CertBundle, KeyPair } from './x509.ts';

export const DEFAULT_WEBHOOK_SECRET = 'metallb-ts-webhook-cert';
export const DEFAULT_WEBHOOK_SERVICE = 'metallb-ts-webhook';
export const DEFAULT_WEBHOOK_CONFIGURATION = 'metallb-ts-webhook';
const DAY = 86_400_000;
export const DEFAULT_CA_VALIDITY_MS = 3650 * DAY;
export const DEFAULT_CERT_VALIDITY_MS = 365 * DAY;
export const DEFAULT_RENEW_BEFORE_MS = 90 * DAY;
/** MetalLB's cert-controller looks again every 12 hours. */
const MAX_CHECK_INTERVAL_MS = 12 * 3_600_000;
const ORGANIZATION = 'metallb-ts';
/** cert-manager's CA injection: when a webhook configuration carries it, cert-manager owns the certificates. */
const CERT_MANAGER_INJECT = 'cert-manager.io/inject-ca-from';

export const VALIDATING_WEBHOOKS: ResourceRef = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'validatingwebhookconfigurations',
  kind: 'ValidatingWebhookConfiguration',
  namespaced: false,
};

export interface RotationOptions {
  /** The webhook Service: the certificate is for `<service>.<namespace>.svc[.cluster.local]`. */
  serviceName: string;
  /** ValidatingWebhookConfigurations whose webhooks get the CA as caBundle. */
  webhookConfigurations: string[];
  caValidityMs: number;
  certValidityMs: number;
  /** Replace a certificate this long before it expires. */
  renewBeforeMs: number;
}

export interface WebhookCertsOptions {
  client: KubeClient;
  namespace: string;
  secretName: string;
  /** null: someone else (cert-manager) writes the Secret and the caBundle; only serve it. */
  rotation: RotationOptions | null;
  logger: Logger;
  /** Called with every new usable tls.crt/tls.key of the Secret (the webhook server loads it). */
  onCertificate: (pair: KeyPair) => Promise<void>;
  events?: EventRecorder;
  now?: () => number;
}

type SecretObj = KubeObject & { type?: string; data?: Record<string, string> };
type WebhookConfiguration = KubeObject & { webhooks?: { clientConfig?: { caBundle?: string } }[] };

function bundleOf(s: SecretObj): CertBundle {
  // '' when absent or not valid base64: inspect() then reports the bundle as missing/unusable
  const t = (k: string): string => {
    const v = secretValue({ metadata: s.metadata, data: s.data ?? {} }, k);
    return 'value' in v ? v.value : '';
  };
  return { ca: { cert: t(SECRET_KEYS.caCert), key: t(SECRET_KEYS.caKey) }, serving: { cert: t(SECRET_KEYS.cert), key: t(SECRET_KEYS.key) } };
}

function dataOf(b: CertBundle): Record<string, string> {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return { [SECRET_KEYS.caCert]: b64(b.ca.cert), [SECRET_KEYS.caKey]: b64(b.ca.key), [SECRET_KEYS.cert]: b64(b.serving.cert), [SECRET_KEYS.key]: b64(b.serving.key) };
}

export class WebhookCerts {
  /** Watches of the ValidatingWebhookConfigurations (a re-created one gets its caBundle again). */
  readonly informers: Informer<KubeObject>[];
  private secrets?: Informer<KubeObject>;
  private requeue: () => void = () => undefined;
  private timer?: NodeJS.Timeout;
  /** Our last Secret write, and the resourceVersion it replaced (the cache may still show that one). */
  private written?: { before: string; after: SecretObj };
  private rejected = '';
  private certManagerNoted = false;
  private readonly now: () => number;

  constructor(private readonly o: WebhookCertsOptions) {
    this.now = o.now ?? Date.now;
    this.informers = (o.rotation?.webhookConfigurations ?? []).map(
      (name) => new Informer<KubeObject>(o.client, VALIDATING_WEBHOOKS, { logger: o.logger, fieldSelector: `metadata.name=${name}` }),
    );
    for (const inf of this.informers) inf.addHandler({ add: () => this.requeue(), update: () => this.requeue() });
  }

  private get key(): string {
    return `${this.o.namespace}/${this.o.secretName}`;
  }

  /** Wires the controller's Secret informer (the Secret's namespace) and its work queue. */
  attach(secrets: Informer<KubeObject>, requeue: () => void): void {
    this.secrets = secrets;
    this.requeue = requeue;
    const changed = (s: KubeObject): void => {
      if (keyOf(s) !== this.key) return;
      this.serve(s as SecretObj);
      this.requeue();
    };
    secrets.addHandler({
      add: changed,
      update: (_a, b) => changed(b),
      delete: (s) => {
        if (keyOf(s) === this.key) this.requeue();
      },
    });
  }

  start(): void {
    for (const inf of this.informers) inf.start();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Hands a usable tls.crt/tls.key of the Secret to the webhook server. */
  private serve(s: SecretObj): void {
    const pair = bundleOf(s).serving;
    const problem = pair.cert === '' || pair.key === '' ? 'no tls.crt/tls.key yet' : checkServingPair(pair);
    if (problem) {
      const rv = s.metadata.resourceVersion ?? '';
      if (this.rejected !== rv) this.o.logger.warn({ secret: this.key, problem }, 'webhook: the certificate Secret is not usable; keeping the current certificate');
      this.rejected = rv;
      return;
    }
    this.o.onCertificate(pair).then(
      () => this.o.logger.info({ secret: this.key, fingerprint: fingerprint(pair.cert) }, 'webhook: serving the certificate from the Secret'),
      (e: unknown) => this.o.logger.error({ secret: this.key, err: (e as Error).message }, 'webhook: cannot serve the certificate of the Secret'),
    );
  }

  /** The Secret as it is now: our own last write while the cache has not caught up with it. */
  private current(): SecretObj | undefined {
    const cached = this.secrets?.get(this.key) as SecretObj | undefined;
    const w = this.written;
    if (w && (cached?.metadata.resourceVersion ?? '') === w.before) return w.after;
    return cached;
  }

  /**
   * Leader only: renews what the policy says needs renewing, writes the Secret, puts the CA into
   * every webhook configuration. Throws on API errors (the work queue retries with backoff).
   */
  async reconcile(): Promise<void> {
    const r = this.o.rotation;
    if (!r) return;
    if (this.timer) clearTimeout(this.timer);
    // A configuration we cannot read (RBAC) must not stop the certificate: it is written anyway
    // and the error thrown at the end, so the work queue retries the caBundle.
    let readError: unknown;
    const configs = await Promise.all(
      r.webhookConfigurations.map((name) =>
        this.o.client.get<WebhookConfiguration>(VALIDATING_WEBHOOKS, undefined, name).catch((e: unknown) => {
          readError = e;
          return undefined;
        }),
      ),
    );
    const managed = configs.find((c) => c?.metadata.annotations?.[CERT_MANAGER_INJECT] !== undefined);
    if (managed) {
      if (!this.certManagerNoted) this.o.logger.info({ webhookConfiguration: managed.metadata.name, secret: this.key }, `webhook: ${CERT_MANAGER_INJECT} is set; cert-manager keeps the certificate Secret and the caBundle`);
      this.certManagerNoted = true;
      return;
    }
    this.certManagerNoted = false;
    const now = this.now();
    const dnsNames = serviceDnsNames(r.serviceName, this.o.namespace);
    const secret = this.current();
    const stored = secret ? bundleOf(secret) : undefined;
    const inspection: Inspection = !secret
      ? { kind: 'missing', problem: `Secret ${this.key} does not exist` }
      : stored && stored.ca.cert === '' && stored.serving.cert === '' && stored.ca.key === '' && stored.serving.key === ''
        ? { kind: 'missing', problem: `Secret ${this.key} holds no certificate yet` }
        : inspect(stored as CertBundle);
    const d = decide(inspection, now, { dnsNames, renewBeforeMs: r.renewBeforeMs });
    let bundle: CertBundle;
    if (d.action === 'keep') {
      bundle = stored as CertBundle;
    } else {
      const ca = d.action === 'all' ? await createCA({ commonName: 'metallb-ts-webhook-ca', organization: ORGANIZATION, ...validity(now, r.caValidityMs) }) : (stored as CertBundle).ca;
      const caNotAfter = d.action === 'all' ? undefined : inspection.kind === 'valid' ? inspection.facts.caNotAfter : undefined;
      const serving = await createServing(ca, { dnsNames, organization: ORGANIZATION, ...validity(now, r.certValidityMs, caNotAfter) });
      bundle = { ca, serving };
      await this.write(secret, bundle);
      const what = d.action === 'all' ? 'new CA and serving certificate' : 'new serving certificate';
      const log = { secret: this.key, reason: d.reason, fingerprint: fingerprint(serving.cert) };
      if (d.action === 'all' && d.corrupt) {
        this.o.logger.warn(log, `webhook: the certificate Secret is unusable; wrote a ${what}`);
        void this.o.events?.emit({ kind: 'Secret', apiVersion: 'v1', name: this.o.secretName, namespace: this.o.namespace }, 'Warning', 'WebhookCertificateInvalid', `${d.reason}: wrote a ${what}`);
      } else {
        this.o.logger.info(log, `webhook: wrote a ${what}`);
        void this.o.events?.emit({ kind: 'Secret', apiVersion: 'v1', name: this.o.secretName, namespace: this.o.namespace }, 'Normal', 'WebhookCertificateRotated', `${d.reason}: wrote a ${what}`);
      }
      this.serve({ metadata: { name: this.o.secretName, namespace: this.o.namespace }, data: dataOf(bundle) });
    }
    for (const vwc of configs) if (vwc) await this.injectCA(vwc, bundle.ca.cert);
    const absent = r.webhookConfigurations.filter((_n, i) => !configs[i]);
    if (absent.length > 0) this.o.logger.debug({ webhookConfigurations: absent }, 'webhook: no such ValidatingWebhookConfiguration yet; the caBundle goes in when it appears');
    if (readError !== undefined) throw readError;
    const next = d.action === 'keep' ? d.nextCheckAt : now + MAX_CHECK_INTERVAL_MS;
    this.timer = setTimeout(() => this.requeue(), nextCheckDelay(now, next, MAX_CHECK_INTERVAL_MS));
    this.timer.unref();
  }

  private async write(secret: SecretObj | undefined, bundle: CertBundle): Promise<void> {
    const data = dataOf(bundle);
    if (!secret) {
      const created = await this.o.client.create<SecretObj>(R.secrets, {
        metadata: { name: this.o.secretName, namespace: this.o.namespace, labels: { 'app.kubernetes.io/name': 'metallb-ts', 'app.kubernetes.io/component': 'controller' } },
        type: 'kubernetes.io/tls',
        data,
      });
      this.written = { before: '', after: created };
      return;
    }
    // update, not patch: the resourceVersion makes a concurrent writer's change a 409 (retried)
    const updated = await this.o.client.update<SecretObj>(R.secrets, { ...secret, data: { ...(secret.data ?? {}), ...data } });
    this.written = { before: secret.metadata.resourceVersion ?? '', after: updated };
  }

  private async injectCA(vwc: WebhookConfiguration, caPem: string): Promise<void> {
    const name = vwc.metadata.name;
    const patch = caBundlePatch(vwc, caPem);
    if (!patch) return;
    try {
      await this.o.client.patch(VALIDATING_WEBHOOKS, undefined, name, patch, { type: 'json' });
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) throw new Error(`ValidatingWebhookConfiguration ${name} changed meanwhile; retrying`);
      throw e;
    }
    this.o.logger.info({ webhookConfiguration: name, webhooks: patch.length - 1 }, 'webhook: caBundle updated');
  }
}

// Validating admission webhook for the metallb.io kinds, served by the controller over HTTPS.
// A request is judged with exactly the `validate` rules and messages: the configuration as the
// controller sees it, with the incoming object added / replaced / removed, goes through
// buildConfig; the request is denied when that produces an error the current configuration
// does not already have (so an already-broken object elsewhere does not block every change).
// Certificates, two sources: in memory (`load`: the controller reads them from the webhook
// Secret it keeps itself, see src/kube/webhookcert/, or from cert-manager's Secret) or tls.crt /
// tls.key files in a directory (`certDir`, re-read when they change). Either way a new
// certificate replaces the old one in the running server: rotation needs no restart.

import https from 'node:https';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildConfig, loadedFromApiObject } from '../config/build.ts';
import type { Secret } from '../model/objects.ts';
import type { KubeObject } from './client.ts';
import { formatDiagnostics } from './status.ts';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  name?: string;
  namespace?: string;
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  warnings?: string[];
}

export const CONFIG_KINDS = new Set(['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement', 'BFDProfile', 'Community']);

function identity(o: Record<string, unknown> | KubeObject): string {
  const m = (o['metadata'] ?? {}) as { name?: string; namespace?: string };
  return `${String(o['kind'])}/${m.namespace ?? ''}/${m.name ?? ''}`;
}

/**
 * Decides one AdmissionRequest. `current` are the metallb.io objects in force (each with kind
 * and apiVersion set), `secrets` the Secrets of the namespace.
 */
export function review(req: AdmissionRequest, current: readonly KubeObject[], secrets: readonly Secret[]): AdmissionResponse {
  const kind = req.kind?.kind ?? '';
  if (!CONFIG_KINDS.has(kind) || (req.kind?.group ?? 'metallb.io') !== 'metallb.io') return { uid: req.uid, allowed: true };
  const before = current.map((o) => loadedFromApiObject(o as Record<string, unknown>));
  let after: Record<string, unknown>[] = current.map((o) => o as Record<string, unknown>);
  const target = req.operation === 'DELETE' ? req.oldObject : req.object;
  if (!target) return { uid: req.uid, allowed: true };
  const obj: Record<string, unknown> = {
    ...target,
    kind,
    apiVersion: typeof target['apiVersion'] === 'string' ? target['apiVersion'] : `metallb.io/${req.kind?.version ?? 'v1beta1'}`,
  };
  const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
  if (req.namespace && meta['namespace'] === undefined) obj['metadata'] = { ...meta, namespace: req.namespace };
  const id = identity(obj);
  after = after.filter((o) => identity(o) !== id);
  if (req.operation !== 'DELETE') after.push(obj);
  const prior = buildConfig(before, { secrets: [...secrets] });
  const old = new Set(prior.errors.map((d) => formatDiagnostics([d])));
  const oldWarnings = new Set(prior.warnings.map((d) => formatDiagnostics([d])));
  const res = buildConfig(after.map((o) => loadedFromApiObject(o)), { secrets: [...secrets] });
  const fresh = res.errors.filter((d) => !old.has(formatDiagnostics([d])));
  // warnings about this object, and references this change leaves dangling elsewhere (deleting a
  // pool that an advertisement still names is allowed, as in MetalLB, with a warning)
  const warnings = res.warnings
    .filter((w) => (w.kind === kind && w.name === String(meta['name'] ?? '')) || (w.code === 'missing-reference' && !oldWarnings.has(formatDiagnostics([w]))))
    .map((w) => formatDiagnostics([w]));
  if (fresh.length === 0) return { uid: req.uid, allowed: true, ...(warnings.length ? { warnings } : {}) };
  return {
    uid: req.uid,
    allowed: false,
    status: { code: 422, reason: 'Invalid', message: formatDiagnostics(fresh) },
  };
}

export interface WebhookServerOptions {
  host: string;
  port: number;
  /** Files mode: tls.crt + tls.key in this directory. Without it, certificates come from `load`. */
  certDir?: string;
  logger: Logger;
  decide: (req: AdmissionRequest) => AdmissionResponse;
  /** How often the certificate files are checked for rotation (ms). */
  reloadMs?: number;
}

export class WebhookServer {
  private server?: https.Server;
  private stamp = '';
  private timer?: NodeJS.Timeout;
  url = '';

  constructor(private readonly o: WebhookServerOptions) {}

  private servedCert = '';

  private files(): { cert: string; key: string } {
    const dir = this.o.certDir ?? '.';
    return { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
  }

  /** True when the certificate files exist. */
  hasCertificate(): boolean {
    const f = this.files();
    return this.o.certDir !== undefined && existsSync(f.cert) && existsSync(f.key);
  }

  /** The serving certificate in use (PEM; '' before the server runs). */
  get certificate(): string {
    return this.servedCert;
  }

  /** Listening with a certificate (readiness). */
  get serving(): boolean {
    return this.server !== undefined;
  }

  /**
   * Serves this certificate from now on: starts the server on the first call, replaces the TLS
   * context of the running server afterwards (open connections keep theirs). Throws when the
   * pair cannot be used (the previous one stays in use).
   */
  load(pair: { cert: string; key: string }): Promise<void> {
    const next = this.loading.then(() => this.apply(pair));
    this.loading = next.catch(() => undefined);
    return next;
  }

  private loading: Promise<void> = Promise.resolve();

  private async apply(pair: { cert: string; key: string }): Promise<void> {
    if (pair.cert === this.servedCert) return;
    if (!this.server) {
      await this.listen(pair);
      return;
    }
    this.server.setSecureContext({ cert: pair.cert, key: pair.key });
    this.servedCert = pair.cert;
  }

  private fingerprint(): string {
    const f = this.files();
    return [f.cert, f.key].map((p) => `${statSync(p).mtimeMs}:${statSync(p).size}`).join('|');
  }

  /** Files mode: starts with the files of `certDir` and re-reads them every `reloadMs`. */
  async start(): Promise<void> {
    const f = this.files();
    this.stamp = this.fingerprint();
    await this.listen({ cert: readFileSync(f.cert, 'utf8'), key: readFileSync(f.key, 'utf8') });
    this.timer = setInterval(() => this.reload(), this.o.reloadMs ?? 30000);
    this.timer.unref();
  }

  private async listen(pair: { cert: string; key: string }): Promise<void> {
    const server = https.createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = (code: number, body: unknown): void => {
          const text = JSON.stringify(body);
          res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        };
        if (req.method !== 'POST') return reply(405, { error: 'POST an AdmissionReview' });
        let reviewObj: { apiVersion?: string; request?: AdmissionRequest };
        try {
          reviewObj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof reviewObj;
        } catch (e) {
          return reply(400, { error: `invalid JSON: ${(e as Error).message}` });
        }
        const request = reviewObj.request;
        if (!request || typeof request.uid !== 'string') return reply(400, { error: 'AdmissionReview without request.uid' });
        let response: AdmissionResponse;
        try {
          response = this.o.decide(request);
        } catch (e) {
          this.o.logger.error({ err: (e as Error).message }, 'webhook: validation failed');
          response = { uid: request.uid, allowed: false, status: { code: 500, message: `internal error: ${(e as Error).message}` } };
        }
        reply(200, { apiVersion: reviewObj.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    this.servedCert = pair.cert;
    const a = server.address() as AddressInfo;
    this.url = `https://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /** Re-reads the certificate when its files changed (cert-manager rotation). */
  reload(): boolean {
    if (!this.server || !this.hasCertificate()) return false;
    const stamp = this.fingerprint();
    if (stamp === this.stamp) return false;
    const f = this.files();
    try {
      const pair = { cert: readFileSync(f.cert, 'utf8'), key: readFileSync(f.key, 'utf8') };
      this.server.setSecureContext(pair);
      this.servedCert = pair.cert;
      this.stamp = stamp;
      this.o.logger.info('webhook: serving certificate reloaded');
      return true;
    } catch (e) {
      this.o.logger.error({ err: (e as Error).message }, 'webhook: cannot load the new certificate; keeping the old one');
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.loading;
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

// The Kubernetes controller: assigns IPs to LoadBalancer Services with the Allocator and writes
// them into the Service status. Informers run on every replica (warm caches); only the Lease
// holder reconciles and writes. On becoming leader it rebuilds the allocator from scratch:
// first every assignment recorded in Service status (+ the ip-allocated-from-pool annotation)
// is restored, and only then are new addresses handed out, so a restart or a fail-over never
// moves a working IP.
// Throughput and API economy: allocation decisions are made synchronously on the single event
// loop (new Services in sorted key order when the allocator is built, so the result does not
// depend on list order), while the API writes run in `workers` concurrent reconciles (the work
// queue never runs one key twice at once, so per-Service ordering holds). A new Service costs
// ONE write: its status and the ip-allocated-from-pool annotation in one patch to
// services/status (kube-apiserver's Service status strategy keeps metadata changes; a server
// that drops the annotation is detected from the answer and gets a separate annotation patch
// from then on), plus one event posted in the background at lower priority than the Service
// writes; a Service whose status already matches costs nothing, so a restart writes nothing;
// pool status is compared with the cached IPAddressPool and written only on change.

import type { Logger } from 'pino';
import { Allocator, ANN_ALLOCATED_FROM_POOL } from '../allocator/index.ts';
import type { Assignment } from '../allocator/index.ts';
import { buildConfig, loadedFromApiObject } from '../config/build.ts';
import type { Config, Diagnostic } from '../config/types.ts';
import type { Namespace, Secret, Service } from '../model/objects.ts';
import { ingressIPs } from '../model/service.ts';
import { CONFIG_RESOURCES, R, apiVersion, isNotFound, keyOf, specOrLabelsChanged, splitKey } from './client.ts';
import type { KubeClient, KubeObject } from './client.ts';
import { compactService } from './compact.ts';
import { EventReason, EventRecorder } from './events.ts';
import { Informer, waitForCacheSync } from './informer.ts';
import { LeaderElector } from './lease.ts';
import { WorkQueue, runWorker } from './queue.ts';
import { clampCount, formatDiagnostics, publishConfigurationState } from './status.ts';
import type { PoolCounts } from './status.ts';
import type { KubeMetrics } from './metrics.ts';
import type { PoolFigures } from '../observability/metrics.ts';
import { MEMBERLIST_SECRET_NAME, ensureMemberlistSecret } from './memberlist.ts';
import { review } from './webhook.ts';
import type { AdmissionRequest, AdmissionResponse } from './webhook.ts';
import type { WebhookCerts } from './webhookcert/rotator.ts';

/** Concurrent Service reconciles (API writes in flight) unless told otherwise (docs/kubernetes.md). */
export const DEFAULT_WORKERS = 16;

export interface ControllerOptions {
  client: KubeClient;
  /** Where the metallb.io objects, the Lease and ConfigurationState live. */
  namespace: string;
  identity: string;
  logger: Logger;
  loadBalancerClass?: string;
  /** Default true. */
  leaderElection?: boolean;
  leaseName?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  resyncMs?: number;
  metrics?: KubeMetrics;
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * The speakers' Layer 2 memberlist Secret (in `namespace`, key `secretkey`): the leader creates
   * it with a random key when absent, never overwrites it. Default metallb-memberlist; set
   * `createMemberlistSecret: false` to leave it to someone else.
   */
  memberlistSecretName?: string;
  /** Default true. */
  createMemberlistSecret?: boolean;
  /** Concurrent reconciles (API writes in flight). Default DEFAULT_WORKERS (16). */
  workers?: number;
  /** Pool status is written at most this often (ms). Default 250. */
  poolStatusIntervalMs?: number;
  /**
   * The webhook's certificate Secret (src/kube/webhookcert/): every replica serves it, the leader
   * keeps it (and the caBundle) current.
   */
  webhookCerts?: WebhookCerts;
}

const CONFIG_KEY = '#config';
const POOLS_KEY = '#pools';
const SVC = 'svc:';
const MEMBERLIST_KEY = '#memberlist';
const WEBHOOK_CERT_KEY = '#webhookcert';

type Svc = Service & KubeObject;


function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class Controller {
  private readonly services: Informer<Svc>;
  private readonly namespaces: Informer<KubeObject>;
  private readonly secrets: Informer<KubeObject>;
  private readonly configInformers: Informer<KubeObject>[];
  private readonly queue = new WorkQueue();
  private readonly stopping = new AbortController();
  private readonly events: EventRecorder;
  private readonly elector?: LeaderElector;
  private leading = false;
  private allocator?: Allocator;
  private config?: Config;
  private configErrors: Diagnostic[] = [];
  private configSynced = false;
  private poolTimer?: NodeJS.Timeout;
  /** Pool status this leader wrote (the informer's copy may lag behind). */
  private poolWritten = new Map<string, PoolCounts>();
  private workers: Promise<void>[] = [];
  /** Reconciles running now (events wait for them, see the EventRecorder's yieldTo). */
  private reconciling = 0;
  /** The ConfigurationState status last written or read (skips the GET and no-op writes). */
  private publishedState?: string | undefined;
  /** Services whose allocation failed: retried whenever an address is freed. */
  private failed = new Set<string>();
  /**
   * What we last wrote to a Service and the resourceVersions of the object as we knew it then and
   * as our own patches returned it: while the cache still shows one of those versions, our write
   * is not visible yet and writing again would be a duplicate (the annotation patch's watch
   * event can arrive before the status patch's). A version from anyone else means write.
   */
  private readonly pending = new Map<string, { ips: string[]; pool: string; rvs: Set<string>; before: string }>();
  /**
   * Whether the API server keeps an annotation sent with a Service status write (kube-apiserver
   * does): undefined until the first such write answers.
   */
  private statusKeepsMetadata: boolean | undefined;

  constructor(private readonly o: ControllerOptions) {
    const common = {
      logger: o.logger,
      ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(o.metrics ? { onUpdate: () => o.metrics?.k8sUpdates.inc() } : {}),
    };
    // compact copies: at 10k Services the full objects are most of the controller's memory
    this.services = new Informer<Svc>(o.client, R.services, { ...common, transform: compactService });
    this.namespaces = new Informer<KubeObject>(o.client, R.namespaces, common);
    this.secrets = new Informer<KubeObject>(o.client, R.secrets, { ...common, namespace: o.namespace });
    this.configInformers = CONFIG_RESOURCES.map((r) => new Informer<KubeObject>(o.client, r, { ...common, namespace: o.namespace }));
    // Events yield to Service writes: while reconciles run or wait, events wait (at most 30 s).
    this.events = new EventRecorder(o.client, 'metallb-controller', o.identity, o.logger, undefined, {
      yieldTo: () => this.reconciling > 0 || this.queue.len() > 0,
      ...(o.metrics ? { onLost: (reason) => o.metrics?.eventsDropped.inc({ reason }) } : {}),
    });

    const svcKey = (s: Svc): void => this.queue.add(SVC + keyOf(s));
    this.services.addHandler({ add: svcKey, update: (_a, b) => (this.isOwnEcho(b) ? undefined : svcKey(b)), delete: svcKey });
    const cfg = (): void => this.queue.add(CONFIG_KEY);
    const cfgUpdate = (a: KubeObject, b: KubeObject): void => {
      if (specOrLabelsChanged(a, b)) cfg();
    };
    for (const inf of this.configInformers) inf.addHandler({ add: cfg, update: cfgUpdate, delete: cfg });
    for (const inf of [this.secrets, this.namespaces]) inf.addHandler({ add: cfg, update: cfg, delete: cfg });
    // The memberlist Secret deleted: the leader creates a new one.
    this.secrets.addHandler({
      delete: (s) => {
        if (s.metadata.name === this.memberlistSecretName) this.queue.add(MEMBERLIST_KEY);
      },
    });

    o.webhookCerts?.attach(this.secrets, () => this.queue.add(WEBHOOK_CERT_KEY));

    if (o.leaderElection !== false) {
      this.elector = new LeaderElector({
        client: o.client,
        namespace: o.namespace,
        name: o.leaseName ?? 'metallb-ts-controller',
        identity: o.identity,
        ...(o.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}),
        ...(o.renewDeadlineSeconds !== undefined ? { renewDeadlineSeconds: o.renewDeadlineSeconds } : {}),
        ...(o.retryPeriodSeconds !== undefined ? { retryPeriodSeconds: o.retryPeriodSeconds } : {}),
        onStartedLeading: () => this.startLeading(),
        onStoppedLeading: () => this.stopLeading(),
        onNewLeader: (id) => o.logger.info({ leader: id }, 'leader observed'),
        logger: o.logger,
      });
    }
  }

  private get memberlistSecretName(): string {
    return this.o.memberlistSecretName ?? MEMBERLIST_SECRET_NAME;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Ready once every informer has synced (config loaded, valid or not). */
  get ready(): boolean {
    return this.allInformers().every((i) => i.hasSynced) && this.configSynced;
  }

  /** Leader with a built allocator and nothing queued, delayed or in flight (tests, benchmarks). */
  get settled(): boolean {
    return this.leading && this.allocator !== undefined && this.queue.idle() && this.poolTimer === undefined && this.events.pending === 0;
  }

  private allInformers(): Informer<KubeObject>[] {
    return [this.services as unknown as Informer<KubeObject>, this.namespaces, this.secrets, ...this.configInformers];
  }

  async start(): Promise<void> {
    for (const inf of this.allInformers()) inf.start();
    // not waited for: without them (RBAC) the caBundle is still written on every other trigger
    this.o.webhookCerts?.start();
    // No reconcile before every cache is complete: a partial cache (advertisements listed before
    // their pools, Services before the config) would publish a spurious Invalid state or
    // re-allocate addresses. Keys queued meanwhile are de-duplicated and run afterwards.
    if (!(await waitForCacheSync(this.allInformers(), { signal: this.stopping.signal }))) return;
    const n = Math.max(1, this.o.workers ?? DEFAULT_WORKERS);
    for (let i = 0; i < n; i++) {
      this.workers.push(
        runWorker(
          this.queue,
          async (key) => {
            this.reconciling++;
            try {
              await this.reconcile(key);
            } finally {
              this.reconciling--;
              this.events.kick();
            }
          },
          (key, err, delay) => {
            this.o.metrics?.k8sUpdateErrors.inc();
            this.o.logger.warn({ key, err: (err as Error).message, retryInMs: delay }, 'reconcile failed, retrying');
          },
        ),
      );
    }
    if (this.elector) this.elector.start();
    else this.startLeading();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.elector?.stop();
    this.leading = false;
    this.queue.shutDown();
    if (this.poolTimer) clearTimeout(this.poolTimer);
    await Promise.all(this.allInformers().map((i) => i.stop()));
    await this.o.webhookCerts?.stop();
    await Promise.all(this.workers);
    await this.events.flush();
  }

  status(): Record<string, unknown> {
    return {
      leader: this.leading,
      settled: this.settled,
      configValid: this.configErrors.length === 0,
      configErrors: this.configErrors.map((d) => formatDiagnostics([d])),
      assignments: this.allocator?.snapshot() ?? {},
    };
  }

  /** Decides a validating-webhook request against the configuration this replica sees. */
  admission(req: AdmissionRequest): AdmissionResponse {
    const current = this.configInformers.flatMap((inf) =>
      inf.list().map((o) => ({ ...o, apiVersion: o.apiVersion ?? apiVersion(inf.resource), kind: o.kind ?? inf.resource.kind })),
    );
    return review(req, current, this.secrets.list() as unknown as Secret[]);
  }

  private startLeading(): void {
    this.leading = true;
    this.allocator = undefined; // rebuilt from the API state, never from a stale memory
    this.publishedState = undefined;
    this.poolWritten.clear();
    this.queue.add(CONFIG_KEY);
    this.queue.add(MEMBERLIST_KEY);
    this.queue.add(WEBHOOK_CERT_KEY);
  }

  private stopLeading(): void {
    this.leading = false;
    this.allocator = undefined;
  }

  private async reconcile(key: string): Promise<void> {
    if (key === CONFIG_KEY) return this.reconcileConfig();
    if (!this.leading) return;
    if (key === POOLS_KEY) return this.reconcilePools();
    if (key === MEMBERLIST_KEY) return this.reconcileMemberlist();
    if (key === WEBHOOK_CERT_KEY) return this.o.webhookCerts?.reconcile();
    if (key.startsWith(SVC)) return this.reconcileService(key.slice(SVC.length));
  }

  private namespaceList(): Namespace[] {
    return this.namespaces.list() as unknown as Namespace[];
  }

  private async reconcileConfig(): Promise<void> {
    const objects = this.configInformers.flatMap((inf) =>
      inf.list().map((o) => loadedFromApiObject({ ...o, apiVersion: o.apiVersion ?? apiVersion(inf.resource), kind: o.kind ?? inf.resource.kind })),
    );
    const secrets = this.secrets.list() as unknown as Secret[];
    const res = buildConfig(objects, { secrets });
    this.configSynced = true;
    this.configErrors = res.errors;
    const valid = res.errors.length === 0 && res.config !== undefined;
    if (res.errors.length > 0) {
      this.o.logger.error({ errors: formatDiagnostics(res.errors) }, 'configuration is invalid; keeping the last valid one');
    }
    this.o.metrics?.configStale.set(valid ? 0 : 1);
    if (valid) this.o.metrics?.configLoaded.set(1);
    if (!this.leading) return;
    this.publishedState = await publishConfigurationState(
      this.o.client,
      this.o.namespace,
      'controller',
      { 'app.kubernetes.io/component': 'controller' },
      res.errors,
      this.o.logger,
      res.warnings,
      this.publishedState,
    );
    if (!valid || !res.config) return;
    this.config = res.config;
    const opts = { ...(this.o.loadBalancerClass !== undefined ? { loadBalancerClass: this.o.loadBalancerClass } : {}), namespaces: this.namespaceList() };
    if (!this.allocator) {
      const alloc = new Allocator(res.config, opts);
      // Recovery: restore every assignment recorded in the API before assigning anything new.
      let restored = 0;
      const svcs = this.services.list().sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
      for (const svc of svcs) {
        const ips = ingressIPs(svc);
        if (ips.length === 0 || !alloc.manages(svc)) continue;
        const pool = svc.metadata.annotations?.[ANN_ALLOCATED_FROM_POOL] ?? '';
        if (alloc.restore(keyOf(svc), svc, { ips, pool })) restored++;
        else this.o.logger.warn({ service: keyOf(svc), ips }, 'recorded assignment is no longer valid; will reassign');
      }
      // Then every Service still without an address, in key order: the same cluster state gives
      // the same addresses whatever order the lists arrived in and however many workers run.
      let assigned = 0;
      for (const svc of svcs) {
        if (!alloc.manages(svc) || alloc.get(keyOf(svc))) continue;
        if (alloc.assign(svc, ingressIPs(svc), keyOf(svc)).assignment) assigned++;
      }
      this.allocator = alloc;
      this.o.logger.info({ restored, assigned }, 'allocator state recovered from Service status');
    } else {
      this.allocator.setNamespaces(opts.namespaces);
      const released = this.allocator.setConfig(res.config);
      if (released.length > 0) this.o.logger.info({ released }, 'assignments released by the new configuration');
    }
    for (const svc of this.services.list()) this.queue.add(SVC + keyOf(svc));
    this.schedulePools();
  }

  /** Pool status follows allocation changes, throttled (one write burst per interval at most). */
  private schedulePools(): void {
    if (this.poolTimer || !this.leading) return;
    this.poolTimer = setTimeout(() => {
      this.poolTimer = undefined;
      this.queue.add(POOLS_KEY);
    }, this.o.poolStatusIntervalMs ?? 250);
    this.poolTimer.unref?.();
  }

  /** Leader only: creates the speakers' memberlist Secret when it does not exist (never overwrites). */
  private async reconcileMemberlist(): Promise<void> {
    if (this.o.createMemberlistSecret === false) return;
    const name = this.memberlistSecretName;
    const cached = this.secrets.get(`${this.o.namespace}/${name}`) !== undefined;
    await ensureMemberlistSecret(this.o.client, this.o.namespace, name, cached, this.o.logger);
  }

  private async reconcileService(key: string): Promise<void> {
    const alloc = this.allocator;
    if (!alloc) return; // no valid configuration yet: the config reconcile enqueues everything
    const svc = this.services.get(key);
    const { namespace, name } = splitKey(key);
    if (!svc) {
      this.failed.delete(key);
      this.pending.delete(key);
      if (alloc.get(key)) {
        alloc.release(key);
        this.retryFailed();
        this.o.logger.info({ service: key }, 'service deleted, address freed');
        this.schedulePools();
      }
      return;
    }
    const current = ingressIPs(svc);
    const annotated = svc.metadata.annotations?.[ANN_ALLOCATED_FROM_POOL];
    if (!alloc.manages(svc)) {
      const had = alloc.get(key);
      alloc.release(key);
      // Clear what we wrote: only when the Service stopped being a LoadBalancer, or when our
      // annotation says the address was ours (never touch another implementation's status).
      if (annotated !== undefined || had !== undefined) {
        await this.clear(namespace, name, current.length > 0, annotated !== undefined);
      }
      this.failed.delete(key);
      if (had) {
        this.schedulePools();
        this.retryFailed();
      }
      return;
    }
    const res = alloc.assign(svc, current);
    if (res.changed) this.schedulePools();
    if (!res.assignment) {
      const wasFailing = this.failed.has(key);
      this.failed.add(key);
      if (res.changed) this.retryFailed();
      if (wasFailing && current.length === 0) return; // already reported
      const why = res.error ?? 'no available IPs';
      await this.clear(namespace, name, current.length > 0, annotated !== undefined);
      void this.events.service(svc, 'Warning', EventReason.AllocationFailed, `Failed to allocate IP for "${key}": ${why}`);
      this.o.logger.warn({ service: key, error: why }, 'allocation failed');
      return;
    }
    this.failed.delete(key);
    if (res.changed) this.retryFailed();
    await this.write(svc, namespace, name, res.assignment, current, annotated);
  }

  /**
   * The watch event of our own write: the object exactly as our patch left it (its
   * resourceVersion is the one our patch returned, so nobody else changed it since) and showing
   * what we wrote. Nothing to reconcile; the write is visible now.
   */
  private isOwnEcho(svc: Svc): boolean {
    const key = keyOf(svc);
    const p = this.pending.get(key);
    const rv = svc.metadata.resourceVersion ?? '';
    if (!p || rv === p.before || !p.rvs.has(rv)) return false;
    if (svc.metadata.annotations?.[ANN_ALLOCATED_FROM_POOL] !== p.pool || !sameList(ingressIPs(svc), p.ips)) return false;
    this.pending.delete(key);
    return true;
  }

  /** True when our last write of `a` to this Service is simply not in the cache yet. */
  private ownWriteInFlight(key: string, svc: Svc, a: Assignment): boolean {
    const p = this.pending.get(key);
    if (!p) return false;
    if (sameList(p.ips, a.ips) && p.pool === a.pool && p.rvs.has(svc.metadata.resourceVersion ?? '')) return true;
    this.pending.delete(key);
    return false;
  }

  private async write(svc: Svc, ns: string | undefined, name: string, a: Assignment, current: string[], annotated: string | undefined): Promise<void> {
    const key = ns ? `${ns}/${name}` : name;
    if (annotated === a.pool && sameList(current, a.ips)) {
      this.pending.delete(key); // the cache shows what we wrote
      return;
    }
    if (this.ownWriteInFlight(key, svc, a)) return;
    const statusChanged = !sameList(current, a.ips);
    const status = { loadBalancer: { ingress: a.ips.map((ip) => ({ ip })) } };
    const annotation = { [ANN_ALLOCATED_FROM_POOL]: a.pool };
    let results: PromiseSettledResult<KubeObject>[];
    if (!statusChanged) {
      results = await Promise.allSettled([this.o.client.patch(R.services, ns, name, { metadata: { annotations: annotation } })]);
    } else if (annotated === a.pool) {
      results = await Promise.allSettled([this.o.client.patch(R.services, ns, name, { status }, { status: true })]);
    } else {
      results = await this.writeBoth(ns, name, { metadata: { annotations: annotation }, status }, (o) => o.metadata.annotations?.[ANN_ALLOCATED_FROM_POOL] === a.pool);
    }
    for (const r of results) {
      if (r.status === 'rejected' && !isNotFound(r.reason)) throw r.reason; // NotFound: deleted meanwhile; the delete event frees it
    }
    const ok = results.every((r) => r.status === 'fulfilled');
    if (ok) {
      const rvs = new Set<string>([svc.metadata.resourceVersion ?? '']);
      for (const r of results) if (r.status === 'fulfilled' && r.value.metadata.resourceVersion) rvs.add(r.value.metadata.resourceVersion);
      this.pending.set(key, { ips: [...a.ips], pool: a.pool, rvs, before: svc.metadata.resourceVersion ?? '' });
    }
    if (statusChanged && ok) {
      // Posted in the background (bounded by the recorder): the reconcile does not wait for it.
      void this.events.service(svc, 'Normal', EventReason.IPAllocated, `Assigned IP ${JSON.stringify(a.ips)}`);
      this.o.logger.info({ service: `${ns}/${name}`, ips: a.ips, pool: a.pool }, 'IP assigned');
    }
  }

  /**
   * Status and our annotation in one request: kube-apiserver's Service status strategy keeps
   * metadata changes made through /status (it resets only spec). `took` checks the answer; a
   * server that dropped the annotation gets it through the main resource now, and from then on
   * this process sends the two patches side by side (logged once).
   */
  private async writeBoth(ns: string | undefined, name: string, patch: { metadata: { annotations: Record<string, string | null> }; status: unknown }, took: (o: KubeObject) => boolean): Promise<PromiseSettledResult<KubeObject>[]> {
    const annotationPatch = (): Promise<KubeObject> => this.o.client.patch(R.services, ns, name, { metadata: patch.metadata });
    if (this.statusKeepsMetadata === false) {
      return Promise.allSettled([annotationPatch(), this.o.client.patch(R.services, ns, name, { status: patch.status }, { status: true })]);
    }
    const first = await Promise.allSettled([this.o.client.patch(R.services, ns, name, patch, { status: true })]);
    const res = first[0];
    if (res?.status !== 'fulfilled') return first;
    if (took(res.value)) {
      this.statusKeepsMetadata = true;
      return first;
    }
    if (this.statusKeepsMetadata === undefined) {
      this.statusKeepsMetadata = false;
      this.o.logger.warn({ service: `${ns}/${name}` }, 'the API server dropped the annotation sent with the Service status: writing it separately from now on (one more request per Service)');
    }
    return [res, ...(await Promise.allSettled([annotationPatch()]))];
  }

  private async clear(ns: string | undefined, name: string, hasStatus: boolean, hasAnnotation: boolean): Promise<void> {
    const noAnnotation = { annotations: { [ANN_ALLOCATED_FROM_POOL]: null } };
    const clearedStatus = { loadBalancer: { ingress: null } };
    let results: PromiseSettledResult<KubeObject>[] = [];
    if (hasStatus && hasAnnotation) {
      results = await this.writeBoth(ns, name, { metadata: noAnnotation, status: clearedStatus }, (o) => o.metadata.annotations?.[ANN_ALLOCATED_FROM_POOL] === undefined);
    } else if (hasStatus) {
      results = await Promise.allSettled([this.o.client.patch(R.services, ns, name, { status: clearedStatus }, { status: true })]);
    } else if (hasAnnotation) {
      results = await Promise.allSettled([this.o.client.patch(R.services, ns, name, { metadata: noAnnotation })]);
    }
    for (const r of results) if (r.status === 'rejected' && !isNotFound(r.reason)) throw r.reason;
    if (hasStatus && results.every((r) => r.status === 'fulfilled')) this.o.logger.info({ service: `${ns}/${name}` }, 'assignment cleared');
  }

  /** An address was freed: give the Services that could not get one another chance. */
  private retryFailed(): void {
    for (const k of this.failed) this.queue.add(SVC + k);
  }

  private poolInformer(): Informer<KubeObject> | undefined {
    return this.configInformers.find((i) => i.resource === R.ipaddresspools);
  }

  private async reconcilePools(): Promise<void> {
    const alloc = this.allocator;
    const cfg = this.config;
    if (!alloc || !cfg) return;
    const pools: PoolFigures[] = [];
    const services = new Map<string, number>();
    for (const a of Object.values(alloc.snapshot())) services.set(a.pool, (services.get(a.pool) ?? 0) + 1);
    for (const p of cfg.pools) {
      const st = alloc.poolStats(p.name);
      const counts: PoolCounts = {
        assignedIPv4: st.v4.assigned,
        assignedIPv6: st.v6.assigned,
        availableIPv4: clampCount(st.v4.available),
        availableIPv6: clampCount(st.v6.available),
      };
      pools.push({
        pool: p.name,
        inUse: st.v4.assigned + st.v6.assigned,
        total: clampCount(st.v4.available + st.v6.available + BigInt(st.v4.assigned + st.v6.assigned)),
        ipv4InUse: st.v4.assigned,
        ipv6InUse: st.v6.assigned,
        ipv4Total: clampCount(st.v4.available + BigInt(st.v4.assigned)),
        ipv6Total: clampCount(st.v6.available + BigInt(st.v6.assigned)),
        services: services.get(p.name) ?? 0,
      });
      const ns = p.source.namespace ?? this.o.namespace;
      const cached = this.poolInformer()?.get(`${ns}/${p.name}`)?.['status'] as Partial<PoolCounts> | undefined;
      const same = (x: Partial<PoolCounts> | undefined): boolean => x !== undefined && (Object.keys(counts) as (keyof PoolCounts)[]).every((k) => x[k] === counts[k]);
      if (same(cached) || same(this.poolWritten.get(`${ns}/${p.name}`))) continue;
      try {
        await this.o.client.patch(R.ipaddresspools, ns, p.name, { status: counts }, { status: true });
        this.poolWritten.set(`${ns}/${p.name}`, counts);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    this.o.metrics?.recordPools(pools);
  }
}

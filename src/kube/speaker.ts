// The Kubernetes speaker of one node: the Kubernetes shell of the node runtime (src/node/).
// Watches the configuration (the metallb.io kinds, plus frr-k8s FRRConfigurations when their CRD
// is installed), Services (with the IPs the controller wrote into their status),
// EndpointSlices, Nodes, Namespaces and Secrets and feeds them to the NodeAgent, which plans
// this node and drives the BGP speaker and Layer 2. Publishes what the agent applied: per
// Service announced from this node a ServiceBGPStatus / ServiceL2Status (labels
// metallb.io/node, metallb.io/service-name, metallb.io/service-namespace; owned by the speaker
// pod), `nodeAssigned` events, and the ConfigurationState `speaker-<node>`. An invalid
// configuration keeps the last valid one. Nothing is reconciled before every informer has
// synced: a partial cache would publish a false `Invalid` or delete status objects it re-creates.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { buildConfig, loadedFromApiObject } from '../config/build.ts';
import type { Config, Diagnostic } from '../config/types.ts';
import { prefixContains, tryParseIP } from '../ip/index.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../model/objects.ts';
import type { NodeAgent } from '../node/agent.ts';
import { assignmentsFromServices } from '../node/assignments.ts';
import type { NodeStatus, NodeStatusView } from '../node/types.ts';
import { FULL_STATUS_LISTS } from '../observability/statuslists.ts';
import type { StatusLists } from '../observability/statuslists.ts';
import { CONFIG_RESOURCES, OPTIONAL_CONFIG_RESOURCES, R, apiVersion, isConflict, isNotFound, specOrLabelsChanged } from './client.ts';
import type { KubeClient, KubeObject, ResourceRef } from './client.ts';
import { EventReason, EventRecorder } from './events.ts';
import { Informer, waitForCacheSync } from './informer.ts';
import { WorkQueue, runWorker } from './queue.ts';
import { formatDiagnostics, publishConfigurationState } from './status.ts';
import type { KubeMetrics } from './metrics.ts';
import { MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME } from './memberlist.ts';

export const LABEL_NODE = 'metallb.io/node';
export const LABEL_SERVICE_NAME = 'metallb.io/service-name';
export const LABEL_SERVICE_NAMESPACE = 'metallb.io/service-namespace';

/** MetalLB's memberlist Secret: name and key of the speakers' shared secret (created by the controller). */
export { MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME };

export interface KubeSpeakerOptions {
  client: KubeClient;
  namespace: string;
  nodeName: string;
  logger: Logger;
  /** The node runtime (its BGP speaker, Layer 2 driver and member options inside). */
  agent: NodeAgent;
  podName?: string;
  podUID?: string;
  loadBalancerClass?: string;
  resyncMs?: number;
  metrics?: KubeMetrics;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Longest wait between checks for an absent optional CRD (FRRConfiguration; default 30 s). */
  absentRetryMaxMs?: number;
}

/** The speaker's /status: the configuration as this speaker sees it, and the node's NodeStatus. */
export interface KubeSpeakerStatusView extends NodeStatusView {
  ready: boolean;
  configValid: boolean;
  configErrors: string[];
}

/** /status with every list whole (KubeSpeaker.status() without a StatusLists). */
export interface KubeSpeakerStatus extends KubeSpeakerStatusView {
  sessions: NodeStatus['sessions'];
  announced: NodeStatus['announced'];
}

const PLAN = '#plan';
const CONFIG = '#config';

interface StatusObject extends KubeObject {
  status?: Record<string, unknown>;
}

/** Deterministic, DNS-safe name of a status object for Service × node. */
export function statusName(svcNamespace: string, svcName: string, node: string): string {
  const h = createHash('sha256').update(`${svcNamespace}/${svcName}/${node}`).digest('hex').slice(0, 10);
  const base = `${svcName}`.slice(0, 200).replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'svc';
  return `${base}-${h}`;
}

export class KubeSpeaker {
  private readonly services: Informer<KubeObject>;
  private readonly slices: Informer<KubeObject>;
  private readonly nodes: Informer<KubeObject>;
  private readonly namespaces: Informer<KubeObject>;
  private readonly secrets: Informer<KubeObject>;
  private readonly configInformers: Informer<KubeObject>[];
  private readonly bgpStatuses: Informer<StatusObject>;
  private readonly l2Statuses: Informer<StatusObject>;
  private readonly queue = new WorkQueue();
  private readonly events: EventRecorder;
  private config?: Config;
  private configErrors: Diagnostic[] = [];
  private worker?: Promise<void>;
  /** True once every informer has listed: before that, events only fill the caches. */
  private synced = false;
  private readonly stopping = new AbortController();
  private stopped = false;

  constructor(private readonly o: KubeSpeakerOptions) {
    const common = {
      logger: o.logger,
      ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(o.metrics ? { onUpdate: () => o.metrics?.k8sUpdates.inc() } : {}),
    };
    const mine = { ...common, namespace: o.namespace };
    this.services = new Informer(o.client, R.services, common);
    this.slices = new Informer(o.client, R.endpointslices, common);
    this.nodes = new Informer(o.client, R.nodes, common);
    this.namespaces = new Informer(o.client, R.namespaces, common);
    this.secrets = new Informer(o.client, R.secrets, mine);
    // frr-k8s FRRConfigurations (receive policies, their own sessions, BFD profiles) in the same
    // namespace, merged by the same buildConfig as standalone; their CRD may be absent
    this.configInformers = [
      ...CONFIG_RESOURCES.map((r) => new Informer<KubeObject>(o.client, r, mine)),
      ...OPTIONAL_CONFIG_RESOURCES.map((r) => new Informer<KubeObject>(o.client, r, { ...mine, optional: true, ...(o.absentRetryMaxMs !== undefined ? { absentRetryMaxMs: o.absentRetryMaxMs } : {}) })),
    ];
    const byNode = { ...mine, labelSelector: `${LABEL_NODE}=${o.nodeName}` };
    this.bgpStatuses = new Informer<StatusObject>(o.client, R.servicebgpstatuses, byNode);
    this.l2Statuses = new Informer<StatusObject>(o.client, R.servicel2statuses, byNode);
    this.events = new EventRecorder(o.client, 'metallb-speaker', o.podName ?? o.nodeName, o.logger, undefined, {
      ...(o.metrics ? { onLost: (reason) => o.metrics?.eventsDropped.inc({ reason }) } : {}),
    });
    const plan = (): void => {
      if (this.synced) this.queue.add(PLAN);
    };
    const config = (): void => {
      if (!this.synced) return;
      this.queue.add(CONFIG);
      this.queue.add(PLAN);
    };
    for (const inf of [this.services, this.slices, this.nodes, this.namespaces]) inf.addHandler({ add: plan, update: plan, delete: plan });
    const configUpdate = (a: KubeObject, b: KubeObject): void => {
      if (specOrLabelsChanged(a, b)) config();
    };
    for (const inf of this.configInformers) inf.addHandler({ add: config, update: configUpdate, delete: config });
    this.secrets.addHandler({ add: config, update: config, delete: config });
    // someone else deleting / editing our status objects: re-assert
    for (const inf of [this.bgpStatuses, this.l2Statuses]) inf.addHandler({ delete: plan });
    // Layer 2 re-election (a speaker died, a link went down): refresh ServiceL2Status
    o.agent.onLayer2Change(() => {
      if (!this.stopped) plan();
    });
  }

  private informers(): Informer<KubeObject>[] {
    return [
      this.services,
      this.slices,
      this.nodes,
      this.namespaces,
      this.secrets,
      ...this.configInformers,
      this.bgpStatuses as Informer<KubeObject>,
      this.l2Statuses as Informer<KubeObject>,
    ];
  }

  /** Ready once the informers synced and a configuration (the last valid one) is loaded. */
  get ready(): boolean {
    return this.config !== undefined && this.informers().every((i) => i.hasSynced);
  }

  /** Without `lists`: every list whole; with them (a /status query): cut or counted as asked. */
  status(): KubeSpeakerStatus;
  status(lists: StatusLists): KubeSpeakerStatusView;
  status(lists: StatusLists = FULL_STATUS_LISTS): KubeSpeakerStatusView {
    return {
      ready: this.ready,
      configValid: this.configErrors.length === 0,
      configErrors: this.configErrors.map((d) => formatDiagnostics([d])),
      ...this.o.agent.status(lists),
    };
  }

  async start(): Promise<void> {
    for (const inf of this.informers()) inf.start();
    this.worker = runWorker(
      this.queue,
      (key) => (key === CONFIG ? this.reconcileConfig() : this.reconcilePlan()),
      (key, err, delay) => {
        this.o.metrics?.k8sUpdateErrors.inc();
        this.o.logger.warn({ key, err: (err as Error).message, retryInMs: delay }, 'reconcile failed, retrying');
      },
    );
    // every cache complete (as client-go's WaitForCacheSync): the first reconcile sees the whole configuration
    if (!(await waitForCacheSync(this.informers(), { signal: this.stopping.signal }))) return;
    this.synced = true;
    this.queue.add(CONFIG);
    this.queue.add(PLAN);
  }

  /** Stops watching; withdraws every route (withdraw: false keeps them for graceful restart). */
  async stop(opts: { withdraw?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.queue.shutDown();
    await this.worker;
    await this.o.agent.stop(opts);
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  private list<T>(inf: Informer<KubeObject>): T[] {
    return inf.list() as unknown as T[];
  }

  private async reconcileConfig(): Promise<void> {
    const objects = this.configInformers.flatMap((inf) =>
      inf.list().map((obj) => loadedFromApiObject({ ...obj, apiVersion: obj.apiVersion ?? apiVersion(inf.resource), kind: obj.kind ?? inf.resource.kind })),
    );
    const res = buildConfig(objects, { secrets: this.list<Secret>(this.secrets), nodes: this.list<Node>(this.nodes) });
    this.configErrors = res.errors;
    const valid = res.errors.length === 0 && res.config !== undefined;
    if (valid && res.config) {
      this.config = res.config;
      this.o.metrics?.configLoaded.set(1);
    } else {
      this.o.logger.error({ errors: formatDiagnostics(res.errors) }, 'configuration is invalid; keeping the last valid one');
    }
    this.o.metrics?.configStale.set(valid ? 0 : 1);
    await publishConfigurationState(
      this.o.client,
      this.o.namespace,
      `speaker-${this.o.nodeName}`,
      { 'app.kubernetes.io/component': 'speaker', [LABEL_NODE]: this.o.nodeName },
      res.errors,
      this.o.logger,
      res.warnings,
    );
    this.queue.add(PLAN);
  }

  private async reconcilePlan(): Promise<void> {
    const cfg = this.config;
    if (!cfg || this.stopped) return;
    const services = this.list<Service & KubeObject>(this.services);
    const assignments = assignmentsFromServices(cfg, services, this.o.loadBalancerClass);
    const { plan } = this.o.agent.apply({
      config: cfg,
      services,
      assignments,
      nodes: this.list<Node>(this.nodes),
      endpointSlices: this.list<EndpointSlice>(this.slices),
      namespaces: this.list<Namespace>(this.namespaces),
      secrets: this.list<Secret>(this.secrets),
    });
    const sessions = plan.sessions.filter((a) => a.blocked === null).map((a) => a.plan);
    this.o.logger.debug(
      { sessions: sessions.map((x) => `${x.peer}:${x.routes.length}`), layer2: plan.layer2.map((l) => l.ip), services: Object.keys(assignments) },
      'plan for this node',
    );

    // ServiceBGPStatus: Service -> peers whose routes cover one of its IPs.
    const bgpWanted = new Map<string, { svc: Service & KubeObject; peers: string[] }>();
    for (const [key, a] of Object.entries(assignments)) {
      const ips = a.ips.map((t) => tryParseIP(t)).filter((x) => x !== undefined);
      const peers = sessions.filter((s) => s.routes.some((r) => ips.some((ip) => prefixContains(r.prefix, ip)))).map((s) => s.peer);
      const svc = this.services.get(key) as (Service & KubeObject) | undefined;
      if (svc && peers.length > 0) bgpWanted.set(key, { svc, peers: [...new Set(peers)].sort() });
    }
    await this.syncStatuses(R.servicebgpstatuses, this.bgpStatuses, bgpWanted, (w) => ({ peers: w.peers }), 'bgp');

    // ServiceL2Status: what this node really announces (after re-election over the live speakers).
    const l2Wanted = new Map<string, { svc: Service & KubeObject; interfaces: string[] }>();
    for (const l of this.o.agent.layer2Owned()) {
      for (const key of l.services) {
        const svc = this.services.get(key) as (Service & KubeObject) | undefined;
        if (svc) l2Wanted.set(key, { svc, interfaces: l.interfaces });
      }
    }
    await this.syncStatuses(R.servicel2statuses, this.l2Statuses, l2Wanted, (w) => ({ interfaces: w.interfaces.map((name) => ({ name })) }), 'layer2');
  }

  private async syncStatuses<W extends { svc: Service & KubeObject }>(
    ref: ResourceRef,
    inf: Informer<StatusObject>,
    wanted: Map<string, W>,
    extra: (w: W) => Record<string, unknown>,
    protocol: 'bgp' | 'layer2',
  ): Promise<void> {
    const ns = this.o.namespace;
    const node = this.o.nodeName;
    const existing = new Map<string, StatusObject>();
    for (const o of inf.list()) {
      const l = o.metadata.labels ?? {};
      existing.set(`${l[LABEL_SERVICE_NAMESPACE] ?? ''}/${l[LABEL_SERVICE_NAME] ?? ''}`, o);
    }
    for (const [key, w] of wanted) {
      const svcNs = w.svc.metadata.namespace ?? 'default';
      const svcName = w.svc.metadata.name;
      const status = { node, serviceName: svcName, serviceNamespace: svcNs, ...extra(w) };
      const cur = existing.get(key);
      existing.delete(key);
      if (cur && JSON.stringify(cur.status ?? {}) === JSON.stringify(status)) continue;
      const name = cur?.metadata.name ?? statusName(svcNs, svcName, node);
      if (!cur) {
        const owner =
          this.o.podName && this.o.podUID
            ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: this.o.podName, uid: this.o.podUID, controller: true, blockOwnerDeletion: false }] }
            : {};
        let created = false;
        try {
          await this.o.client.create(ref, {
            metadata: {
              name,
              namespace: ns,
              labels: { [LABEL_NODE]: node, [LABEL_SERVICE_NAME]: svcName, [LABEL_SERVICE_NAMESPACE]: svcNs },
              ...owner,
            },
            spec: {},
          });
          created = true;
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
        if (created) await this.events.service(w.svc, 'Normal', EventReason.NodeAssigned, `announcing from node "${node}" with protocol "${protocol}"`);
      }
      await this.o.client.patch(ref, ns, name, { status }, { status: true });
    }
    for (const [key, o] of existing) {
      try {
        await this.o.client.delete(ref, ns, o.metadata.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.o.logger.info({ service: key, protocol }, 'no longer announced from this node');
    }
  }
}

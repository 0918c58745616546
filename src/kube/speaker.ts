// The Kubernetes speaker of one node: watches the configuration, Services (with the IPs the
// controller wrote into their status), EndpointSlices, Nodes, Namespaces and Secrets; runs the
// planner for its node and drives the BGP speaker. Publishes, per Service announced from this
// node, a ServiceBGPStatus / ServiceL2Status (labels metallb.io/node, metallb.io/service-name,
// metallb.io/service-namespace; owned by the speaker pod), `nodeAssigned` events, and the
// ConfigurationState `speaker-<node>`. An invalid configuration keeps the last valid one.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { isManaged } from '../allocator/index.ts';
import type { Assignment } from '../allocator/index.ts';
import { buildConfig, loadedFromApiObject } from '../config/build.ts';
import type { Config, Diagnostic, Peer } from '../config/types.ts';
import { prefixContains, rangeContains, tryParseIP } from '../ip/index.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../model/objects.ts';
import { planNode } from '../planner/index.ts';
import type { Layer2Plan, SessionPlan } from '../planner/types.ts';
import { CONFIG_RESOURCES, R, apiVersion, isConflict, isNotFound, keyOf, specOrLabelsChanged } from './client.ts';
import type { KubeClient, KubeObject, ResourceRef } from './client.ts';
import { EventReason, EventRecorder } from './events.ts';
import { Informer } from './informer.ts';
import { WorkQueue, runWorker } from './queue.ts';
import { formatDiagnostics, publishConfigurationState } from './status.ts';
import type { KubeMetrics } from './metrics.ts';

export const LABEL_NODE = 'metallb.io/node';
export const LABEL_SERVICE_NAME = 'metallb.io/service-name';
export const LABEL_SERVICE_NAMESPACE = 'metallb.io/service-namespace';

/** What the speaker needs from a BGP speaker (BGPSpeaker fits). */
export interface SessionDriver {
  setPlan(sessions: SessionPlan[]): void;
  stop(opts?: { withdraw?: boolean }): Promise<void>;
}

/** What the speaker needs from a Layer 2 announcer (Layer2Agent fits; optional). */
export interface Layer2Driver {
  setPlan(plans: Layer2Plan[]): void;
}

export interface KubeSpeakerOptions {
  client: KubeClient;
  namespace: string;
  nodeName: string;
  logger: Logger;
  bgp: SessionDriver;
  layer2?: Layer2Driver;
  podName?: string;
  podUID?: string;
  loadBalancerClass?: string;
  resyncMs?: number;
  metrics?: KubeMetrics;
  backoff?: { initialMs?: number; maxMs?: number };
}

const PLAN = '#plan';
const CONFIG = '#config';

interface StatusObject extends KubeObject {
  status?: Record<string, unknown>;
}

function ingressIPs(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '');
}

/** Deterministic, DNS-safe name of a status object for Service × node. */
export function statusName(svcNamespace: string, svcName: string, node: string): string {
  const h = createHash('sha256').update(`${svcNamespace}/${svcName}/${node}`).digest('hex').slice(0, 10);
  const base = `${svcName}`.slice(0, 200).replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'svc';
  return `${base}-${h}`;
}

function decodeBase64(s: string): string | undefined {
  try {
    return Buffer.from(s, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
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
  private lastPlan: { sessions: SessionPlan[]; layer2: Layer2Plan[] } = { sessions: [], layer2: [] };
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
    this.configInformers = CONFIG_RESOURCES.map((r) => new Informer<KubeObject>(o.client, r, mine));
    const byNode = { ...mine, labelSelector: `${LABEL_NODE}=${o.nodeName}` };
    this.bgpStatuses = new Informer<StatusObject>(o.client, R.servicebgpstatuses, byNode);
    this.l2Statuses = new Informer<StatusObject>(o.client, R.servicel2statuses, byNode);
    this.events = new EventRecorder(o.client, 'metallb-speaker', o.podName ?? o.nodeName, o.logger);
    const plan = (): void => this.queue.add(PLAN);
    const config = (): void => {
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

  status(): Record<string, unknown> {
    return {
      node: this.o.nodeName,
      ready: this.ready,
      configValid: this.configErrors.length === 0,
      configErrors: this.configErrors.map((d) => formatDiagnostics([d])),
      sessions: this.lastPlan.sessions.map((s) => ({ peer: s.peer, routes: s.routes.length })),
      layer2: this.lastPlan.layer2.map((l) => l.ip),
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
    await Promise.all(this.informers().map((i) => i.waitForSync()));
    this.queue.add(CONFIG);
    this.queue.add(PLAN);
  }

  /** Stops watching; withdraws every route (withdraw: false keeps them for graceful restart). */
  async stop(opts: { withdraw?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.queue.shutDown();
    await this.worker;
    await this.o.bgp.stop(opts);
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
    );
    this.queue.add(PLAN);
  }

  /** Pool of an address: the pool whose ranges contain every IP (config is the source of truth). */
  private poolOf(cfg: Config, ips: string[], annotated: string | undefined): string | undefined {
    const parsed = ips.map((t) => tryParseIP(t));
    if (parsed.some((p) => p === undefined)) return undefined;
    const fits = cfg.pools.filter((p) => parsed.every((ip) => ip !== undefined && p.ranges.some((r) => rangeContains(r, ip))));
    return fits.find((p) => p.name === annotated)?.name ?? fits[0]?.name;
  }

  /** Fills `password` from the basic-auth Secret of peers that use passwordSecret. */
  private resolvePasswords(sessions: SessionPlan[]): SessionPlan[] {
    const out: SessionPlan[] = [];
    for (const s of sessions) {
      const ref = s.config.passwordSecret;
      if (!ref || s.config.password !== undefined) {
        out.push(s);
        continue;
      }
      const secret = this.secrets.get(`${ref.namespace}/${ref.name}`) as unknown as Secret | undefined;
      const raw = secret?.data?.['password'];
      const pw = raw !== undefined ? decodeBase64(raw) : secret?.stringData?.['password'];
      if (pw === undefined) {
        this.o.logger.error({ peer: s.peer, secret: `${ref.namespace}/${ref.name}` }, 'BGP password Secret missing or has no "password" key: session not started');
        continue;
      }
      const config: Peer = { ...s.config, password: pw };
      out.push({ ...s, config });
    }
    return out;
  }

  private async reconcilePlan(): Promise<void> {
    const cfg = this.config;
    if (!cfg || this.stopped) return;
    const services = this.list<Service & KubeObject>(this.services);
    const assignments: Record<string, Assignment> = {};
    for (const svc of services) {
      if (!isManaged(svc, this.o.loadBalancerClass)) continue;
      const ips = ingressIPs(svc);
      if (ips.length === 0) continue;
      const pool = this.poolOf(cfg, ips, svc.metadata.annotations?.['metallb.io/ip-allocated-from-pool']);
      if (pool === undefined) continue; // not one of our addresses
      assignments[keyOf(svc)] = { ips, pool };
    }
    const plan = planNode(
      {
        config: cfg,
        services,
        assignments,
        nodes: this.list<Node>(this.nodes),
        endpointSlices: this.list<EndpointSlice>(this.slices),
        namespaces: this.list<Namespace>(this.namespaces),
        ...(this.o.loadBalancerClass !== undefined ? { loadBalancerClass: this.o.loadBalancerClass } : {}),
      },
      this.o.nodeName,
    );
    const sessions = this.resolvePasswords(plan.sessions);
    this.o.logger.debug(
      { sessions: sessions.map((x) => `${x.peer}:${x.routes.length}`), layer2: plan.layer2.map((l) => l.ip), services: Object.keys(assignments) },
      'plan for this node',
    );
    this.o.bgp.setPlan(sessions);
    // Only the addresses the planner elected this node for, without the other candidates: no
    // member-liveness protocol runs between speakers yet, so no local re-election may happen.
    this.o.layer2?.setPlan(plan.layer2.filter((l) => l.node === this.o.nodeName).map((l) => ({ ip: l.ip, services: l.services, node: l.node, interfaces: l.interfaces })));
    this.lastPlan = { sessions, layer2: plan.layer2 };

    // ServiceBGPStatus: Service -> peers whose routes cover one of its IPs.
    const bgpWanted = new Map<string, { svc: Service & KubeObject; peers: string[] }>();
    for (const [key, a] of Object.entries(assignments)) {
      const ips = a.ips.map((t) => tryParseIP(t)).filter((x) => x !== undefined);
      const peers = sessions.filter((s) => s.routes.some((r) => ips.some((ip) => prefixContains(r.prefix, ip)))).map((s) => s.peer);
      const svc = this.services.get(key) as (Service & KubeObject) | undefined;
      if (svc && peers.length > 0) bgpWanted.set(key, { svc, peers: [...new Set(peers)].sort() });
    }
    await this.syncStatuses(R.servicebgpstatuses, this.bgpStatuses, bgpWanted, (w) => ({ peers: w.peers }), 'bgp');

    const l2Wanted = new Map<string, { svc: Service & KubeObject; interfaces: string[] }>();
    for (const l of plan.layer2) {
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

// The Kubernetes speaker of one node: watches the configuration, Services (with the IPs the
// controller wrote into their status), EndpointSlices, Nodes, Namespaces and Secrets; runs the
// planner for its node and drives the BGP speaker. Publishes, per Service announced from this
// node, a ServiceBGPStatus / ServiceL2Status (labels metallb.io/node, metallb.io/service-name,
// metallb.io/service-namespace; owned by the speaker pod), `nodeAssigned` events, and the
// ConfigurationState `speaker-<node>`. An invalid configuration keeps the last valid one.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { isManaged } from '../allocator/index.ts';
import type { Assignment } from '../allocator/index.ts';
import { buildConfig, loadedFromApiObject } from '../config/build.ts';
import type { Config, Diagnostic } from '../config/types.ts';
import { canonicalIP, formatIP, prefixContains, rangeContains, tryParseIP } from '../ip/index.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../model/objects.ts';
import { planNode, resolvePeerPasswords, secretValue } from '../planner/index.ts';
import type { Layer2Plan, SessionPlan } from '../planner/types.ts';
import { anySelectorMatches } from '../model/selector.ts';
import { Layer2Agent } from '../layer2/agent.ts';
import type { Layer2AgentOptions, Layer2AgentStatus } from '../layer2/agent.ts';
import { DEFAULT_GOSSIP_PORT } from '../layer2/members.ts';
import type { MemberAddress } from '../layer2/members.ts';
import type { PartitionPolicy } from '../layer2/ownership.ts';
import { CONFIG_RESOURCES, R, apiVersion, isConflict, isNotFound, keyOf, specOrLabelsChanged } from './client.ts';
import type { KubeClient, KubeObject, ResourceRef } from './client.ts';
import { EventReason, EventRecorder } from './events.ts';
import { Informer } from './informer.ts';
import { WorkQueue, runWorker } from './queue.ts';
import { formatDiagnostics, publishConfigurationState } from './status.ts';
import type { KubeMetrics } from './metrics.ts';
import { MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME } from './memberlist.ts';

export const LABEL_NODE = 'metallb.io/node';
export const LABEL_SERVICE_NAME = 'metallb.io/service-name';
export const LABEL_SERVICE_NAMESPACE = 'metallb.io/service-namespace';

/** What the speaker needs from a BGP speaker (BGPSpeaker fits). */
export interface SessionDriver {
  setPlan(sessions: SessionPlan[]): void;
  stop(opts?: { withdraw?: boolean }): Promise<void>;
}

/** What the speaker needs from a Layer 2 announcer (KubeLayer2 fits; Layer2Agent too). */
export interface Layer2Driver {
  /**
   * The Layer 2 addresses this node may announce: with `setMembers`, every address this node
   * is a candidate for (planNode().layer2Candidates); without it, only the ones the planner
   * elected this node for.
   */
  setPlan(plans: Layer2Plan[]): void;
  /** Optional: the speakers taking part in elections and the liveness secret (undefined: none). */
  setMembers?(members: MemberAddress[], secret: string | undefined): void;
  /** Optional: the addresses this node announces right now (after re-election over live members). */
  announcing?(): string[];
  /** Optional: called when `announcing()` changes. */
  onChange?(cb: () => void): void;
}

/** MetalLB's memberlist Secret: name and key of the speakers' shared secret (created by the controller). */
export { MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME };

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
  /** Layer 2 liveness port of every speaker (default 7946, like memberlist). */
  memberPort?: number;
  /** Secret (in `namespace`) holding the liveness secret under key `secretkey`; default metallb-memberlist. */
  memberSecretName?: string;
  /** Liveness secret given directly (env METALLB_ML_SECRET_KEY); wins over the Secret. */
  memberSecret?: string;
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

export interface KubeLayer2Options {
  logger: Logger;
  nodeName: string;
  /** Registry for the metallb_layer2_* counters. */
  registry?: Registry;
  /** Local address of the liveness socket; default 0.0.0.0, or :: when this node's member address is IPv6. */
  bindAddress?: string;
  /** Local port of the liveness socket (default 7946). */
  port?: number;
  partitionPolicy?: PartitionPolicy;
  /** Further agent options (tests: timings, interface snapshot). */
  agent?: Partial<Layer2AgentOptions>;
}

export interface KubeLayer2Status {
  /** "gossip": liveness protocol among the speakers (failover); "planner": planner's owner only. */
  mode: 'gossip' | 'planner';
  /** Why the liveness protocol does not run although there are other speakers (null: no problem). */
  problem: string | null;
  members: MemberAddress[];
  agent: Layer2AgentStatus | null;
}

/**
 * The Layer 2 side of the Kubernetes speaker: one Layer2Agent, fed with the planner's candidate
 * addresses and the member list (speakers on Ready nodes) from Kubernetes. With other members
 * and a shared secret the agent runs the liveness protocol and re-elects owners over the live
 * speakers (failover within ~1 s); without a secret (or when the liveness socket cannot be
 * opened) it falls back to announcing exactly what the planner elected this node for. The agent
 * is recreated when the secret changes or the first other member appears.
 */
export class KubeLayer2 extends EventEmitter implements Layer2Driver {
  private agent: Layer2Agent | undefined;
  private mode = '';
  private failedMode = '';
  private plans: Layer2Plan[] = [];
  private members: MemberAddress[] = [];
  private secret: string | undefined;
  private problem: string | null = null;
  private chain: Promise<void> = Promise.resolve();
  private lastAnnouncing = '';
  private lastInput = '';
  private pending = false;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly o: KubeLayer2Options) {
    super();
    this.log = o.logger.child({ component: 'speaker-layer2' });
  }

  setPlan(plans: Layer2Plan[]): void {
    this.plans = plans;
    this.schedule();
  }

  setMembers(members: MemberAddress[], secret: string | undefined): void {
    this.members = members;
    this.secret = secret;
    this.schedule();
  }

  onChange(cb: () => void): void {
    this.on('change', cb);
  }

  announcing(): string[] {
    const st = this.agent?.status();
    if (!st || !st.hasQuorum) return [];
    return Object.entries(st.owners)
      .filter(([, owner]) => owner === this.o.nodeName)
      .map(([ip]) => ip)
      .sort();
  }

  status(): KubeLayer2Status {
    return {
      mode: this.mode.startsWith('gossip') ? 'gossip' : 'planner',
      problem: this.problem,
      members: this.members,
      agent: this.agent?.status() ?? null,
    };
  }

  /** Waits until the latest plan / members are applied (tests). */
  async settled(): Promise<void> {
    await this.chain;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
    const a = this.agent;
    this.agent = undefined;
    if (a) await this.stopAgent(a);
  }

  /** Coalesces the calls of one reconcile (setMembers + setPlan) into one sync. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    this.chain = this.chain
      .then(() => {
        this.pending = false;
        return this.sync();
      })
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'layer2: cannot apply the plan'));
  }

  private createAgent(members: MemberAddress[]): Layer2Agent {
    const self = members.find((m) => m.name === this.o.nodeName);
    const bindAddress = this.o.bindAddress ?? (self && isIPv6Text(self.address) ? '::' : '0.0.0.0');
    const opts: Layer2AgentOptions = {
      ...(this.o.agent ?? {}),
      logger: this.o.logger,
      nodeName: this.o.nodeName,
      members,
      ...(this.o.registry ? { registry: this.o.registry } : {}),
      ...(this.o.partitionPolicy ? { partitionPolicy: this.o.partitionPolicy } : {}),
    };
    if (members.length > 0) {
      opts.bind = { address: bindAddress, port: this.o.port ?? DEFAULT_GOSSIP_PORT };
      if (this.secret !== undefined) opts.secret = this.secret;
    }
    const agent = new Layer2Agent(opts);
    agent.on('owners', () => this.checkChange());
    return agent;
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    // every informer event replans; nothing to do when the Layer 2 inputs did not change
    const input = createHash('sha256')
      .update(JSON.stringify([this.plans, this.members, this.secret ?? null]))
      .digest('hex');
    if (this.agent && input === this.lastInput) return;
    this.lastInput = input;
    const self = this.o.nodeName;
    const others = this.members.filter((m) => m.name !== self);
    let problem: string | null = null;
    let want = 'planner';
    if (others.length > 0) {
      if (this.secret === undefined || this.secret === '') {
        problem = 'no Layer 2 liveness secret (Secret metallb-memberlist key secretkey, or METALLB_ML_SECRET_KEY): announcing the planner\'s choice only, no fast failover';
      } else if (Buffer.byteLength(this.secret, 'utf8') < 16) {
        problem = 'the Layer 2 liveness secret is shorter than 16 bytes: announcing the planner\'s choice only, no fast failover';
      } else {
        want = `gossip:${createHash('sha256').update(this.secret).digest('hex')}`;
      }
    }
    if (want !== 'planner' && want === this.failedMode) {
      want = 'planner';
      problem = this.problem;
    }
    if (want !== this.mode || !this.agent) {
      const old = this.agent;
      this.agent = undefined;
      if (old) await this.stopAgent(old);
      let agent = this.createAgent(want === 'planner' ? [] : this.members);
      try {
        await agent.start();
      } catch (e) {
        problem = `Layer 2 liveness protocol unavailable (${(e as Error).message}): announcing the planner's choice only`;
        this.failedMode = want;
        await this.stopAgent(agent);
        want = 'planner';
        agent = this.createAgent([]);
        await agent.start();
      }
      if (this.stopped) {
        await agent.stop();
        return;
      }
      this.agent = agent;
      this.mode = want;
      this.log.info({ mode: want.startsWith('gossip') ? 'gossip' : 'planner', members: this.members.map((m) => m.name) }, 'layer2: agent started');
    } else if (want !== 'planner') {
      this.agent.setMembers(this.members);
    }
    if (problem !== this.problem) {
      if (problem) this.log.error(problem);
      this.problem = problem;
    }
    if (want === 'planner') {
      // no liveness: only what the planner elected this node for, no local re-election
      this.agent.setPlan(this.plans.filter((p) => p.node === self).map((p) => ({ ip: p.ip, services: p.services, node: p.node, interfaces: p.interfaces })));
    } else {
      this.agent.setPlan(this.plans);
    }
    this.checkChange();
  }

  private async stopAgent(a: Layer2Agent): Promise<void> {
    try {
      await a.stop();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'layer2: error while stopping the agent');
    }
  }

  private checkChange(): void {
    const key = this.announcing().join(',');
    if (key === this.lastAnnouncing) return;
    this.lastAnnouncing = key;
    this.emit('change');
  }
}

function isIPv6Text(s: string): boolean {
  return tryParseIP(s)?.family === 6;
}

/**
 * The Layer 2 members as Kubernetes sees them: this node, and every Ready node that matches the
 * nodeSelectors of at least one L2Advertisement, at its InternalIP (IPv4 first; else ExternalIP).
 * No L2Advertisement: no members.
 */
export function layer2Members(cfg: Config, nodes: Node[], self: string, port: number): MemberAddress[] {
  if (cfg.l2Advertisements.length === 0) return [];
  const out: MemberAddress[] = [];
  const sorted = [...nodes].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const n of sorted) {
    const name = n.metadata.name;
    if (out.some((m) => m.name === name)) continue;
    const ready = (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    if (name !== self) {
      if (!ready) continue;
      const labels = n.metadata.labels ?? {};
      if (!cfg.l2Advertisements.some((ad) => anySelectorMatches(ad.nodeSelectors, labels))) continue;
    }
    let address: string | undefined;
    for (const type of ['InternalIP', 'ExternalIP']) {
      const ips = (n.status?.addresses ?? [])
        .filter((a) => a.type === type)
        .map((a) => tryParseIP(a.address))
        .filter((ip) => ip !== undefined);
      const pick = ips.find((ip) => ip.family === 4) ?? ips[0];
      if (pick) {
        address = formatIP(pick);
        break;
      }
    }
    if (address === undefined) continue;
    out.push({ name, address, port });
  }
  return out;
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
  /** The password problems logged last (logged again only when they change). */
  private passwordErrors = '';
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
    // Layer 2 re-election (a speaker died, a link went down): refresh ServiceL2Status
    o.layer2?.onChange?.(() => {
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

  status(): Record<string, unknown> {
    return {
      node: this.o.nodeName,
      ready: this.ready,
      configValid: this.configErrors.length === 0,
      configErrors: this.configErrors.map((d) => formatDiagnostics([d])),
      sessions: this.lastPlan.sessions.map((s) => ({ peer: s.peer, routes: s.routes.length })),
      layer2: this.lastPlan.layer2.map((l) => l.ip),
      ...(this.o.layer2?.announcing ? { layer2Announcing: this.o.layer2.announcing() } : {}),
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
      res.warnings,
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

  /** The Layer 2 liveness secret: METALLB_ML_SECRET_KEY (option), else the memberlist Secret. */
  private memberSecret(): string | undefined {
    if (this.o.memberSecret !== undefined && this.o.memberSecret !== '') return this.o.memberSecret;
    const name = this.o.memberSecretName ?? MEMBERLIST_SECRET_NAME;
    const secret = this.secrets.get(`${this.o.namespace}/${name}`) as unknown as Secret | undefined;
    if (!secret) return undefined;
    const v = secretValue(secret, MEMBERLIST_SECRET_KEY);
    return 'value' in v && v.value !== '' ? v.value : undefined;
  }

  /**
   * Fills `password` from the basic-auth Secret of peers that use passwordSecret (the shared
   * resolvePeerPasswords); a session whose Secret or key is missing is not started, and logged.
   */
  private resolvePasswords(sessions: SessionPlan[]): SessionPlan[] {
    const r = resolvePeerPasswords(sessions, this.list<Secret>(this.secrets));
    const errors = r.errors.join('\n');
    if (errors !== this.passwordErrors) {
      this.passwordErrors = errors;
      for (const b of r.blocked) {
        this.o.logger.error({ peer: b.session.peer, secret: b.secret, reason: b.reason }, `BGP password Secret unusable (${b.reason}): session not started`);
      }
    }
    return r.sessions;
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
    const l2 = this.o.layer2;
    if (l2?.setMembers) {
      // Every address this node is a candidate for: the agent re-elects over the live speakers.
      l2.setMembers(layer2Members(cfg, this.list<Node>(this.nodes), this.o.nodeName, this.o.memberPort ?? DEFAULT_GOSSIP_PORT), this.memberSecret());
      l2.setPlan(plan.layer2Candidates);
    } else {
      // A driver without member liveness: only the addresses the planner elected this node for.
      l2?.setPlan(plan.layer2.map((l) => ({ ip: l.ip, services: l.services, node: l.node, interfaces: l.interfaces })));
    }
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
    // What this node really announces (after re-election) when the driver can tell, else the plan.
    const live = l2?.announcing ? new Set(l2.announcing()) : undefined;
    const l2Mine = live ? plan.layer2Candidates.filter((l) => live.has(canonicalIP(l.ip) ?? l.ip)) : plan.layer2;
    for (const l of l2Mine) {
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

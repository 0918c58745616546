// NodeAgent: the per-node pipeline shared by `standalone` and the Kubernetes `speaker`.
//
//   inputs (config, Services + their IPs, Nodes, EndpointSlices, Namespaces, Secrets)
//     -> plan this node (planner)
//     -> resolve BGP passwords from Secrets (a session whose Secret is unusable is blocked)
//     -> share identical route lists between sessions
//     -> BGP speaker (setPlan) and Layer 2 driver (members + candidate addresses)
//     -> extensions (BFD, received routes, graceful restart: see NodeExtension)
//   status() -> NodeStatus (typed; the shells publish it: /status file, CRs, /metrics)
//
// The shells only gather inputs and publish status. Standalone is one machine: it owns every
// Layer 2 address it is a candidate for (no `members`). The Kubernetes speaker passes `members`:
// the agent derives the speakers taking part in elections from the Nodes and the liveness secret
// from the Secrets, and the Layer 2 driver re-elects over the live ones.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { canonicalIP, formatIP, formatPrefix } from '../ip/index.ts';
import { planNode } from '../planner/plan.ts';
import { resolvePeerPasswords } from '../planner/passwords.ts';
import type { BlockedSession } from '../planner/passwords.ts';
import type { Layer2Plan, PlannedRoute, SessionPlan } from '../planner/types.ts';
import { formatCommunity, formatLargeCommunity } from '../planner/format.ts';
import { shareRoutes } from './share.ts';
import { bgpAnnouncements, layer2Announcements } from './announced.ts';
import { DrainOnLeave, nodeForDrain } from './drain.ts';
import { layer2Members, memberSecret } from './layer2.ts';
import { WeightLimiter } from './weightlimit.ts';
import type { MemberOptions } from './layer2.ts';
import type {
  AppliedPlan,
  AppliedSession,
  BgpDriver,
  Layer2Driver,
  NodeAnnouncement,
  NodeExtension,
  NodeInputs,
  NodeSessionView,
  NodeStatus,
  NodeStatusView,
  RouteStatus,
  SpeakerSessionStatus,
  SpeakerSessionView,
} from './types.ts';
import { FULL_STATUS_LISTS, ListShaper } from '../observability/statuslists.ts';
import type { StatusLists } from '../observability/statuslists.ts';

export interface NodeAgentOptions {
  /** This node's name (the Node the plan is computed for). */
  node: string;
  logger: Logger;
  bgp: BgpDriver;
  layer2?: Layer2Driver;
  /** Layer 2 elections among the speakers (Kubernetes). Absent: this node owns every candidate address. */
  members?: MemberOptions;
  /** Our loadBalancerClass; unset = Services without a class. */
  loadBalancerClass?: string;
  /** Per-session features plugged after the BGP speaker (see NodeExtension). */
  extensions?: NodeExtension[];
  /**
   * Drain on leave (src/node/drain.ts): when this node is cordoned or gets the
   * exclude-from-external-load-balancers label, drain (RFC 8326) for periodMs, then withdraw;
   * announce again when lifted. The Kubernetes speaker turns it on.
   */
  drainOnLeave?: { periodMs: number };
  /**
   * Weighted ECMP: default minimum time between two weight-only re-announcements of a route
   * (src/node/weightlimit.ts; a BGPAdvertisement's metallb-ts.io/weight-update-interval wins).
   */
  weightIntervalMs?: number;
  /** Clock for the weight rate limit (ms); default Date.now. */
  now?: () => number;
}

export interface ApplyResult {
  /** False when the plan is the same as the previous apply's (computed on first read). */
  readonly changed: boolean;
  plan: AppliedPlan;
}

export function routeStatus(r: PlannedRoute): RouteStatus {
  return {
    prefix: formatPrefix(r.prefix),
    nextHop: r.nextHop ? formatIP(r.nextHop) : null,
    localPref: r.localPref ?? null,
    communities: r.communities.map(formatCommunity),
    largeCommunities: r.largeCommunities.map(formatLargeCommunity),
    ...(r.weight !== undefined ? { weight: r.weight } : {}),
    ...(r.fallback ? { fallback: true as const } : {}),
  };
}

/** `passwordSecret NS/NAME: REASON` (the status `error` of a blocked session). */
export function blockedReason(b: BlockedSession): string {
  return `passwordSecret ${b.secret}: ${b.reason}`;
}

export class NodeAgent {
  private applied: AppliedPlan | undefined;
  /** The plan driven last (what `changed` compares with); undefined before the first. */
  private lastDriven: AppliedPlan | undefined;
  private generation = 0;
  private blockedKey = '';
  private stopped = false;
  private readonly log: Logger;

  private readonly leave: DrainOnLeave | undefined;
  /** Draining: Layer 2 addresses are handed over and not taken (speakers with elections). */
  private layer2Leaving = false;
  private lastInputs: NodeInputs | undefined;
  private assignments: NodeInputs['assignments'] = {};
  /** BGP announcements of the applied plan (computed once per apply, on first use). */
  private bgpAnnounced: NodeAnnouncement[] | undefined;
  private readonly weights: WeightLimiter;
  private readonly now: () => number;
  /** The last plan, kept for the trailing weight updates (re-driven without re-planning). */
  private lastPlanned: { planned: ReturnType<typeof planNode>; inputs: NodeInputs } | undefined;
  private weightTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: NodeAgentOptions) {
    this.log = o.logger;
    this.weights = new WeightLimiter(o.weightIntervalMs);
    this.now = o.now ?? Date.now;
    if (o.drainOnLeave) {
      this.leave = new DrainOnLeave({
        target: { drain: (ms) => this.drain(ms), resume: () => this.resume() },
        periodMs: o.drainOnLeave.periodMs,
        logger: o.logger,
        // drained: plan with the real Node again (an excluded node also stops Layer 2)
        onDrained: () => {
          if (this.lastInputs && !this.stopped) this.apply(this.lastInputs);
        },
      });
    }
  }

  get node(): string {
    return this.o.node;
  }

  /** Plans this node from `inputs` and drives the BGP speaker, Layer 2 and the extensions. */
  apply(inputs: NodeInputs): ApplyResult {
    const self = this.o.node;
    let nodes = inputs.nodes;
    if (this.leave && !this.stopped) {
      this.lastInputs = inputs;
      const me = nodes.find((n) => n.metadata.name === self);
      this.leave.update(me);
      // while draining, plan as if the node still served: the routes stay (with 65535:0) until
      // the drain period is over, then the speaker withdraws them (and keeps them withdrawn)
      if (this.leave.draining && me) nodes = nodes.map((n) => (n === me ? nodeForDrain(n) : n));
    }
    const planned = planNode(
      {
        config: inputs.config,
        services: inputs.services,
        assignments: inputs.assignments,
        nodes,
        endpointSlices: inputs.endpointSlices,
        namespaces: inputs.namespaces,
        ...(inputs.assumeEndpoints ? { assumeEndpoints: true } : {}),
        ...(this.o.loadBalancerClass !== undefined ? { loadBalancerClass: this.o.loadBalancerClass } : {}),
      },
      self,
    );
    this.lastPlanned = { planned, inputs };
    return this.drive(planned, inputs);
  }

  /** Rate-limits weight changes, resolves passwords and drives the speaker, Layer 2 and the extensions. */
  private drive(planned: ReturnType<typeof planNode>, inputs: NodeInputs): ApplyResult {
    const self = this.o.node;
    const limited = this.stopped ? { sessions: planned.sessions, nextDueAt: undefined } : this.weights.limit(planned.sessions, this.now());
    this.scheduleWeights(limited.nextDueAt);
    const pw = resolvePeerPasswords(limited.sessions, inputs.secrets);
    const running = shareRoutes(pw.sessions);
    const blockedBy = new Map(pw.blocked.map((b) => [b.session, blockedReason(b)]));
    const runningBy = new Map(pw.sessions.map((s, i) => [s, running[i] as SessionPlan]));
    const sessions: AppliedSession[] = limited.sessions.map((s) => {
      const reason = blockedBy.get(s);
      return reason !== undefined ? { plan: s, blocked: reason } : { plan: runningBy.get(s) ?? s, blocked: null };
    });
    // standalone: a single machine owns every address it is a candidate for
    const candidates = this.o.members ? planned.layer2Candidates : planned.layer2Candidates.map((l) => ({ ...l, node: self }));
    const layer2 = this.o.members ? planned.layer2 : candidates;
    const plan: AppliedPlan = { node: self, config: inputs.config, sessions, layer2Candidates: candidates, layer2 };
    if (this.stopped) return { changed: false, plan };

    this.logBlocked(pw.blocked);
    this.o.bgp.setConfig?.(inputs.config);
    this.o.bgp.setPlan(running);
    const l2 = this.o.layer2;
    if (l2) {
      const m = this.o.members;
      l2.setMembers(m ? layer2Members(inputs.config, inputs.nodes, self, m.port) : [], m ? memberSecret(m, inputs.secrets) : undefined);
      l2.setPlan(candidates);
      // draining (on leave or on demand): the other speakers answer for this node's addresses first (handover)
      if (m) l2.setLeaving?.(this.layer2Leaving);
    }
    for (const e of this.o.extensions ?? []) e.apply(plan);

    // `changed` is worked out when asked for (a digest of every route costs a millisecond per
    // thousand routes; standalone's reloads do not need it)
    const before = this.lastDriven;
    this.lastDriven = plan;
    this.applied = plan;
    this.assignments = inputs.assignments;
    this.bgpAnnounced = undefined;
    this.generation++;
    let changed: boolean | undefined;
    return {
      get changed(): boolean {
        changed ??= planKeyOf(before) !== planKeyOf(plan);
        return changed;
      },
      plan,
    };
  }

  /** Trailing weight updates: drive the last plan again when the earliest held weight is due. */
  private scheduleWeights(dueAt: number | undefined): void {
    if (this.weightTimer !== undefined) clearTimeout(this.weightTimer);
    this.weightTimer = undefined;
    if (dueAt === undefined || this.stopped) return;
    this.weightTimer = setTimeout(() => {
      this.weightTimer = undefined;
      const last = this.lastPlanned;
      if (last && !this.stopped) this.drive(last.planned, last.inputs);
    }, Math.max(0, dueAt - this.now()));
  }

  /** The plan applied last (undefined before the first apply). */
  current(): AppliedPlan | undefined {
    return this.applied;
  }

  /**
   * The Layer 2 addresses this node answers for right now: the live owners when the Layer 2
   * driver runs elections, else the planner's choice.
   */
  layer2Owned(): Layer2Plan[] {
    const p = this.applied;
    if (!p) return [];
    const l2 = this.o.layer2;
    if (!l2) return [...p.layer2];
    const live = new Set(l2.announcing());
    return p.layer2Candidates.filter((l) => live.has(canonicalIP(l.ip) ?? l.ip));
  }

  /** `cb` runs when the Layer 2 owners change without a new apply (failover, link down). */
  onLayer2Change(cb: () => void): void {
    this.o.layer2?.onChange(() => {
      if (!this.stopped) cb();
    });
  }

  /** What this node announces per Service and address (BGP: the applied plan; Layer 2: live). */
  announced(): NodeAnnouncement[] {
    if (!this.applied || this.stopped) return [];
    this.bgpAnnounced ??= bgpAnnouncements(this.applied.sessions, this.assignments);
    return [...this.bgpAnnounced, ...layer2Announcements(this.layer2Owned())];
  }

  /**
   * The node's status. Without `lists`, every list is whole (NodeStatus); with them (a /status
   * query), the lists that grow with the routes and Services are cut or counted as asked and
   * built only that far (src/observability/statuslists.ts).
   */
  status(): NodeStatus;
  status(lists: StatusLists): NodeStatusView;
  status(lists: StatusLists = FULL_STATUS_LISTS): NodeStatusView {
    const p = this.applied;
    const speaker = this.o.bgp.status();
    const shape = new ListShaper(lists);
    // sessions sharing one routes array share its status too (one shape: the same `n` for it)
    const shown = new Map<PlannedRoute[], RouteStatus[]>();
    const routesOf = (routes: PlannedRoute[], n: number): RouteStatus[] => {
      let r = shown.get(routes);
      if (r === undefined) shown.set(routes, (r = (n === routes.length ? routes : routes.slice(0, n)).map(routeStatus)));
      return r;
    };
    const one = (a: AppliedSession): NodeSessionView => {
      const s = a.plan;
      const live = a.blocked === null ? findSessionStatus(speaker, s.peer) : null;
      const routes = shape.list('routes', `sessions[${s.peer}].routes`, s.routes.length, (n) => routesOf(s.routes, n));
      return {
        peer: s.peer,
        address: s.config.address ? formatIP(s.config.address) : (s.config.interface ?? null),
        port: s.config.port,
        myASN: s.config.myASN,
        peerASN: s.config.peerASN,
        ebgp: s.ebgp,
        speaker: live ? speakerView(live, shape, `sessions[${s.peer}].speaker.routes`) : null,
        error: a.blocked,
        routeCount: s.routes.length,
        ...(routes !== undefined ? { routes } : {}),
      };
    };
    // running sessions first, then the blocked ones (as /status always showed them)
    const all = p?.sessions ?? [];
    const extensions: Record<string, unknown> = {};
    for (const e of this.o.extensions ?? []) if (e.status) extensions[e.name] = e.status(shape);
    const l2 = this.o.layer2;
    const sessions = [...all.filter((a) => a.blocked === null), ...all.filter((a) => a.blocked !== null)].map(one);
    const announcedAll = this.announced();
    const announced = shape.slice('announced', 'announced', announcedAll);
    const truncated = shape.notice();
    return {
      node: this.o.node,
      generation: this.generation,
      sessions,
      layer2: p ? [...p.layer2] : [],
      layer2Announcing: l2 ? l2.announcements() : null,
      layer2Agent: l2 ? l2.status() : null,
      ...(announced !== undefined ? { announced } : {}),
      announcedCount: announcedAll.length,
      extensions,
      weightUpdates: this.weights.status(),
      ...(this.leave ? { drain: this.leave.status() } : {}),
      ...(truncated ? { truncated } : {}),
    };
  }

  /** Stops the BGP speaker (withdraw: default true), the extensions and Layer 2. */
  async stop(opts: { withdraw?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduleWeights(undefined);
    const withdraw = opts.withdraw ?? true;
    // Layer 2 handover (speakers with elections): the next owners answer before this node stops
    const handover = this.o.members ? this.o.layer2?.handover?.() : undefined;
    for (const e of this.o.extensions ?? []) e.stopping?.({ withdraw });
    await this.o.bgp.stop({ withdraw });
    for (const e of this.o.extensions ?? []) await e.stop({ withdraw });
    await handover;
    await this.o.layer2?.stop();
  }

  /**
   * RFC 8326 drain of every BGP session; resolves once the routes are withdrawn. Layer 2 (with
   * elections): the addresses are handed to the other speakers at once.
   */
  async drain(periodMs: number): Promise<void> {
    if (!this.o.bgp.drain) throw new Error('this BGP speaker cannot drain');
    this.setLayer2Leaving(true);
    await this.o.bgp.drain(periodMs);
  }

  /** Ends a drain: routes are announced normally again, Layer 2 takes part in elections again. */
  resume(): void {
    this.setLayer2Leaving(false);
    this.o.bgp.resume?.();
  }

  private setLayer2Leaving(leaving: boolean): void {
    this.layer2Leaving = leaving;
    if (this.o.members && !this.stopped) this.o.layer2?.setLeaving?.(leaving);
  }

  /** Blocked sessions are logged when the set of problems changes. */
  private logBlocked(blocked: readonly BlockedSession[]): void {
    const key = blocked.map((b) => `${b.session.peer}|${blockedReason(b)}`).join('\n');
    if (key === this.blockedKey) return;
    this.blockedKey = key;
    for (const b of blocked) {
      this.log.error({ peer: b.session.peer, secret: b.secret, reason: b.reason }, `BGP session not started: ${blockedReason(b)}`);
    }
  }
}

/** A session's live speaker state with its Adj-RIB-Out prefixes cut as asked (and counted). */
function speakerView(live: SpeakerSessionStatus, shape: ListShaper, path: string): SpeakerSessionView {
  const { routes: all, ...rest } = live;
  const routes = shape.slice('routes', path, all);
  return { ...rest, routeCount: all.length, ...(routes !== undefined ? { routes } : {}) };
}

/** The speaker's status of the session to BGPPeer `peer`. */
export function findSessionStatus(list: readonly SpeakerSessionStatus[], peer: string): SpeakerSessionStatus | null {
  return list.find((s) => s.peer === peer) ?? null;
}

/**
 * A digest of the plan (only the hash is kept). Hashed route by route: with 100k routes on 10
 * sessions the plan's JSON would be a 100+ MB string.
 */
function planKeyOf(plan: AppliedPlan | undefined): string {
  const h = createHash('sha256');
  const rep = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);
  let chunk = '';
  const add = (v: unknown): void => {
    chunk += JSON.stringify(v, rep) + '\n';
    if (chunk.length > 65536) {
      h.update(chunk);
      chunk = '';
    }
  };
  if (plan === undefined) add(null);
  else {
    for (const a of plan.sessions) {
      const { routes, ...rest } = a.plan;
      add([rest, a.blocked]);
      add(routes.length);
      for (const r of routes) add(r);
    }
    add(plan.layer2Candidates);
  }
  h.update(chunk);
  return h.digest('base64');
}

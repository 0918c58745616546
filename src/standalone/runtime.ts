// Standalone mode core: one process = allocator + planner + BGP speaker + Layer 2 announcer fed
// from a folder of manifests. This module holds the reload logic and the /status model; the
// pieces it drives are injected (see StandaloneDeps) so that the logic is testable with fakes
// and the CLI wires the real allocator / planner / speaker (src/standalone/wire.ts).
//
// Reload semantics:
//   - the folder is read as a whole; if it has any error the previous good input set keeps
//     running unchanged (errors are logged and shown in /status, `configStale` is set);
//   - otherwise Services are (re)allocated starting from the previous assignments (the state
//     file at startup), the state file is rewritten if anything changed, the node's plan is
//     computed and handed to the speaker (which sends only the differences).

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/types.ts';
import type { InputSet } from '../config/load.ts';
import { formatDiagnostic } from '../config/path.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../model/objects.ts';
import { HOSTNAME_LABEL } from '../model/objects.ts';
import type { Layer2Plan, PlannedRoute, SessionPlan } from '../planner/types.ts';
import type { BlockedSession } from '../planner/passwords.ts';
import { formatIP, formatPrefix, rangeSize } from '../ip/index.ts';
import type { StoredAssignment } from './state.ts';
import { loadState, saveState, serializeState } from './state.ts';

/** What standalone needs from config/load's InputSet (every document read is not needed). */
export type InputSetLike = Omit<InputSet, 'objects'>;

export interface AllocateInput {
  config: Config;
  services: Service[];
  namespaces?: Namespace[];
  previous: Record<string, StoredAssignment>;
  loadBalancerClass?: string;
}

export interface AllocateOutput {
  assignments: Record<string, StoredAssignment>;
  results: { key: string; assignment?: StoredAssignment; error?: string; changed?: boolean }[];
}

export interface PlanInput {
  config: Config;
  services: Service[];
  assignments: Record<string, StoredAssignment>;
  nodes: Node[];
  endpointSlices: EndpointSlice[];
  namespaces?: Namespace[];
  secrets?: Secret[];
  assumeEndpoints?: boolean;
}

export interface NodePlan {
  sessions: SessionPlan[];
  layer2: Layer2Plan[];
  /**
   * Sessions that must not start (their passwordSecret cannot be resolved), with the reason:
   * never handed to the speaker, shown in /status with `error` and logged at every reload.
   */
  blocked?: BlockedSession[];
}

/** What standalone needs from the BGP speaker (src/bgp/speaker BGPSpeaker fits). */
export interface SpeakerLike {
  setPlan(sessions: SessionPlan[]): void;
  status(): readonly object[];
  /** withdraw false: sessions with graceful restart keep their routes at the peer (restart). */
  stop(opts?: { withdraw?: boolean }): Promise<void>;
  /** RFC 8326 drain: GRACEFUL_SHUTDOWN for periodMs, then withdraw (resolves then). */
  drain?(periodMs: number): Promise<void>;
  /** Ends a drain: announce normally again. */
  resume?(): void;
}

/** One address the Layer 2 announcer answers for, as shown in /status `layer2Announcing`. */
export interface Layer2AnnouncementStatus {
  ip: string;
  /** Interfaces ARP/NDP is answered on right now (empty: no usable interface). */
  interfaces: string[];
  /** Which selection rule chose them (configured / subnet / fallback / none). */
  rule: string;
  /** Interfaces refused by the selection rule, with the reason. */
  rejected: { name: string; reason: string }[];
  requestsReceived: number;
  responsesSent: number;
  gratuitousSent: number;
}

/** What standalone needs from the Layer 2 announcer (Layer2Announcer fits, see wire.ts). */
export interface Layer2Sink {
  setOwned(entries: { ip: string; interfaces: string[] }[]): void;
  stop(): Promise<void> | void;
  /** Live state for /status (optional). */
  announcing?(): Layer2AnnouncementStatus[];
}

export interface StandaloneDeps {
  readInputs(paths: string[]): InputSetLike;
  allocate(input: AllocateInput): AllocateOutput;
  planNode(input: PlanInput, node: string): NodePlan;
  speaker: SpeakerLike;
  layer2?: Layer2Sink;
}

export interface StandaloneOptions {
  /** Manifest folders/files. */
  paths: string[];
  node: string;
  /** Address of the synthesized Node when the folder has no Node named `node`. */
  nodeAddress: string;
  statePath: string;
  logger: Logger;
  loadBalancerClass?: string;
  /** Clock for /status timestamps (ms since epoch). Default Date.now. */
  now?: () => number;
  /**
   * How the state file write after a reload is scheduled. Default: at once, before the plan is
   * handed to the speaker. The CLI passes `setImmediate`: the speaker (which flushes its
   * UPDATEs on setImmediate too, scheduled first) sends the routes, then the state file is
   * written (fsync) in the same event-loop turn. See docs/standalone.md "State file".
   */
  deferStateWrite?: (write: () => void) => void;
}

export interface ServiceStatus {
  namespace: string;
  name: string;
  ips: string[];
  pool: string | null;
  error: string | null;
}

export interface RouteStatus {
  prefix: string;
  nextHop: string | null;
  localPref: number | null;
  communities: string[];
  largeCommunities: string[];
  /** Weighted ECMP: this node's ready endpoints (the link-bandwidth community is proportional). */
  weight?: number;
}

export interface SessionStatusOut {
  peer: string;
  address: string | null;
  port: number;
  myASN: number;
  peerASN: number;
  ebgp: boolean;
  /** Whatever the speaker reports for this session (state, uptime, counters...); null when not started. */
  speaker: object | null;
  /** Why the session is not started (e.g. its password Secret is missing), else null. */
  error: string | null;
  routes: RouteStatus[];
}

export interface StandaloneStatus {
  node: string;
  ready: boolean;
  /** True when the folder's latest content has errors and the previous good one still runs. */
  stale: boolean;
  generation: number;
  lastReload: { at: string; ok: boolean } | null;
  configErrors: string[];
  configWarnings: string[];
  /**
   * `error`: the state file cannot be used or written right now (cleared by the next good
   * write). `recovery`: what happened at start when the file was unusable — kept for the life of
   * the process, so that a restart that lost or recovered assignments is never silent.
   */
  stateFile: { path: string; error: string | null; recovery: StateRecovery | null };
  services: ServiceStatus[];
  sessions: SessionStatusOut[];
  layer2: Layer2Plan[];
  /** What the Layer 2 announcer answers for right now (null: no announcer wired). */
  layer2Announcing: Layer2AnnouncementStatus[] | null;
  pools: PoolUsage[];
}

/** The state file was unusable at start (see loadState). */
export interface StateRecovery {
  at: string;
  error: string;
  /** The previous generation the assignments came from (null: none usable, started empty). */
  recoveredFrom: string | null;
  recoveredWrittenAt: string | null;
  assignments: number;
}

export interface PoolUsage {
  pool: string;
  inUse: number;
  total: number;
}

export interface ReloadResult {
  ok: boolean;
  errors: string[];
  changed: boolean;
}

export { formatDiagnostic };

function formatCommunity(c: number): string {
  return `${Math.floor(c / 65536)}:${c % 65536}`;
}

export function routeStatus(r: PlannedRoute): RouteStatus {
  return {
    prefix: formatPrefix(r.prefix),
    nextHop: r.nextHop ? formatIP(r.nextHop) : null,
    localPref: r.localPref ?? null,
    communities: r.communities.map(formatCommunity),
    largeCommunities: r.largeCommunities.map(([a, b, c]) => `${a}:${b}:${c}`),
    ...(r.weight !== undefined ? { weight: r.weight } : {}),
  };
}

/** The Node standalone runs as, when the folder does not describe it. */
export function syntheticNode(name: string, address: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { [HOSTNAME_LABEL]: name } },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address },
        { type: 'Hostname', address: name },
      ],
    },
  };
}

function poolUsage(config: Config, assignments: Record<string, StoredAssignment>): PoolUsage[] {
  const inUse = new Map<string, number>();
  for (const a of Object.values(assignments)) inUse.set(a.pool, (inUse.get(a.pool) ?? 0) + a.ips.length);
  return config.pools.map((p) => {
    let total = 0n;
    for (const r of p.ranges) total += rangeSize(r);
    return { pool: p.name, inUse: inUse.get(p.name) ?? 0, total: total > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(total) };
  });
}

interface GoodState {
  config: Config;
  assignments: Record<string, StoredAssignment>;
  services: ServiceStatus[];
  plan: NodePlan;
  /** planKey(plan), computed once */
  planKey: string;
}

export class Standalone {
  private good: GoodState | undefined;
  private errors: string[] = [];
  private warnings: string[] = [];
  private stateError: string | null = null;
  private stateRecovery: StateRecovery | null = null;
  /** The file on disk is bad (found so at start): do not rotate it into `.prev`. */
  private stateFileBad = false;
  /** digest of the state file content last written (or read) */
  private savedState = '';
  /** Assignments waiting for a deferred state file write (deferStateWrite). */
  private pendingState: Record<string, StoredAssignment> | undefined;
  private previous: Record<string, StoredAssignment> = {};
  private generation = 0;
  private lastReload: { at: string; ok: boolean } | null = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(
    private readonly opts: StandaloneOptions,
    private readonly deps: StandaloneDeps,
  ) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger;
  }

  /** Reads the state file and the folder once. Never throws for bad input. */
  start(): ReloadResult {
    const st = loadState(this.opts.statePath);
    if (st.error) {
      this.stateError = st.error;
      this.stateFileBad = true;
      this.stateRecovery = {
        at: new Date(this.now()).toISOString(),
        error: st.error,
        recoveredFrom: st.recoveredFrom ?? null,
        recoveredWrittenAt: st.recoveredWrittenAt ?? null,
        assignments: Object.keys(st.assignments).length,
      };
      const outcome = st.recoveredFrom ? '' : ' (starting with no saved assignments: Services may get other IPs than before)';
      this.log.error({ stateFile: this.opts.statePath, recoveredFrom: st.recoveredFrom ?? null }, st.error + outcome);
    }
    if (st.dropped.length > 0) {
      this.log.warn({ stateFile: this.opts.statePath, dropped: st.dropped }, 'state file: malformed entries ignored');
    }
    this.previous = st.assignments;
    this.savedState = st.error ? '' : digest(serializeState(st.assignments));
    this.log.info({ stateFile: this.opts.statePath, services: Object.keys(st.assignments).length }, 'state loaded');
    return this.reload();
  }

  ready(): boolean {
    return this.good !== undefined && !this.stopped;
  }

  /** Nodes as the planner sees them: the folder's, plus this node if it is not described. */
  private nodesFor(inputs: InputSetLike): Node[] {
    const nodes = [...inputs.nodes];
    if (!nodes.some((n) => n.metadata.name === this.opts.node)) nodes.push(syntheticNode(this.opts.node, this.opts.nodeAddress));
    return nodes;
  }

  reload(): ReloadResult {
    if (this.stopped) return { ok: false, errors: ['stopped'], changed: false };
    this.lastReload = { at: new Date(this.now()).toISOString(), ok: false };
    let inputs: InputSetLike;
    try {
      inputs = this.deps.readInputs(this.opts.paths);
    } catch (e) {
      return this.fail([`reading ${this.opts.paths.join(', ')}: ${(e as Error).message}`]);
    }
    const errors = inputs.errors.map(formatDiagnostic);
    if (!inputs.config && errors.length === 0) errors.push(`${this.opts.paths.join(', ')}: no configuration found`);
    this.warnings = inputs.warnings.map(formatDiagnostic);
    for (const w of this.warnings) this.log.warn({ warning: w }, 'configuration warning');
    if (errors.length > 0 || !inputs.config) return this.fail(errors);
    const config = inputs.config;

    let alloc: AllocateOutput;
    let plan: NodePlan;
    const nodes = this.nodesFor(inputs);
    try {
      alloc = this.deps.allocate({
        config,
        services: inputs.services,
        namespaces: inputs.namespaces,
        previous: this.good?.assignments ?? this.previous,
        ...(this.opts.loadBalancerClass !== undefined ? { loadBalancerClass: this.opts.loadBalancerClass } : {}),
      });
      plan = this.deps.planNode(
        {
          config,
          services: inputs.services,
          assignments: alloc.assignments,
          nodes,
          endpointSlices: inputs.endpointSlices,
          namespaces: inputs.namespaces,
          secrets: inputs.secrets,
          // a folder usually has no EndpointSlices: then every Service counts as served here
          assumeEndpoints: inputs.endpointSlices.length === 0,
        },
        this.opts.node,
      );
    } catch (e) {
      this.log.error({ err: e }, 'internal error while allocating/planning; keeping the previous state');
      return this.fail([`internal error: ${(e as Error).message}`]);
    }

    const services: ServiceStatus[] = alloc.results
      .map((r) => {
        const [namespace = '', name = ''] = r.key.split('/', 2);
        return { namespace, name, ips: r.assignment?.ips ?? [], pool: r.assignment?.pool ?? null, error: r.error ?? null };
      })
      .sort((a, b) => (a.namespace + '/' + a.name < b.namespace + '/' + b.name ? -1 : 1));
    for (const s of services) {
      if (s.error) this.log.warn({ service: `${s.namespace}/${s.name}` }, `no IP: ${s.error}`);
    }

    const prevServices = new Map((this.good?.services ?? []).map((s) => [`${s.namespace}/${s.name}`, s]));
    for (const s of services) {
      const key = `${s.namespace}/${s.name}`;
      const p = prevServices.get(key);
      if (!p || p.ips.join(',') !== s.ips.join(',')) {
        if (s.ips.length > 0) this.log.info({ service: key, ips: s.ips, pool: s.pool }, 'IP assigned');
      }
      prevServices.delete(key);
    }
    for (const key of prevServices.keys()) this.log.info({ service: key }, 'service removed, IP released');

    const defer = this.opts.deferStateWrite;
    if (!defer) this.saveAssignments(alloc.assignments);
    const key = planKey(plan);
    const changed = (this.good?.planKey ?? planKey(undefined)) !== key;
    this.good = { config, assignments: alloc.assignments, services, plan, planKey: key };
    this.errors = [];
    this.generation++;
    this.lastReload.ok = true;
    this.deps.speaker.setPlan(plan.sessions);
    for (const b of plan.blocked ?? []) {
      this.log.error({ peer: b.session.peer, secret: b.secret, reason: b.reason }, `BGP session not started: ${blockedReason(b)}`);
    }
    // Layer 2 seam: the announcer gets the IPs this node owns (one call, nothing else to wire).
    this.deps.layer2?.setOwned(
      plan.layer2.filter((l) => l.node === this.opts.node).map((l) => ({ ip: l.ip, interfaces: l.interfaces })),
    );
    if (defer) {
      // announce first, persist right after (see deferStateWrite)
      const first = this.pendingState === undefined;
      this.pendingState = alloc.assignments;
      if (first) defer(() => this.flushState());
    }
    this.log.info(
      {
        generation: this.generation,
        services: services.length,
        sessions: plan.sessions.map((s) => ({ peer: s.peer, routes: s.routes.length })),
      },
      'configuration applied',
    );
    return { ok: true, errors: [], changed };
  }

  /** Writes a deferred state file update now (no-op when none is pending). */
  flushState(): void {
    const a = this.pendingState;
    this.pendingState = undefined;
    if (a) this.saveAssignments(a);
  }

  private saveAssignments(assignments: Record<string, StoredAssignment>): void {
    const text = digest(serializeState(assignments));
    if (text === this.savedState) return;
    try {
      saveState(this.opts.statePath, assignments, { rotate: !this.stateFileBad });
      this.savedState = text;
      this.stateError = null;
      this.stateFileBad = false;
    } catch (e) {
      this.stateError = (e as Error).message;
      this.log.error({ stateFile: this.opts.statePath }, this.stateError);
    }
  }

  private fail(errors: string[]): ReloadResult {
    this.errors = errors;
    for (const e of errors) this.log.error({ error: e }, 'configuration error');
    if (this.good) this.log.warn({ generation: this.generation }, 'keeping the last good configuration');
    else this.log.warn('no valid configuration yet: not announcing anything');
    return { ok: false, errors, changed: false };
  }

  /** Assignments currently in force (namespace/name -> IPs + pool). */
  assignments(): Record<string, StoredAssignment> {
    return { ...(this.good?.assignments ?? this.previous) };
  }

  status(): StandaloneStatus {
    const speaker = this.deps.speaker.status();
    const plan = this.good?.plan;
    // sessions sharing one routes array (see wire.ts shareRoutes) share its status too
    const shown = new Map<PlannedRoute[], RouteStatus[]>();
    const routesOf = (routes: PlannedRoute[]): RouteStatus[] => {
      let r = shown.get(routes);
      if (r === undefined) shown.set(routes, (r = routes.map(routeStatus)));
      return r;
    };
    const one = (s: SessionPlan, error: string | null): SessionStatusOut => ({
      peer: s.peer,
      address: s.config.address ? formatIP(s.config.address) : (s.config.interface ?? null),
      port: s.config.port,
      myASN: s.config.myASN,
      peerASN: s.config.peerASN,
      ebgp: s.ebgp,
      speaker: error === null ? findSessionStatus(speaker, s.peer) : null,
      error,
      routes: routesOf(s.routes),
    });
    const sessions: SessionStatusOut[] = [
      ...(plan?.sessions ?? []).map((s) => one(s, null)),
      ...(plan?.blocked ?? []).map((b) => one(b.session, blockedReason(b))),
    ];
    return {
      node: this.opts.node,
      ready: this.ready(),
      stale: this.good !== undefined && this.errors.length > 0,
      generation: this.generation,
      lastReload: this.lastReload,
      configErrors: [...this.errors],
      configWarnings: [...this.warnings],
      stateFile: { path: this.opts.statePath, error: this.stateError, recovery: this.stateRecovery },
      services: this.good?.services ?? [],
      sessions,
      layer2: plan?.layer2 ?? [],
      layer2Announcing: this.deps.layer2?.announcing?.() ?? null,
      pools: this.good ? poolUsage(this.good.config, this.good.assignments) : [],
    };
  }

  /**
   * Stops the speaker and the Layer 2 announcer. withdraw (default true): every route is
   * withdrawn. withdraw false (a restart): sessions with graceful restart negotiated keep
   * their routes at the peer as stale until the next process re-announces them.
   */
  async stop(opts: { withdraw?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.flushState();
    await this.deps.speaker.stop({ withdraw: opts.withdraw ?? true });
    await this.deps.layer2?.stop();
  }

  /** RFC 8326 drain of every BGP session (see BGPSpeaker.drain); resolves once withdrawn. */
  async drain(periodMs: number): Promise<void> {
    if (!this.deps.speaker.drain) throw new Error('this speaker cannot drain');
    await this.deps.speaker.drain(periodMs);
  }

  /** Ends a drain: routes are announced normally again. */
  resume(): void {
    this.deps.speaker.resume?.();
  }
}

/** `passwordSecret NS/NAME: REASON` (the /status `error` of a blocked session). */
function blockedReason(b: BlockedSession): string {
  return `passwordSecret ${b.secret}: ${b.reason}`;
}

/**
 * A digest of the plan's JSON (only the hash is kept). Hashed route by route: with 100k
 * routes on 10 sessions the plan's JSON would be a 100+ MB string.
 */
function planKey(plan: NodePlan | undefined): string {
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
    for (const s of plan.sessions) {
      const { routes, ...rest } = s;
      add(rest);
      add(routes.length);
      for (const r of routes) add(r);
    }
    add(plan.layer2);
    add(plan.blocked ?? null);
  }
  h.update(chunk);
  return h.digest('base64');
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** Finds the speaker's status entry for a peer name (field `peer` or `name`). */
export function findSessionStatus(list: readonly object[], peer: string): object | null {
  for (const s of list) {
    const r = s as { peer?: unknown; name?: unknown };
    if (r.peer === peer || r.name === peer) return s;
  }
  return null;
}

// Standalone mode: the shell of the node runtime (src/node/) fed from a folder of manifests.
// This module reads the folder, allocates the Services' IPs (the controller's job in
// Kubernetes), keeps the state file, hands everything to the NodeAgent (which plans this node
// and drives the BGP speaker and Layer 2), and serves /status. src/standalone/wire.ts builds the
// real NodeAgent; tests may give it a recording BGP speaker.
//
// Reload semantics:
//   - the folder is read as a whole (only the files the watcher names are looked at again, the
//     result is the same); while any file has an error, the last good configuration
//     stays in force, the broken files' Services/Nodes/... keep their last good state
//     (lastgood.ts) and every other file's objects are applied under it (errors and the stale
//     files are logged and shown in /status, `stale` is set); with no good configuration yet,
//     nothing is announced;
//   - otherwise Services are (re)allocated starting from the previous assignments (the state
//     file at startup; IncrementalAllocation decides only the changed Services when the
//     configuration is the same object, with allocate()'s result), the NodeAgent applies the
//     new inputs (the speaker sends only the differences), and the state file is rewritten if
//     anything changed (in the background in the CLI).

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { IncrementalAllocation } from '../allocator/index.ts';
import type { Config } from '../config/types.ts';
import type { InputSet } from '../config/load.ts';
import { formatDiagnostic } from '../config/path.ts';
import type { Node } from '../model/objects.ts';
import { syntheticNode } from '../model/node.ts';
import { rangeSize } from '../ip/index.ts';
import type { ApplyResult, NodeAgent } from '../node/agent.ts';
import type { NodeStatus, NodeStatusView } from '../node/types.ts';
import { FULL_STATUS_LISTS, ListShaper, joinNotices } from '../observability/statuslists.ts';
import type { StatusLists } from '../observability/statuslists.ts';
import type { StoredAssignment } from './state.ts';
import { BackgroundStateWriter, loadState, serializeState, writeStateText } from './state.ts';
import { mergeFiles } from './lastgood.ts';
import type { FileObjects } from './lastgood.ts';

/** What standalone needs from config/load's InputSet (every document read is not needed). */
export type InputSetLike = Omit<InputSet, 'objects'>;

export interface StandaloneDeps {
  /**
   * Reads the folder (config/load InputCache in the CLI). `changed`: the absolute paths of the
   * only files that changed since the last read (from the folder watcher); absent: look at
   * every file.
   */
  readInputs(paths: string[], changed?: readonly string[]): InputSetLike;
  /** The node runtime this process drives (its BGP speaker and Layer 2 driver inside). */
  agent: NodeAgent;
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
  /**
   * Write the state file on the thread pool (BackgroundStateWriter) instead of blocking the
   * event loop for the fsync; writes are serialized, coalesced to the latest, and stop() waits
   * for them. The CLI sets it (with deferStateWrite).
   */
  backgroundStateWrite?: boolean;
}

export interface ServiceStatus {
  namespace: string;
  name: string;
  ips: string[];
  pool: string | null;
  error: string | null;
}

/**
 * /status: the folder and allocation state of this process, and the node's NodeStatus; the long
 * lists (routes, Services) cut or counted as the query asks (src/observability/statuslists.ts).
 */
export interface StandaloneStatusView extends Omit<NodeStatusView, 'generation' | 'node'> {
  node: string;
  ready: boolean;
  /**
   * True when the folder's latest content has errors and the previous good configuration still
   * runs (Service changes keep being applied under it when only configuration objects are broken).
   */
  stale: boolean;
  /** Number of good reloads. */
  generation: number;
  lastReload: { at: string; ok: boolean } | null;
  configErrors: string[];
  /**
   * The files whose current content is not in force, why (their first error) and what runs
   * instead (`effect`). Empty when the folder is good.
   */
  staleFiles: StaleFile[];
  configWarnings: string[];
  /**
   * `error`: the state file cannot be used or written right now (cleared by the next good
   * write). `recovery`: what happened at start when the file was unusable — kept for the life of
   * the process, so that a restart that lost or recovered assignments is never silent.
   */
  stateFile: { path: string; error: string | null; recovery: StateRecovery | null };
  /** Every Service we manage, sorted by namespace/name; absent with `services=count`. */
  services?: ServiceStatus[];
  serviceCount: number;
  pools: PoolUsage[];
}

/** /status with every list whole (Standalone.status() without a StatusLists). */
export interface StandaloneStatus extends StandaloneStatusView {
  sessions: NodeStatus['sessions'];
  announced: NodeStatus['announced'];
  services: ServiceStatus[];
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

export interface StaleFile {
  file: string;
  /** The file's first error (file:line: message). */
  reason: string;
  /** What is in force instead of the file's content. */
  effect: string;
}

export interface PoolUsage {
  pool: string;
  inUse: number;
  total: number;
}

export interface ReloadResult {
  ok: boolean;
  errors: string[];
  /** The plan differs from the last one (worked out on first read). */
  readonly changed: boolean;
}

export { formatDiagnostic, syntheticNode };

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
  /**
   * Services of the allocation without an IP, with why (null: it just stopped being ours and
   * released its IP). The /status Service list is built from these and the assignments.
   */
  failed: Map<string, string | null>;
}

/**
 * What /status derives from a good state, made on the first /status that needs it: a good state
 * is replaced whole on every reload, never changed, so polling /status does not walk 100k
 * assignments every time.
 */
const derived = new WeakMap<GoodState, { keys?: string[]; pools?: PoolUsage[] }>();

function derivedOf(g: GoodState): { keys?: string[]; pools?: PoolUsage[] } {
  let d = derived.get(g);
  if (!d) derived.set(g, (d = {}));
  return d;
}

/** Keys (namespace/name) of every Service we manage, sorted: the assigned ones and the failed ones without an IP. */
function serviceKeys(g: GoodState | undefined): string[] {
  if (!g) return [];
  const d = derivedOf(g);
  if (d.keys) return d.keys;
  const keys = Object.keys(g.assignments);
  for (const key of g.failed.keys()) if (!Object.prototype.hasOwnProperty.call(g.assignments, key)) keys.push(key);
  return (d.keys = keys.sort());
}

/**
 * /status `services`: the Services we manage, sorted by namespace/name, and their count. Built
 * on request, cut as `shape` asks: only the Services shown are built (their sorted keys are kept
 * with the good state).
 */
function serviceList(g: GoodState | undefined, shape: ListShaper): { services?: ServiceStatus[]; serviceCount: number } {
  const keys = serviceKeys(g);
  const services = shape.list('services', 'services', keys.length, (n) =>
    keys
      .slice(0, n)
      .map((key) => {
        const i = key.indexOf('/');
        const a = g && Object.prototype.hasOwnProperty.call(g.assignments, key) ? g.assignments[key] : undefined;
        return { namespace: key.slice(0, i < 0 ? key.length : i), name: i < 0 ? '' : key.slice(i + 1), ips: a?.ips ?? [], pool: a?.pool ?? null, error: g?.failed.get(key) ?? null };
      }),
  );
  return { ...(services !== undefined ? { services } : {}), serviceCount: keys.length };
}

export class Standalone {
  private good: GoodState | undefined;
  private errors: string[] = [];
  private staleFiles: StaleFile[] = [];
  /** Cluster objects of every file's last good version (see lastgood.ts). */
  private goodFiles = new Map<string, FileObjects>();
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
  private readonly background: BackgroundStateWriter | undefined;
  /** Allocates only the Services that changed when the configuration did not (same output as allocate). */
  private readonly allocation = new IncrementalAllocation();

  constructor(
    private readonly opts: StandaloneOptions,
    private readonly deps: StandaloneDeps,
  ) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger;
    if (opts.backgroundStateWrite) this.background = new BackgroundStateWriter(opts.statePath);
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
  private nodesFor(folderNodes: readonly Node[]): Node[] {
    const nodes = [...folderNodes];
    if (!nodes.some((n) => n.metadata.name === this.opts.node)) nodes.push(syntheticNode(this.opts.node, this.opts.nodeAddress));
    return nodes;
  }

  /**
   * Reads the folder again and applies it. `changed`: the files known to have changed (from
   * the folder watcher); only those are looked at. Without it, every file is.
   */
  reload(changedFiles?: readonly string[]): ReloadResult {
    if (this.stopped) return { ok: false, errors: ['stopped'], changed: false };
    this.lastReload = { at: new Date(this.now()).toISOString(), ok: false };
    let inputs: InputSetLike;
    try {
      inputs = this.deps.readInputs(this.opts.paths, changedFiles);
    } catch (e) {
      return this.fail([`reading ${this.opts.paths.join(', ')}: ${(e as Error).message}`]);
    }
    const errors = inputs.errors.map(formatDiagnostic);
    if (!inputs.config && errors.length === 0) errors.push(`${this.opts.paths.join(', ')}: no configuration found`);
    this.warnings = inputs.warnings.map(formatDiagnostic);
    if (isEmptyFolder(inputs)) {
      // as `validate` says it: almost always a wrong path; the folder stays watched
      this.warnings.push(`no objects found in ${this.opts.paths.join(', ')} (folders are read for *.yaml, *.yml, *.json): nothing to announce until manifests are added`);
    }
    for (const w of this.warnings) this.log.warn({ warning: w }, 'configuration warning');
    // A broken file (a configuration typo, a bad Service, a YAML syntax error, an unreadable
    // file) does not freeze the node: the last good configuration stays in force, the broken
    // files' Services, Nodes, ... keep their last good state, and every other file's objects
    // keep flowing under it (a deleted Service is withdrawn, a new one gets an IP).
    const good = this.good;
    const underLastGood = good !== undefined && errors.length > 0;
    if (!underLastGood && (errors.length > 0 || !inputs.config)) return this.fail(errors);
    const config = underLastGood ? good.config : (inputs.config as Config);
    const merged = mergeFiles(inputs.files ?? [{ file: '', ok: true, ...inputs }], this.goodFiles);
    const objects = underLastGood ? merged.objects : inputs;
    const staleFiles = staleFilesOf(inputs, merged.kept);
    if (underLastGood) this.fail(errors, 'keeping the last good configuration; Service changes in the other files are applied under it', staleFiles);

    const nodes = this.nodesFor(objects.nodes);
    let alloc: ReturnType<IncrementalAllocation['allocate']>;
    try {
      alloc = this.allocation.allocate({
        config,
        services: objects.services,
        namespaces: objects.namespaces,
        previous: this.good?.assignments ?? this.previous,
        ...(this.opts.loadBalancerClass !== undefined ? { loadBalancerClass: this.opts.loadBalancerClass } : {}),
      });
    } catch (e) {
      this.log.error({ err: e }, 'internal error while allocating; keeping the previous state');
      return this.fail([`internal error: ${(e as Error).message}`]);
    }

    const failed = new Map<string, string | null>();
    const prev = this.good;
    const gone = new Set(prev ? [...Object.keys(prev.assignments), ...prev.failed.keys()] : []);
    for (const r of alloc.results) {
      gone.delete(r.key);
      if (r.error !== undefined) {
        failed.set(r.key, r.error);
        this.log.warn({ service: r.key }, `no IP: ${r.error}`);
      } else if (!r.assignment) failed.set(r.key, null);
      const ips = r.assignment?.ips ?? [];
      const before = prev?.assignments[r.key]?.ips;
      if (ips.length > 0 && (!before || (r.changed && before.join(',') !== ips.join(',')))) this.log.info({ service: r.key, ips, pool: r.assignment?.pool }, 'IP assigned');
    }
    for (const key of gone) this.log.info({ service: key }, 'service removed, IP released');

    const defer = this.opts.deferStateWrite;
    if (!defer) this.saveAssignments(alloc.assignments);
    let applied: ApplyResult;
    let sessions: { peer: string; routes: number }[];
    try {
      applied = this.deps.agent.apply({
        config,
        services: objects.services,
        assignments: alloc.assignments,
        nodes,
        endpointSlices: objects.endpointSlices,
        namespaces: objects.namespaces,
        secrets: objects.secrets,
        // a folder usually has no EndpointSlices: then every Service counts as served here
        assumeEndpoints: objects.endpointSlices.length === 0,
      });
      sessions = applied.plan.sessions.filter((a) => a.blocked === null).map((a) => ({ peer: a.plan.peer, routes: a.plan.routes.length }));
    } catch (e) {
      this.log.error({ err: e }, 'internal error while planning; keeping the previous state');
      return this.fail([`internal error: ${(e as Error).message}`]);
    }
    this.good = { config, assignments: alloc.assignments, failed };
    this.previous = {}; // in this.good from now on
    this.goodFiles = merged.next;
    // under the last good configuration the errors stay (stale) and the reload is not "ok"
    if (!underLastGood) {
      this.errors = [];
      this.staleFiles = [];
      this.generation++;
      this.lastReload.ok = true;
    }
    if (defer) {
      // announce first, persist right after (see deferStateWrite)
      const first = this.pendingState === undefined;
      this.pendingState = alloc.assignments;
      if (first) defer(() => this.flushState());
    }
    this.log.info(
      {
        generation: this.generation,
        services: alloc.results.length,
        sessions,
      },
      underLastGood ? 'Service changes applied under the last good configuration' : 'configuration applied',
    );
    // `changed` (a digest of the plan) only when the caller asks for it
    return {
      ok: !underLastGood,
      errors: underLastGood ? errors : [],
      get changed(): boolean {
        return applied.changed;
      },
    };
  }

  /** Writes a deferred state file update now (no-op when none is pending). */
  flushState(): void {
    const a = this.pendingState;
    this.pendingState = undefined;
    if (a) this.saveAssignments(a);
  }

  /** Resolves once background state file writes (backgroundStateWrite) are done. */
  async settleState(): Promise<void> {
    await this.background?.settle();
  }

  private saveAssignments(assignments: Record<string, StoredAssignment>): void {
    const data = serializeState(assignments);
    const text = digest(data);
    if (text === this.savedState) return;
    if (this.background) {
      this.savedState = text; // on its way: the same assignments are not queued again
      this.background.write(
        data,
        () => !this.stateFileBad,
        (err) => {
          if (err === null) {
            this.stateError = null;
            this.stateFileBad = false;
            return;
          }
          this.stateError = err.message;
          this.log.error({ stateFile: this.opts.statePath }, err.message);
          if (this.savedState === text) this.savedState = ''; // the next reload tries again
        },
      );
      return;
    }
    try {
      writeStateText(this.opts.statePath, data, { rotate: !this.stateFileBad });
      this.savedState = text;
      this.stateError = null;
      this.stateFileBad = false;
    } catch (e) {
      this.stateError = (e as Error).message;
      this.log.error({ stateFile: this.opts.statePath }, this.stateError);
    }
  }

  private fail(errors: string[], keeping = 'keeping the last good configuration', staleFiles: StaleFile[] = []): ReloadResult {
    this.errors = errors;
    this.staleFiles = staleFiles;
    for (const e of errors) this.log.error({ error: e }, 'configuration error');
    for (const f of staleFiles) this.log.warn({ file: f.file, reason: f.reason }, `stale file: ${f.effect}`);
    if (this.good) this.log.warn({ generation: this.generation }, keeping);
    else this.log.warn('no valid configuration yet: not announcing anything');
    return { ok: false, errors, changed: false };
  }

  /** Assignments currently in force (namespace/name -> IPs + pool). */
  assignments(): Record<string, StoredAssignment> {
    return { ...(this.good?.assignments ?? this.previous) };
  }

  /** Without `lists`: every list whole; with them (a /status query): cut or counted as asked. */
  status(): StandaloneStatus;
  status(lists: StatusLists): StandaloneStatusView;
  status(lists: StatusLists = FULL_STATUS_LISTS): StandaloneStatusView {
    const { truncated: nodeCut, ...node } = this.deps.agent.status(lists);
    const shape = new ListShaper(lists);
    const services = serviceList(this.good, shape);
    const truncated = joinNotices(nodeCut, shape.notice());
    return {
      ...node,
      node: this.opts.node,
      ready: this.ready(),
      stale: this.good !== undefined && this.errors.length > 0,
      generation: this.generation,
      lastReload: this.lastReload,
      configErrors: [...this.errors],
      staleFiles: [...this.staleFiles],
      configWarnings: [...this.warnings],
      stateFile: { path: this.opts.statePath, error: this.stateError, recovery: this.stateRecovery },
      ...services,
      pools: this.good ? (derivedOf(this.good).pools ??= poolUsage(this.good.config, this.good.assignments)) : [],
      ...(truncated ? { truncated } : {}),
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
    await this.settleState();
    await this.deps.agent.stop({ withdraw: opts.withdraw ?? true });
  }

  /** RFC 8326 drain of every BGP session (see BGPSpeaker.drain); resolves once withdrawn. */
  async drain(periodMs: number): Promise<void> {
    await this.deps.agent.drain(periodMs);
  }

  /** Ends a drain: routes are announced normally again. */
  resume(): void {
    this.deps.agent.resume();
  }
}

/** Nothing read: no file (or only empty ones), no configuration object and no error. */
function isEmptyFolder(inputs: InputSetLike): boolean {
  if (inputs.errors.length > 0 || !inputs.config) return false;
  const c = inputs.config;
  if (c.pools.length + c.peers.length + c.bgpAdvertisements.length + c.l2Advertisements.length + c.bfdProfiles.length > 0) return false;
  return inputs.services.length + inputs.nodes.length + inputs.endpointSlices.length + inputs.namespaces.length + inputs.secrets.length === 0;
}

/** The files with errors, each with its first error and what is in force instead. */
function staleFilesOf(inputs: InputSetLike, kept: readonly string[]): StaleFile[] {
  const keptSet = new Set(kept);
  const byFile = new Map<string, StaleFile>();
  for (const d of inputs.errors) {
    if (byFile.has(d.file)) continue;
    const effect = keptSet.has(d.file)
      ? 'the last good configuration and this file\'s last good Services/Nodes/... stay in force'
      : 'the last good configuration stays in force; this file\'s Services/Nodes/... are applied';
    byFile.set(d.file, { file: d.file, reason: formatDiagnostic(d), effect });
  }
  return [...byFile.values()];
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

// Layer2Agent: the Layer 2 runtime of one node. It ties together
//   - the interface snapshot (sysnet.ts; carrier polled every linkPollMs, the rest re-read every
//     snapshotRefreshMs) and the selection rule (interfaces.ts),
//   - member liveness (members.ts), advertising the IPs this node has no usable interface for,
//   - the election + partition rule (ownership.ts),
//   - the ARP/NDP responder (announcer.ts).
// Used by the Kubernetes speaker (members = speakers on Ready nodes) and by standalone (no
// members: a single node always owns its IPs). `src/layer2/main.ts` runs one from a JSON file.

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { canonicalIP } from '../ip/index.ts';
import type { Layer2Plan } from '../planner/types.ts';
import { Layer2Announcer } from './announcer.ts';
import { selectInterfaces, type InterfaceSnapshot } from './interfaces.ts';
import { Members, type MemberAddress } from './members.ts';
import { decideOwnership, type OwnershipResult, type PartitionPolicy, type ServiceEntry } from './ownership.ts';
import { readCarrier, readInterfaceSnapshot } from './sysnet.ts';

export interface Layer2AgentOptions {
  logger: Logger;
  nodeName: string;
  registry?: Registry;
  /** Shared secret of the liveness protocol (required when there are other members). */
  secret?: string | Buffer;
  bind?: { address?: string; port?: number };
  /** Speakers taking part in elections (self may be listed; it is implied). */
  members?: MemberAddress[];
  probeIntervalMs?: number;
  deadAfterMs?: number;
  maxSkewMs?: number;
  linkPollMs?: number;
  snapshotRefreshMs?: number;
  partitionPolicy?: PartitionPolicy;
  gratuitousScheduleMs?: readonly number[];
  /** Interface snapshot source (tests); default /sys/class/net. */
  snapshot?: () => InterfaceSnapshot;
  /** Carrier source (tests); default /sys/class/net/IF/carrier. */
  carrier?: (name: string) => boolean;
}

export interface Layer2AgentStatus {
  node: string;
  hasQuorum: boolean;
  alive: string[];
  members: { name: string; alive: boolean; ready: boolean; ineligible: string[] }[];
  /** IPs this node has no usable interface for. */
  ineligible: string[];
  owners: Record<string, string | null>;
  announcing: { ip: string; interfaces: string[] }[];
  /** Per-IP counters of the responder. */
  stats: Record<string, { requestsReceived: number; responsesSent: number; gratuitousSent: number }>;
}

export class Layer2Agent extends EventEmitter {
  readonly announcer: Layer2Announcer;
  private readonly log: Logger;
  private readonly opts: Layer2AgentOptions;
  private members: Members | undefined;
  private entries: ServiceEntry[] = [];
  private snap: InterfaceSnapshot = { interfaces: [] };
  private snapKey = '';
  private selfIneligible = new Set<string>();
  private last: OwnershipResult = { owners: {}, hasQuorum: true, owned: [] };
  private lastOwnedKey = '';
  private lastOwnersKey = '';
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private memberList: MemberAddress[];
  private servicesLoaded = false;

  constructor(opts: Layer2AgentOptions) {
    super();
    this.opts = opts;
    this.log = opts.logger.child({ component: 'layer2-agent', node: opts.nodeName });
    this.memberList = opts.members ?? [];
    const annOpts: ConstructorParameters<typeof Layer2Announcer>[0] = {
      logger: opts.logger,
      nodeName: opts.nodeName,
      snapshot: () => this.snap,
      refreshMs: 0,
    };
    if (opts.registry) annOpts.registry = opts.registry;
    if (opts.gratuitousScheduleMs) annOpts.gratuitousScheduleMs = opts.gratuitousScheduleMs;
    this.announcer = new Layer2Announcer(annOpts);
  }

  private readSnapshot(): void {
    try {
      this.snap = (this.opts.snapshot ?? readInterfaceSnapshot)();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'layer2: cannot read interfaces');
    }
    this.snapKey = JSON.stringify(this.snap);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.readSnapshot();
    const others = this.memberList.filter((m) => m.name !== this.opts.nodeName);
    if (others.length > 0) {
      if (!this.opts.secret) throw new Error('layer2: a member secret is required when other members are configured');
      const mo: ConstructorParameters<typeof Members>[0] = {
        logger: this.opts.logger,
        self: this.opts.nodeName,
        secret: this.opts.secret,
        members: this.memberList,
      };
      if (this.opts.bind) mo.bind = this.opts.bind;
      if (this.opts.probeIntervalMs !== undefined) mo.probeIntervalMs = this.opts.probeIntervalMs;
      if (this.opts.deadAfterMs !== undefined) mo.deadAfterMs = this.opts.deadAfterMs;
      if (this.opts.maxSkewMs !== undefined) mo.maxSkewMs = this.opts.maxSkewMs;
      this.members = new Members(mo);
      this.members.on('change', () => this.recompute());
      await this.members.start();
    }
    const linkPoll = this.opts.linkPollMs ?? 200;
    const refresh = this.opts.snapshotRefreshMs ?? 2000;
    this.timers.push(setInterval(() => this.pollCarrier(), linkPoll));
    this.timers.push(
      setInterval(() => {
        const before = this.snapKey;
        this.readSnapshot();
        if (this.snapKey !== before) this.recompute(true);
      }, refresh),
    );
    this.recompute(true);
  }

  /** Replaces the service IPs this node may announce (with their candidates). */
  setServices(entries: ServiceEntry[]): void {
    const out: ServiceEntry[] = [];
    for (const e of entries) {
      const ip = canonicalIP(e.ip);
      if (!ip) {
        this.log.warn({ ip: e.ip }, 'layer2: ignoring invalid service IP');
        continue;
      }
      out.push({ ...e, ip });
    }
    this.entries = out;
    this.servicesLoaded = true;
    this.recompute(true);
  }

  /**
   * Convenience for the speakers: takes the planner's Layer 2 entries for every IP this node
   * may announce (planAll().layer2 filtered to IPs whose candidates include this node). With
   * `candidates` the owner is re-elected over the live members; without them only the planned
   * owner is a candidate (no failover).
   */
  setPlan(plans: Layer2Plan[]): void {
    this.setServices(
      plans.map((p) => {
        const e: ServiceEntry = {
          ip: p.ip,
          interfaces: [...p.interfaces],
          candidates: p.candidates ?? (p.node ? [{ name: p.node, labels: {} }] : []),
        };
        if (p.preferred) e.preferred = p.preferred;
        return e;
      }),
    );
  }

  /** Replaces the member list (e.g. when Kubernetes reports speakers/nodes changing). */
  setMembers(list: MemberAddress[]): void {
    this.memberList = list;
    this.members?.setMembers(list);
    this.recompute();
  }

  status(): Layer2AgentStatus {
    const states = this.members?.table.states() ?? [];
    return {
      node: this.opts.nodeName,
      hasQuorum: this.last.hasQuorum,
      alive: this.members?.alive() ?? [this.opts.nodeName],
      members: states.map((m) => ({ name: m.name, alive: m.alive, ready: m.ready, ineligible: [...m.ineligible].sort() })),
      ineligible: [...this.selfIneligible].sort(),
      owners: { ...this.last.owners },
      announcing: this.announcer.status().map((s) => ({ ip: s.ip, interfaces: s.interfaces })),
      stats: this.announcer.stats(),
    };
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.announcer.stop();
    await this.members?.stop();
    this.started = false;
  }

  private pollCarrier(): void {
    const carrier = this.opts.carrier ?? ((n: string) => readCarrier(n));
    let changed = false;
    for (const f of this.snap.interfaces) {
      const c = carrier(f.name);
      if (c !== f.carrier) {
        f.carrier = c;
        if (c) f.adminUp = true;
        changed = true;
        this.log.info({ interface: f.name, carrier: c }, 'layer2: link state changed');
      }
    }
    if (changed) {
      this.snapKey = JSON.stringify(this.snap);
      this.recompute(true);
    }
  }

  private recompute(interfacesChanged = false): void {
    if (!this.started) return;
    const inel = new Set<string>();
    for (const e of this.entries) {
      if (selectInterfaces(e.ip, e.interfaces, this.snap).usable.length === 0) inel.add(e.ip);
    }
    this.selfIneligible = inel;
    this.members?.setIneligible([...inel], this.servicesLoaded);
    const res = decideOwnership({
      self: this.opts.nodeName,
      members: this.memberList.map((m) => m.name),
      alive: this.members?.alive() ?? [this.opts.nodeName],
      selfIneligible: inel,
      peerIneligible: (n) => this.members?.table.ineligibleOf(n) ?? new Set(),
      peerReady: (n) => this.members?.table.isReady(n) ?? false,
      entries: this.entries,
      policy: this.opts.partitionPolicy ?? 'majority',
    });
    this.last = res;
    const ownedKey = JSON.stringify(res.owned);
    if (ownedKey !== this.lastOwnedKey || interfacesChanged) {
      this.lastOwnedKey = ownedKey;
      this.announcer.setOwned(res.owned);
    }
    const ownersKey = JSON.stringify([res.owners, res.hasQuorum, this.members?.alive() ?? []]);
    if (ownersKey !== this.lastOwnersKey) {
      this.lastOwnersKey = ownersKey;
      this.log.info({ owners: res.owners, hasQuorum: res.hasQuorum, alive: this.members?.alive() }, 'layer2: owners');
      this.emit('owners', this.status());
    }
  }
}

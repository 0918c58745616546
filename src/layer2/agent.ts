// Layer2Agent: the Layer 2 runtime of one node. It ties together
//   - the interface snapshot (sysnet.ts; carrier polled every linkPollMs, the rest re-read every
//     snapshotRefreshMs) and the selection rule (interfaces.ts),
//   - member liveness (members.ts), advertising the IPs this node has no usable interface for,
//   - the election + partition rule (ownership.ts),
//   - the ARP/NDP responder (announcer.ts).
// Used by the Kubernetes speaker (members = speakers on Ready nodes) and by standalone (no
// members: a single node always owns its IPs). `src/layer2/main.ts` runs one from a JSON file.
//
// Handover (planned stop, drain): setLeaving(true) makes the heartbeats say "leaving", so the
// other speakers elect new owners at once; this node keeps answering for every IP it owned until
// the new owner's heartbeat lists the IP as announced (it answers and has sent its gratuitous
// ARP / unsolicited NA), or until handoverTimeoutMs. Only then it stops answering: the client
// never sees a moment without an owner. An IP no other speaker can take is released at once.

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { canonicalIP } from '../ip/index.ts';
import type { Layer2Plan } from '../planner/types.ts';
import { Layer2Announcer } from './announcer.ts';
import { selectInterfaces, type InterfaceSnapshot } from './interfaces.ts';
import { Members, type MemberAddress } from './members.ts';
import { decideOwnership, type OwnershipResult, type PartitionPolicy, type ServiceEntry } from './ownership.ts';
import type { OwnedEntry } from './announcer.ts';
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
  /** Handover: longest wait for the new owners to confirm (default 1500 ms). */
  handoverTimeoutMs?: number;
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
  /** Leaving (planned stop / drain): IPs still answered until their new owner confirms. */
  leaving?: { handingOver: { ip: string; to: string | null }[] };
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
  private leaving = false;
  /** IPs still answered while leaving, until the new owner confirms or the timer fires. */
  private handingOver = new Map<string, OwnedEntry>();
  private handoverTimer: NodeJS.Timeout | undefined;
  private handoverWaiters: (() => void)[] = [];

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

  /**
   * Leaving (true): hand every owned IP to its next owner, then stop answering (see the file
   * comment). Leaving (false): take part in elections again.
   */
  setLeaving(leaving: boolean): void {
    if (leaving === this.leaving) return;
    this.leaving = leaving;
    this.clearHandover();
    if (leaving) {
      for (const e of this.last.owned) this.handingOver.set(e.ip, e);
      this.log.info({ ips: [...this.handingOver.keys()] }, 'layer2: leaving, handing the addresses over to their next owners');
      if (this.handingOver.size > 0) {
        this.handoverTimer = setTimeout(() => {
          this.handoverTimer = undefined;
          if (this.handingOver.size === 0) return;
          this.log.warn({ ips: [...this.handingOver.keys()], timeoutMs: this.handoverTimeoutMs }, 'layer2: handover not confirmed in time: addresses released');
          this.handingOver.clear();
          this.recompute();
        }, this.handoverTimeoutMs);
      }
    } else {
      this.log.info('layer2: serving again');
    }
    this.members?.setLeaving(leaving);
    this.recompute();
  }

  /** Resolves once no IP is still being handed over (at most handoverTimeoutMs after setLeaving). */
  handoverDone(): Promise<void> {
    if (this.handingOver.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.handoverWaiters.push(resolve));
  }

  private get handoverTimeoutMs(): number {
    return this.opts.handoverTimeoutMs ?? 1500;
  }

  private clearHandover(): void {
    if (this.handoverTimer) clearTimeout(this.handoverTimer);
    this.handoverTimer = undefined;
    this.handingOver.clear();
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
      ...(this.leaving ? { leaving: { handingOver: [...this.handingOver.keys()].map((ip) => ({ ip, to: this.last.owners[ip] ?? null })) } } : {}),
      stats: this.announcer.stats(),
    };
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.clearHandover();
    this.releaseWaiters();
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
    const table = this.members?.table;
    const quorumMembers = table ? new Set(table.quorumMembers()) : undefined;
    const res = decideOwnership({
      self: this.opts.nodeName,
      // members that left on purpose do not count for the quorum
      members: this.memberList.map((m) => m.name).filter((n) => !quorumMembers || quorumMembers.has(n)),
      alive: this.members?.alive() ?? [this.opts.nodeName],
      // leaving: this node is no candidate; everyone else elects the same new owners
      selfIneligible: this.leaving ? new Set(this.entries.map((e) => e.ip)) : inel,
      peerIneligible: (n) => this.members?.table.ineligibleOf(n) ?? new Set(),
      peerReady: (n) => this.members?.table.isReady(n) ?? false,
      entries: this.entries,
      policy: this.opts.partitionPolicy ?? 'majority',
    });
    this.last = res;
    if (this.leaving) this.confirmHandover(res);
    const owned = [...res.owned, ...[...this.handingOver.values()].filter((e) => !res.owned.some((o) => o.ip === e.ip))];
    this.members?.setAnnouncing(owned.map((e) => e.ip));
    const ownedKey = JSON.stringify(owned);
    if (ownedKey !== this.lastOwnedKey || interfacesChanged) {
      this.lastOwnedKey = ownedKey;
      this.announcer.setOwned(owned);
    }
    const ownersKey = JSON.stringify([res.owners, res.hasQuorum, this.members?.alive() ?? []]);
    if (ownersKey !== this.lastOwnersKey) {
      this.lastOwnersKey = ownersKey;
      this.log.info({ owners: res.owners, hasQuorum: res.hasQuorum, alive: this.members?.alive() }, 'layer2: owners');
      this.emit('owners', this.status());
    }
  }

  /**
   * Drops from the handover the IPs whose new owner answers now (its heartbeat lists them), and
   * those no other speaker can take (nobody to wait for).
   */
  private confirmHandover(res: OwnershipResult): void {
    for (const ip of [...this.handingOver.keys()]) {
      const to = res.owners[ip] ?? null;
      const entry = this.entries.find((e) => e.ip === ip);
      const confirmed = to !== null && to !== this.opts.nodeName && (this.members?.table.announcingOf(to).has(ip) ?? false);
      if (confirmed || to === null || !entry || !res.hasQuorum) {
        this.handingOver.delete(ip);
        this.log.info({ ip, to, confirmed }, confirmed ? 'layer2: handover confirmed by the new owner: stopped answering' : 'layer2: no other speaker can take the address: stopped answering');
      }
    }
    if (this.handingOver.size === 0) {
      if (this.handoverTimer) clearTimeout(this.handoverTimer);
      this.handoverTimer = undefined;
      this.releaseWaiters();
    }
  }

  private releaseWaiters(): void {
    const w = this.handoverWaiters;
    this.handoverWaiters = [];
    for (const f of w) f();
  }
}

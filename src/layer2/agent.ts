// Layer2Agent: the Layer 2 runtime of one node. It ties together
//   - the interface snapshot (sysnet.ts; carrier polled every linkPollMs, the rest re-read every
//     snapshotRefreshMs) and the selection rule (interfaces.ts),
//   - member liveness (members.ts), advertising the IPs this node has no usable interface for,
//   - the election + partition rule (ownership.ts),
//   - the ARP/NDP responder (announcer.ts).
// Used by the Kubernetes speaker (members = speakers on Ready nodes) and by standalone (no
// members: a single node always owns its IPs). `src/layer2/main.ts` runs one from a JSON file.
//
// Every move between live speakers is make-before-break (handover.ts): an IP this node no longer
// owns stays answered until its new owner's heartbeat lists it as announced (it answers and has
// sent its gratuitous ARP / unsolicited NA), or until moveTimeoutMs (3 s); the new owner
// announces the IP again once the old owner went quiet. Failback (a node back, eligible again),
// node selector / endpoint changes, views converging at different times: the client never sees
// a moment without an answer. A planned stop or drain: setLeaving(true) makes the heartbeats say
// "leaving", so the other speakers elect new owners at once; the same handover then runs with
// handoverTimeoutMs (1.5 s). An IP no other speaker can take is released at once.

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { canonicalIP } from '../ip/index.ts';
import type { Layer2Plan } from '../planner/types.ts';
import { Layer2Announcer } from './announcer.ts';
import { selectInterfaces, type InterfaceSnapshot } from './interfaces.ts';
import { Members, type MemberAddress } from './members.ts';
import { HandoverState, type HandoverStep } from './handover.ts';
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
  /** Leaving (planned stop, drain): longest wait for the new owners to confirm (default 1500 ms). */
  handoverTimeoutMs?: number;
  /** Moves between live speakers: longest time a lost IP stays answered unconfirmed (default 3000 ms). */
  moveTimeoutMs?: number;
  /** Clock of the handovers (tests); default Date.now. */
  now?: () => number;
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
  /**
   * IPs this node no longer owns but still answers until their new owner confirms (make-before-break);
   * `to`: the owner elected here (null: this node is no longer a candidate; whoever announces it).
   */
  handingOver: { ip: string; to: string | null; remainingMs: number }[];
  /** Leaving (planned stop / drain): the same list, while leaving. */
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
  /** IPs still answered after a move, until the new owner confirms or the timeout. */
  private readonly handover = new HandoverState();
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
    if (leaving) this.log.info({ ips: this.last.owned.map((e) => e.ip) }, 'layer2: leaving, handing the addresses over to their next owners');
    else this.log.info('layer2: serving again');
    this.members?.setLeaving(leaving);
    this.recompute();
  }

  /** Resolves once no IP is still being handed over (while leaving: at most handoverTimeoutMs after setLeaving). */
  handoverDone(): Promise<void> {
    if (this.handover.handingOver().length === 0) return Promise.resolve();
    return new Promise((resolve) => this.handoverWaiters.push(resolve));
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private clearHandoverTimer(): void {
    if (this.handoverTimer) clearTimeout(this.handoverTimer);
    this.handoverTimer = undefined;
  }

  status(): Layer2AgentStatus {
    const handing = this.handover.handingOver();
    const now = this.now();
    const states = this.members?.table.states() ?? [];
    return {
      node: this.opts.nodeName,
      hasQuorum: this.last.hasQuorum,
      alive: this.members?.alive() ?? [this.opts.nodeName],
      members: states.map((m) => ({ name: m.name, alive: m.alive, ready: m.ready, ineligible: [...m.ineligible].sort() })),
      ineligible: [...this.selfIneligible].sort(),
      owners: { ...this.last.owners },
      announcing: this.announcer.status().map((s) => ({ ip: s.ip, interfaces: s.interfaces })),
      handingOver: handing.map((h) => ({ ip: h.ip, to: h.to, remainingMs: Math.max(0, h.until - now) })),
      ...(this.leaving ? { leaving: { handingOver: handing.map((h) => ({ ip: h.ip, to: h.to })) } } : {}),
      stats: this.announcer.stats(),
    };
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.clearHandoverTimer();
    this.handover.clear();
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
    const step = this.handover.step({
      now: this.now(),
      owned: res.owned,
      owners: res.owners,
      hasQuorum: res.hasQuorum,
      peersAlive: (this.members?.alive() ?? []).filter((n) => n !== this.opts.nodeName),
      announcersOf: (ip) => table?.announcersOf(ip) ?? [],
      othersAnswer: (ip) => table?.othersAnswer(ip) ?? false,
      timeoutMs: this.leaving ? (this.opts.handoverTimeoutMs ?? 1500) : (this.opts.moveTimeoutMs ?? 3000),
    });
    this.logHandover(step);
    const ownedKey = JSON.stringify(step.answer);
    if (ownedKey !== this.lastOwnedKey || interfacesChanged) {
      this.lastOwnedKey = ownedKey;
      this.announcer.setOwned(step.answer);
    }
    // after the responder has its sockets: "a" must only list what is really answered (the old
    // owner stops answering when it reads it)
    const answered = new Set(this.announcer.status().filter((a) => a.interfaces.length > 0).map((a) => a.ip));
    this.members?.setAnnouncing(
      res.owned.map((e) => e.ip).filter((ip) => answered.has(ip)),
      step.handingOver.map((h) => h.ip),
    );
    if (step.reannounce.length > 0) {
      this.log.info({ ips: step.reannounce }, 'layer2: the previous owner stopped answering: announcing again');
      this.announcer.reannounce(step.reannounce);
    }
    this.clearHandoverTimer();
    if (step.nextDeadline !== undefined) {
      this.handoverTimer = setTimeout(() => {
        this.handoverTimer = undefined;
        this.recompute();
      }, Math.max(0, step.nextDeadline - this.now()));
    } else {
      this.releaseWaiters();
    }
    const ownersKey = JSON.stringify([res.owners, res.hasQuorum, this.members?.alive() ?? [], step.handingOver.map((h) => h.ip)]);
    if (ownersKey !== this.lastOwnersKey) {
      this.lastOwnersKey = ownersKey;
      this.log.info({ owners: res.owners, hasQuorum: res.hasQuorum, alive: this.members?.alive() }, 'layer2: owners');
      this.emit('owners', this.status());
    }
  }

  private logHandover(step: HandoverStep): void {
    for (const h of step.started) this.log.info({ ip: h.ip, to: h.to }, 'layer2: address moves to another speaker: answering until it confirms');
    for (const e of step.ended) {
      const f = { ip: e.ip, to: e.to, by: e.by, afterMs: e.afterMs };
      if (e.reason === 'confirmed') this.log.info(f, 'layer2: handover confirmed by the new owner: stopped answering');
      else if (e.reason === 'timeout') this.log.warn(f, 'layer2: handover not confirmed in time: stopped answering');
      else if (e.reason === 'owned-again') this.log.info(f, 'layer2: elected again while handing over: answering as the owner');
      else if (e.reason === 'no-quorum') this.log.info(f, 'layer2: lost the quorum while handing over: stopped answering');
      else this.log.info(f, 'layer2: no other speaker can take the address: stopped answering');
    }
  }

  private releaseWaiters(): void {
    const w = this.handoverWaiters;
    this.handoverWaiters = [];
    for (const f of w) f();
  }
}

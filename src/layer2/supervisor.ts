// Layer2Supervisor: runs the node's Layer2Agent for the node runtime (src/node/). Fed with the
// planner's candidate addresses and the member list (speakers on ready nodes). With other
// members and a shared secret the agent runs the liveness protocol and re-elects owners over
// the live speakers (failover within ~1 s); with no other member (standalone), without a secret,
// or when the liveness socket cannot be opened, it announces exactly what the planner elected
// this node for. The agent is recreated when the secret changes or the first other member appears.
// setLeaving / handover: the agent's handover to the next owners (planned stop, drain on leave).

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { tryParseIP } from '../ip/index.ts';
import type { Layer2Plan } from '../planner/types.ts';
import { Layer2Agent } from './agent.ts';
import type { Layer2AgentOptions, Layer2AgentStatus } from './agent.ts';
import { DEFAULT_GOSSIP_PORT, MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME } from './members.ts';
import type { MemberAddress } from './members.ts';
import type { PartitionPolicy } from './ownership.ts';

/** One address the responder answers for, with its interfaces and counters (/status layer2Announcing). */
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

export interface Layer2SupervisorOptions {
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

export interface Layer2SupervisorStatus {
  /** "gossip": liveness protocol among the speakers (failover); "planner": planner's owner only. */
  mode: 'gossip' | 'planner';
  /** Why the liveness protocol does not run although there are other speakers (null: no problem). */
  problem: string | null;
  members: MemberAddress[];
  agent: Layer2AgentStatus | null;
}

/** The node's Layer 2 side (see the file comment); the NodeAgent's Layer2Driver. */
export class Layer2Supervisor extends EventEmitter {
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
  private leaving = false;
  private readonly log: Logger;

  constructor(private readonly o: Layer2SupervisorOptions) {
    super();
    this.log = o.logger.child({ component: 'layer2-supervisor' });
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

  /** Leaving: hand the owned addresses over, then stop answering; false: elected again. */
  setLeaving(leaving: boolean): void {
    this.leaving = leaving;
    this.agent?.setLeaving(leaving);
  }

  /** Planned stop: leave, and wait until the next owners answer (bounded by the agent's timeout). */
  async handover(): Promise<void> {
    await this.chain;
    this.setLeaving(true);
    await this.agent?.handoverDone();
  }

  /**
   * The addresses this node answers for: those elected to it, and those it still answers while
   * handing them over (make-before-break), so ServiceL2Status and metallb_speaker_announced name
   * the old owner until the new one confirms, and only the new one afterwards.
   */
  announcing(): string[] {
    const st = this.agent?.status();
    if (!st || !st.hasQuorum) return [];
    const owned = Object.entries(st.owners)
      .filter(([, owner]) => owner === this.o.nodeName)
      .map(([ip]) => ip);
    return [...new Set([...owned, ...st.handingOver.map((h) => h.ip)])].sort();
  }

  /** Per-address responder state: interfaces, selection rule, counters. */
  announcements(): Layer2AnnouncementStatus[] {
    const ann = this.agent?.announcer;
    if (!ann) return [];
    const stats = ann.stats();
    return ann.status().map((s) => {
      const c = stats[s.ip];
      return {
        ip: s.ip,
        interfaces: s.interfaces,
        rule: s.rule,
        rejected: s.rejected,
        requestsReceived: c?.requestsReceived ?? 0,
        responsesSent: c?.responsesSent ?? 0,
        gratuitousSent: c?.gratuitousSent ?? 0,
      };
    });
  }

  status(): Layer2SupervisorStatus {
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
        problem = `no Layer 2 liveness secret (Secret ${MEMBERLIST_SECRET_NAME} key ${MEMBERLIST_SECRET_KEY}, or METALLB_ML_SECRET_KEY): announcing the planner's choice only, no fast failover`;
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
      if (this.leaving) agent.setLeaving(true);
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


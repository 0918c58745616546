// BFD in front of the BGP speaker: every planned BGP session whose BGPPeer names a bfdProfile
// gets a BFD session to the same peer with that profile's timers (src/bfd/manager.ts). When a
// BFD session that was Up goes Down, the BGP session is taken out of the plan handed to the
// speaker at once (NOTIFICATION Cease, TCP closed, our Adj-RIB-Out dropped) and stays out until
// BFD is Up again. A peer that signals AdminDown (RFC 5882 §3.2) does not tear BGP down.
// Before BFD was ever Up (e.g. the router has no BFD configured) BGP runs normally, as FRR does.
//
// Unnumbered sessions (BGPPeer `interface`) run single-hop BFD to the router's link-local address
// on the interface, learned from its Router Advertisements (the speaker's link discovery).
//
// echoMode is not implemented (asynchronous mode only): a warning is logged and shown in
// status. The supervisor has the speaker's shape (setPlan / status / stop) so a runtime wraps
// its speaker with it and changes nothing else.

import { formatIP, type IP } from '../ip/index.ts';
import type { LinkInfo } from '../bgp/unnumbered/discovery.ts';
import type { BFDProfile, Config } from '../config/types.ts';
import type { SessionPlan } from '../planner/types.ts';
import { sessionKey } from '../bgp/speaker/index.ts';
import type { SessionStatus } from '../bgp/speaker/index.ts';
import { zeroCounters } from '../bgp/speaker/session.ts';
import { BfdState } from './codec.ts';
import { BfdManager, type BfdLogger, type BfdManagerOptions, type BfdPeerSpec, type BfdPeerStatus, type BfdStateChange } from './manager.ts';
import type { DropReason } from './mux.ts';

/** What the supervisor needs from the BGP speaker (BGPSpeaker fits). */
export interface GatedSpeaker {
  setPlan(sessions: SessionPlan[]): void;
  status(): readonly SessionStatus[];
  stop(opts?: { withdraw?: boolean }): Promise<void>;
  /** RFC 8326 drain / resume, forwarded unchanged (BFD keeps running while draining). */
  drain?(periodMs: number): Promise<void>;
  resume?(): void;
  /**
   * Follows the interface of an unnumbered peer (BGPSpeaker.watchLink): BFD for an unnumbered
   * session runs to the router's link-local address learned there. Without it such sessions
   * get no BFD.
   */
  watchLink?(ifname: string, fn: (info: LinkInfo) => void): () => void;
}

/** A BGP session's status with its BFD facts (`speaker.bfd` in /status). */
export type BfdSessionStatus = SessionStatus & { bfd?: SessionBfdStatus };

/** BFD facts attached to a BGP session's status (`speaker.bfd` in /status). */
export interface SessionBfdStatus {
  profile: string;
  /** Where BFD runs to (an unnumbered session: the router's link-local address, `fe80::1%eth0`). */
  peerAddress?: string;
  state: BfdPeerStatus['state'] | 'Unavailable';
  /** True while BFD holds the BGP session down. */
  holdingBgpDown: boolean;
  multihop: boolean;
  detectionTimeMs: number;
  txIntervalMs: number;
  localDiag: string;
  remoteDiag: string;
  upEvents: number;
  downEvents: number;
  warnings: string[];
  error?: string;
}

export interface SupervisorOptions {
  speaker: GatedSpeaker;
  log: BfdLogger & { error(obj: object, msg: string): void };
  /** Creates the BFD manager on first use (default: the real one on the metallb_udp addon). */
  createManager?: (opts: BfdManagerOptions) => BfdManager;
  /** Extra manager options (clock, ports) for tests. */
  managerOptions?: Partial<BfdManagerOptions>;
  /**
   * Called after every BFD session state change of a wanted session (status() shows the new
   * state): BGPSessionState `bfdStatus` follows BFD at once, not at the next BGP state change.
   */
  onBfdState?: () => void;
}

interface Wanted {
  plan: SessionPlan;
  profile: BFDProfile;
  spec: BfdPeerSpec;
  warnings: string[];
}

/** Warnings for profile fields this implementation cannot honour. */
export function profileWarnings(p: BFDProfile): string[] {
  return p.echoMode ? [`BFDProfile ${p.name}: echoMode is not supported (asynchronous mode only); echoInterval ${p.echoInterval} ms is ignored`] : [];
}

/**
 * The BFD session a planned BGP session asks for, or why it cannot have one. An unnumbered
 * session (BGPPeer `interface`) runs single-hop BFD (RFC 5881) to the router's link-local address
 * on that interface (`linkPeer`, learned from its Router Advertisements), from ours: the socket is
 * bound to the interface and the kernel picks our link-local source, as for the BGP session.
 */
export function bfdSpecFor(plan: SessionPlan, profile: BFDProfile, linkPeer?: IP): BfdPeerSpec | string {
  const c = plan.config;
  const timers = {
    transmitIntervalMs: profile.transmitInterval,
    receiveIntervalMs: profile.receiveInterval,
    detectMultiplier: profile.detectMultiplier,
    passive: profile.passiveMode,
  };
  if (!c.address) {
    if (c.interface === undefined) return 'BFD needs a peer address';
    if (!linkPeer) return waitingFor(c.interface);
    return { key: sessionKey(c), peerAddress: `${formatIP(linkPeer)}%${c.interface}`, localAddress: '', multihop: false, minimumTtl: profile.minimumTtl, timers, device: c.interface };
  }
  return {
    key: sessionKey(c),
    peerAddress: formatIP(c.address),
    localAddress: c.sourceAddress ? formatIP(c.sourceAddress) : '',
    multihop: c.ebgpMultiHop,
    minimumTtl: profile.minimumTtl,
    timers,
  };
}

const waitingFor = (ifname: string): string => `waiting for the router's link-local address on ${ifname} (its Router Advertisements)`;

/** An interface followed for the unnumbered sessions with BFD on it. */
interface FollowedLink {
  unwatch: () => void;
  peer: IP | undefined;
}

export class BfdSupervisor implements GatedSpeaker {
  private profiles = new Map<string, BFDProfile>();
  private plan: SessionPlan[] = [];
  private wanted = new Map<string, Wanted>();
  private unavailable = new Map<string, string>();
  /** BGP session keys held down by BFD. */
  private readonly held = new Set<string>();
  /** The speaker's last status of each held session (counters, router ID...). */
  private readonly lastSeen = new Map<string, SessionStatus>();
  private manager: BfdManager | undefined;
  private managerError: string | undefined;
  private readonly warned = new Set<string>();
  /** Interfaces of unnumbered sessions with BFD, followed for the router's link-local address. */
  private readonly links = new Map<string, FollowedLink>();
  private recomputing = false;
  private stopped = false;

  constructor(private readonly opts: SupervisorOptions) {}

  /** The BFDProfiles of the configuration in force (call before setPlan). */
  setProfiles(profiles: readonly BFDProfile[]): void {
    this.profiles = new Map(profiles.map((p) => [p.name, p]));
  }

  setPlan(sessions: SessionPlan[]): void {
    if (this.stopped) return;
    this.plan = sessions;
    this.recompute();
  }

  /** The BFD sessions the plan asks for, from the plan, the profiles and the learned link peers. */
  private recompute(): void {
    this.recomputing = true;
    try {
      this.followLinks();
    } finally {
      this.recomputing = false;
    }
    const sessions = this.plan;
    this.wanted = new Map();
    this.unavailable = new Map();
    const waiting = new Set<string>();
    for (const s of sessions) {
      const name = s.config.bfdProfile;
      if (name === undefined) continue;
      const key = sessionKey(s.config);
      const profile = this.profiles.get(name);
      if (!profile) {
        this.unavailable.set(key, `BFDProfile ${name} not found`);
        continue;
      }
      const ifname = s.config.address ? undefined : s.config.interface;
      const spec = bfdSpecFor(s, profile, ifname === undefined ? undefined : this.links.get(ifname)?.peer);
      if (typeof spec === 'string') {
        this.unavailable.set(key, spec);
        if (ifname !== undefined && this.links.has(ifname)) waiting.add(key);
        continue;
      }
      const warnings = profileWarnings(profile);
      for (const w of warnings) {
        if (!this.warned.has(w)) this.opts.log.warn({ profile: name }, w);
        this.warned.add(w);
      }
      this.wanted.set(key, { plan: s, profile, spec, warnings });
    }
    for (const [key, why] of this.unavailable) {
      if (waiting.has(key)) this.opts.log.info({ session: key }, `BFD for this BGP session: ${why}`);
      else this.opts.log.warn({ session: key }, `no BFD for this BGP session: ${why}`);
    }
    for (const k of [...this.held]) if (!this.wanted.has(k)) this.held.delete(k);
    const mgr = this.wanted.size > 0 ? this.ensureManager() : this.manager;
    mgr?.sync([...this.wanted.values()].map((w) => w.spec));
    this.push();
  }

  /** The node runtime's hook (BgpDriver.setConfig): the profiles of the configuration in force. */
  setConfig(config: Config): void {
    this.setProfiles(config.bfdProfiles);
  }

  status(): BfdSessionStatus[] {
    const inner = this.opts.speaker.status();
    const bfd = new Map((this.manager?.status() ?? []).map((b) => [b.key, b]));
    const byPeer = new Map<string, SessionBfdStatus>();
    for (const [key, w] of this.wanted) byPeer.set(w.plan.peer, this.sessionBfd(key, w, bfd.get(key)));
    for (const [key, why] of this.unavailable) {
      const plan = this.plan.find((p) => sessionKey(p.config) === key);
      if (plan) byPeer.set(plan.peer, { ...emptyBfd(plan.config.bfdProfile ?? ''), error: why });
    }
    const out: BfdSessionStatus[] = inner.map((s) => {
      const b = byPeer.get(s.peer);
      return b ? { ...s, bfd: b } : s;
    });
    // Sessions held down by BFD are not in the speaker: show them as Idle with the reason (and
    // the counters the speaker last reported for them).
    for (const key of this.held) {
      const w = this.wanted.get(key);
      if (!w) continue;
      const b = byPeer.get(w.plan.peer);
      out.push({
        node: w.plan.node,
        peer: w.plan.peer,
        peerAddress: w.plan.config.address ? w.spec.peerAddress : (w.plan.config.interface ?? w.spec.peerAddress),
        peerPort: w.plan.config.port,
        counters: zeroCounters(),
        ...this.lastSeen.get(key),
        state: 'Idle',
        phase: 'down',
        uptimeSeconds: 0,
        lastError: `held down: BFD session to ${w.spec.peerAddress} is ${b?.state ?? 'Down'}`,
        routes: [],
        bfd: b,
      });
    }
    return out;
  }

  /** Every BFD session (for metrics). */
  bfdSessions(): BfdPeerStatus[] {
    return this.manager?.status() ?? [];
  }

  /** Received BFD datagrams dropped, by reason. */
  bfdDrops(): Record<DropReason, number> | undefined {
    return this.manager?.drops();
  }

  async stop(opts?: { withdraw?: boolean }): Promise<void> {
    this.stopped = true;
    for (const l of this.links.values()) l.unwatch();
    this.links.clear();
    await this.opts.speaker.stop(opts);
    this.manager?.close();
  }

  drain(periodMs: number): Promise<void> {
    const s = this.opts.speaker;
    return s.drain ? s.drain(periodMs) : Promise.reject(new Error('this speaker cannot drain'));
  }

  resume(): void {
    this.opts.speaker.resume?.();
  }

  // ---------------------------------------------------------------------------------- internals

  /**
   * Follows the interface of every unnumbered session with a bfdProfile (also while BFD holds
   * the BGP session down, when the speaker no longer follows it): a new or changed router
   * link-local address re-targets its BFD session.
   */
  private followLinks(): void {
    const speaker = this.opts.speaker;
    const need = new Set<string>();
    if (speaker.watchLink) {
      for (const s of this.plan) if (s.config.bfdProfile !== undefined && !s.config.address && s.config.interface !== undefined) need.add(s.config.interface);
    }
    for (const [ifname, l] of this.links) {
      if (need.has(ifname)) continue;
      l.unwatch();
      this.links.delete(ifname);
    }
    for (const ifname of need) {
      if (this.links.has(ifname) || !speaker.watchLink) continue;
      const link: FollowedLink = { unwatch: () => {}, peer: undefined };
      this.links.set(ifname, link);
      link.unwatch = speaker.watchLink(ifname, (info) => {
        const changed = (link.peer ? formatIP(link.peer) : '') !== (info.peer ? formatIP(info.peer) : '');
        link.peer = info.peer;
        if (changed && !this.recomputing && !this.stopped) {
          this.opts.log.info({ interface: ifname, peer: info.peer ? formatIP(info.peer) : null }, 'BFD: router link-local address on the interface changed');
          this.recompute();
        }
      });
    }
  }

  private ensureManager(): BfdManager | undefined {
    if (this.manager || this.managerError) return this.manager;
    const create = this.opts.createManager ?? ((o: BfdManagerOptions) => new BfdManager(o));
    try {
      this.manager = create({ log: this.opts.log, onStateChange: (c) => this.onBfd(c), ...this.opts.managerOptions });
    } catch (e) {
      this.managerError = (e as Error).message;
      this.opts.log.error({ error: this.managerError }, 'BFD cannot run: BGP sessions with a bfdProfile run without BFD');
    }
    return this.manager;
  }

  private sessionBfd(key: string, w: Wanted, b: BfdPeerStatus | undefined): SessionBfdStatus {
    if (!b) return { ...emptyBfd(w.profile.name), peerAddress: w.spec.peerAddress, multihop: w.spec.multihop, warnings: w.warnings, ...(this.managerError ? { error: this.managerError } : {}) };
    return {
      profile: w.profile.name,
      peerAddress: b.peerAddress,
      state: b.state,
      holdingBgpDown: this.held.has(key),
      multihop: b.multihop,
      detectionTimeMs: b.detectionTimeMs,
      txIntervalMs: b.txIntervalMs,
      localDiag: b.localDiag,
      remoteDiag: b.remoteDiag,
      upEvents: b.upEvents,
      downEvents: b.downEvents,
      warnings: w.warnings,
      ...(b.error ? { error: b.error } : {}),
    };
  }

  private onBfd(c: BfdStateChange): void {
    if (this.stopped || !this.wanted.has(c.key)) return;
    this.gate(c);
    this.opts.onBfdState?.();
  }

  /** BFD Up releases a held BGP session; BFD Down from Up holds it down. */
  private gate(c: BfdStateChange): void {
    if (c.to === BfdState.Up) {
      this.lastSeen.delete(c.key);
      if (this.held.delete(c.key)) {
        this.opts.log.info({ peer: c.peerAddress }, 'BFD Up: BGP session released');
        this.push();
      }
      return;
    }
    const remoteAdminDown = this.manager?.status().find((s) => s.key === c.key)?.remoteState === 'AdminDown';
    if (c.from === BfdState.Up && !remoteAdminDown && !this.held.has(c.key)) {
      const peer = this.wanted.get(c.key)?.plan.peer;
      const seen = this.opts.speaker.status().find((x) => x.peer === peer);
      if (seen) this.lastSeen.set(c.key, seen);
      this.held.add(c.key);
      this.opts.log.warn({ peer: c.peerAddress }, 'BFD Down: closing the BGP session until BFD is Up again');
      this.push();
    }
  }

  private push(): void {
    this.opts.speaker.setPlan(this.held.size === 0 ? this.plan : this.plan.filter((s) => !this.held.has(sessionKey(s.config))));
  }
}

function emptyBfd(profile: string): SessionBfdStatus {
  return {
    profile,
    state: 'Unavailable',
    holdingBgpDown: false,
    multihop: false,
    detectionTimeMs: 0,
    txIntervalMs: 0,
    localDiag: 'none',
    remoteDiag: 'none',
    upEvents: 0,
    downEvents: 0,
    warnings: [],
  };
}

// BGP speaker: one PeerSession per planned session, reconciled from BgpSessionSpec (src/bgp/speaker/types.ts; the planner's SessionPlan fits)
// list. Used by standalone mode and the Kubernetes speaker.

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { formatIP, formatPrefix, tryParseIP } from '../../ip/index.ts';
import type { BgpPeerParams, BgpReceivePolicy, BgpSessionSpec } from './types.ts';
import { CeaseSubcode } from '../codec/messages.ts';
import { formatBgpId } from '../session/open.ts';
import type { Clock, SessionState } from '../session/types.ts';
import { tcpConnect } from '../transport/index.ts';
import { PassiveListeners } from '../transport/listen.ts';
import type { Connector } from '../transport/index.ts';
import { PeerSession, ipToBgpId, sessionConfig } from './session.ts';
import { UpdateGroups } from './groups.ts';
import type { AdjRibOut } from './rib.ts';
import type { UpdateGroupStats } from './groups.ts';
import type { SessionCounters } from './session.ts';
import { pendingRestarts, readRestartMarker, removeRestartMarker, writeRestartMarker } from './lifecycle.ts';
import type { RestartMarkerSession, RouteMode, SessionPhase } from './lifecycle.ts';

export type { RouteMode, SessionPhase } from './lifecycle.ts';
import type { RouteChange } from '../../routes/ribin.ts';
import { LinkDiscovery } from '../unnumbered/discovery.ts';
import type { LinkInfo } from '../unnumbered/discovery.ts';
import type { LinkWatcher, UnnumberedStatus } from './unnumbered.ts';

export type { Clock } from '../session/types.ts';
export type { Connector, ConnectOptions } from '../transport/index.ts';

/** The real clock: Date.now + setTimeout (the pure session FSM never reads time itself). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface SpeakerOptions {
  nodeName: string;
  /**
   * BGP identifier (dotted IPv4) for sessions whose BGPPeer sets no routerID. Unset: the node's
   * IPv4 address, or on an IPv6-only node one derived from the node name (see routerIdFor).
   */
  routerId?: string;
  logger: Logger;
  clock?: Clock;
  /** Injectable transport factory for tests. */
  connect?: Connector;
  /**
   * Restart marker file (graceful restart across processes, see lifecycle.ts): written by
   * stop({withdraw: false}), read at construction. Unset: no Restart State bit after a restart.
   */
  restartMarker?: string;
  /** Follows the interface of unnumbered peers (default: router discovery over the packet addon, created when needed). */
  watchLink?: LinkWatcher;
  /** Adj-RIB-In changes of one session instance (`session` is unique per connection lifetime). */
  onReceived?: (session: string, changes: RouteChange[], ctx: { ebgp: boolean; viaInterface?: string }) => void;
}

/**
 * What the speaker's `state` event carries: a session's status without its route list (a
 * session state change must not format every prefix of a full table; `status()` has them).
 */
export type SessionStateEvent = Omit<SessionStatus, 'routes'>;

export interface SessionStatus {
  node: string;
  peer: string;
  peerAddress: string;
  peerPort: number;
  /** "" = default VRF. */
  vrf?: string;
  /** The peer's bfdProfile, when it has one. */
  bfdProfile?: string;
  state: SessionState;
  uptimeSeconds: number;
  localAddress?: string;
  peerRouterId?: string;
  peerASN?: number;
  holdTime?: number;
  counters: SessionCounters;
  lastError?: string;
  /** Prefixes currently in the Adj-RIB-Out. */
  routes: string[];
  /** Lifecycle phase: established, down, restarting, stale-at-peer, draining, drained. */
  phase: SessionPhase;
  /** While restarting / stale-at-peer: until when the peer keeps our routes as stale (ISO time). */
  staleAtPeerUntil?: string;
  /** While draining: when the routes will be withdrawn (ISO time). */
  drainUntil?: string;
  /** Graceful restart as negotiated on the current connection. */
  gracefulRestart?: { restartTime: number; notification: boolean; restarted: boolean; peerRestarted: boolean };
  /** Receive policy mode; absent = nothing is imported from this peer. */
  receiveMode?: 'all' | 'filtered';
  /**
   * With a receive policy only: distinct prefixes the peer announces now / of those, the ones
   * the policy accepted (the Adj-RIB-In).
   */
  receivedPrefixes?: number;
  acceptedPrefixes?: number;
  /**
   * With a receive policy only: accepted routes kept as stale while the peer restarts (graceful
   * restart, RFC 4724), and until when (ISO time) at most; removed at its End-of-RIB.
   */
  staleReceivedPrefixes?: number;
  staleReceivedUntil?: string;
  /** Unnumbered sessions: interface, the router's learned link-local address, the next hops it receives. */
  unnumbered?: UnnumberedStatus;
  /** Our BGP identifier on this session, and where it came from (absent: session not started). */
  routerId?: string;
  routerIdSource?: RouterIdSource;
}

/**
 * Where a session's BGP identifier came from: the BGPPeer's routerID, the speaker's --router-id,
 * the node's IPv4 address, or (IPv6-only node) derived from the node name.
 */
export type RouterIdSource = 'bgppeer' | 'option' | 'node-ipv4' | 'node-name';

/** How the speaker stops: `withdraw` everything (a real stop) or keep the routes at graceful-restart peers. */
export interface SpeakerStopOptions {
  /** true (default): withdraw all routes, then Cease (Hard Reset when RFC 8538 was negotiated). */
  withdraw?: boolean;
}

export interface SpeakerStopResult {
  /** Sessions whose peer keeps our routes as stale (graceful restart). */
  keptAtPeer: string[];
  /** Sessions whose routes were withdrawn / that were closed without graceful restart. */
  closed: string[];
}

/** Session identity: peer name + address + port + VRF. */
export function sessionKey(p: BgpPeerParams): string {
  return [p.name, p.address ? formatIP(p.address) : `if:${p.interface ?? ''}`, p.port, p.vrf].join('|');
}

/**
 * A stable BGP identifier for a node with no IPv4 address: FNV-1a of the node name, never 0.
 * Different on every node (names are unique; a 32-bit clash is reported by the peer as a
 * router-ID clash in /status), the same across restarts. Never 127.0.0.1 or a host address that
 * every node shares (a container bridge).
 */
export function routerIdFromName(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h === 0 ? 1 : h;
}

/** BGP identifier of a session: BGPPeer routerID, SpeakerOptions.routerId, the node's (non-loopback) IPv4, or from the node name. */
function routerIdFor(plan: BgpSessionSpec, option: number | undefined, nodeName: string): { id: number; source: RouterIdSource } {
  if (plan.config.routerID) return { id: ipToBgpId(plan.config.routerID), source: 'bgppeer' };
  if (option !== undefined) return { id: option, source: 'option' };
  // a loopback address (standalone's default --node-address 127.0.0.1) is the same on every node
  const v4 = plan.nodeAddresses?.find((a) => a.family === 4 && ipToBgpId(a) >>> 24 !== 127);
  return v4 ? { id: ipToBgpId(v4), source: 'node-ipv4' } : { id: routerIdFromName(nodeName), source: 'node-name' };
}

/** Everything that, when changed, requires resetting the session. */
function sessionFingerprint(plan: BgpSessionSpec, routerId: number, receive: BgpReceivePolicy | undefined): string {
  const p = plan.config;
  return JSON.stringify({
    cfg: sessionConfig(p, routerId),
    ebgp: plan.ebgp,
    src: p.sourceAddress ? formatIP(p.sourceAddress) : null,
    mh: p.ebgpMultiHop,
    pw: p.password ?? null,
    mp: p.disableMP,
    // a new receive policy re-imports from scratch: the session is reset (no ROUTE-REFRESH use)
    rx: receive ? { ...receive, prefixes: receive.prefixes.map((e) => [formatPrefix(e.prefix), e.minLength, e.maxLength]) } : null,
  });
}

interface Entry {
  session: PeerSession;
  plan: BgpSessionSpec;
  fingerprint: string;
}

export class BGPSpeaker extends EventEmitter {
  private readonly sessions = new Map<string, Entry>();
  /** Tables and encoded UPDATEs shared by sessions with the same outbound policy. */
  private readonly groups = new UpdateGroups();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly connect: Connector;
  /** SpeakerOptions.routerId, when valid. */
  private readonly optionRouterId: number | undefined;
  private readonly routerIds = new WeakMap<PeerSession, { id: number; source: RouterIdSource }>();
  private stopping = false;
  /** Sessions restarting gracefully (from the restart marker): key -> stale deadline (clock ms). */
  private readonly pendingRestart: Map<string, number>;
  private mode: RouteMode = 'normal';
  private passive: PassiveListeners | undefined;
  private links: LinkDiscovery | undefined;
  private stopped: SpeakerStopResult | undefined;
  private drainTimer: unknown;
  private drainUntil: number | undefined;
  private drainDone: (() => void) | undefined;
  private instances = 0;

  constructor(private readonly opts: SpeakerOptions) {
    super();
    // pino repeats a key bound twice: add `node` only when the caller's logger lacks it
    const bound = opts.logger.bindings() as { node?: unknown };
    this.log = opts.logger.child(bound.node === undefined ? { component: 'bgp', node: opts.nodeName } : { component: 'bgp' });
    this.clock = opts.clock ?? systemClock;
    this.connect = opts.connect ?? tcpConnect;
    let id: number | undefined;
    if (opts.routerId !== undefined) {
      const ip = tryParseIP(opts.routerId);
      if (ip && ip.family === 4 && ip.value !== 0n) id = ipToBgpId(ip);
      else this.log.error({ routerId: opts.routerId }, 'routerId must be a non-zero IPv4 address: ignored');
    }
    this.optionRouterId = id;
    this.pendingRestart = new Map();
    if (opts.restartMarker) {
      const m = readRestartMarker(opts.restartMarker);
      if (m.error) this.log.warn({ marker: opts.restartMarker }, `restart marker ignored: ${m.error}`);
      for (const [k, until] of pendingRestarts(m.marker, this.clock.now())) this.pendingRestart.set(k, until);
      if (this.pendingRestart.size > 0) {
        this.log.info(
          { sessions: [...this.pendingRestart.keys()], marker: opts.restartMarker },
          'graceful restart: peers keep our routes as stale; the first OPEN carries the Restart State bit',
        );
      } else if (m.marker) {
        this.log.info({ marker: opts.restartMarker }, 'restart marker expired (restart time passed): starting normally');
        this.removeMarker();
      }
    }
  }

  private removeMarker(): void {
    if (!this.opts.restartMarker) return;
    try {
      removeRestartMarker(this.opts.restartMarker);
    } catch (e) {
      this.log.warn({ marker: this.opts.restartMarker, err: (e as Error).message }, 'cannot remove restart marker');
    }
  }

  private restartDone(key: string): void {
    if (!this.pendingRestart.delete(key)) return;
    if (this.pendingRestart.size === 0) this.removeMarker();
  }

  /** How routes are sent on every session: normal, draining (65535:0) or drained (withdrawn). */
  get routeMode(): RouteMode {
    return this.mode;
  }

  private setMode(mode: RouteMode): void {
    this.mode = mode;
    for (const e of this.sessions.values()) e.session.setMode(mode);
  }

  /**
   * Drain (RFC 8326): re-advertise every route with GRACEFUL_SHUTDOWN 65535:0 (and LOCAL_PREF 0
   * on iBGP) so that routers move traffic elsewhere, wait `periodMs`, then withdraw everything.
   * Sessions stay up. Resolves when the routes are withdrawn (or at once when already drained).
   * `resume()` ends a drain and announces normally again.
   */
  drain(periodMs: number): Promise<void> {
    if (this.mode === 'drained') return Promise.resolve();
    if (this.mode === 'draining') return new Promise((r) => this.onDrained(r));
    this.log.info({ periodMs }, 'drain: announcing with GRACEFUL_SHUTDOWN, then withdrawing');
    this.setMode('draining');
    this.drainUntil = this.clock.now() + periodMs;
    return new Promise<void>((resolve) => {
      this.onDrained(resolve);
      this.drainTimer = this.clock.setTimeout(() => this.finishDrain(), Math.max(0, periodMs));
    });
  }

  private onDrained(fn: () => void): void {
    const prev = this.drainDone;
    this.drainDone = () => {
      prev?.();
      fn();
    };
  }

  private finishDrain(): void {
    this.drainTimer = undefined;
    this.drainUntil = undefined;
    if (this.mode !== 'draining') return;
    this.log.info('drain period over: withdrawing every route');
    this.setMode('drained');
    const done = this.drainDone;
    this.drainDone = undefined;
    done?.();
  }

  /** Ends a drain (or a drained state): routes are announced normally again. */
  resume(): void {
    if (this.drainTimer !== undefined) this.clock.clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.drainUntil = undefined;
    if (this.mode !== 'normal') this.log.info('drain ended: announcing normally');
    this.setMode('normal');
    const done = this.drainDone;
    this.drainDone = undefined;
    done?.();
  }

  /** Reconcile the running sessions with the plan. */
  setPlan(sessions: BgpSessionSpec[]): void {
    if (this.stopping) return;
    const wanted = new Map<string, BgpSessionSpec>();
    for (const s of sessions) {
      if (s.node !== this.opts.nodeName) continue;
      const k = sessionKey(s.config);
      if (wanted.has(k)) {
        this.log.warn({ peer: s.peer }, 'duplicate session in plan: ignored');
        continue;
      }
      wanted.set(k, s);
    }
    for (const [k, e] of this.sessions) {
      if (wanted.has(k)) continue;
      this.sessions.delete(k);
      this.log.info({ peer: e.plan.peer }, 'peer removed from configuration: closing session');
      void e.session.stop({ subcode: CeaseSubcode.PEER_DECONFIGURED }).then(() => this.emitState(e.session));
    }
    for (const [k, plan] of wanted) {
      const rid = routerIdFor(plan, this.optionRouterId, this.opts.nodeName);
      const routerId = rid.id;
      const receive = plan.receive;
      const fp = sessionFingerprint(plan, routerId, receive);
      const cur = this.sessions.get(k);
      if (cur && cur.fingerprint === fp) {
        cur.plan = plan;
        if (plan.nodeAddresses) cur.session.params.nodeAddresses = plan.nodeAddresses;
        cur.session.setRoutes(plan.routes);
        continue;
      }
      if (cur) {
        this.log.info({ peer: plan.peer }, 'session parameters changed: resetting session');
        void cur.session.stop({ subcode: CeaseSubcode.OTHER_CONFIGURATION_CHANGE });
      }
      const instance = `${k}#${++this.instances}`;
      const onReceived = this.opts.onReceived;
      const restartingUntil = cur ? undefined : this.pendingRestart.get(k);
      const session: PeerSession = new PeerSession(
        {
          peer: plan.config,
          ebgp: plan.ebgp,
          mode: this.mode,
          ...(plan.nodeAddresses ? { nodeAddresses: plan.nodeAddresses } : {}),
          ...(restartingUntil !== undefined ? { restartingUntil } : {}),
          ...(receive ? { receive } : {}),
        },
        {
          ...(onReceived
            ? {
                onReceived: (changes: RouteChange[]) => {
                  const via = session.received.viaInterface;
                  onReceived(instance, changes, via === undefined ? { ebgp: plan.ebgp } : { ebgp: plan.ebgp, viaInterface: via });
                },
              }
            : {}),
          logger: this.log,
          clock: this.clock,
          connect: this.connect,
          routerId,
          onState: () => this.emitState(session),
          groups: this.groups,
          onRestartComplete: () => this.restartDone(k),
          listen: (peer, accept, onError) => {
            if (!peer.address) return;
            this.passive ??= new PassiveListeners(this.log);
            this.passive.add(peer.port, { address: formatIP(peer.address), family: peer.address.family, ...(peer.password ? { password: peer.password } : {}), accept }, onError);
          },
          watchLink: (ifname, fn) => this.watchLink(ifname, fn),
          unlisten: (peer) => {
            if (peer.address) this.passive?.remove(peer.port, formatIP(peer.address));
          },
        },
      );
      if (restartingUntil === undefined) this.restartDone(k);
      this.routerIds.set(session, rid);
      if (rid.source === 'node-name') {
        this.log.info({ peer: plan.peer, routerId: formatBgpId(rid.id) }, 'no IPv4 address on this node: BGP identifier derived from the node name (set routerID on the BGPPeer to choose one)');
      }
      this.sessions.set(k, { session, plan, fingerprint: fp });
      session.setRoutes(plan.routes);
      session.start();
    }
  }

  /**
   * Follows an interface of unnumbered peers (the router's link-local address learned from its
   * RAs; see src/bgp/unnumbered/discovery.ts): `fn` now and on every change; returns unsubscribe.
   * Sessions use it, and BFD for unnumbered sessions (which must keep following the link while
   * it holds the BGP session down).
   */
  watchLink(ifname: string, fn: (info: LinkInfo) => void): () => void {
    if (this.opts.watchLink) return this.opts.watchLink(ifname, fn);
    this.links ??= new LinkDiscovery({ logger: this.log, clock: this.clock });
    return this.links.watch(ifname, fn);
  }

  /** How much the update groups shared (tables and encoded UPDATEs built once for several sessions). */
  updateGroupStats(): UpdateGroupStats {
    return this.groups.stats();
  }

  status(): SessionStatus[] {
    return [...this.sessions.values()].map((e) => this.statusOf(e.session)).sort((a, b) =>
      a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : a.peerAddress < b.peerAddress ? -1 : a.peerAddress > b.peerAddress ? 1 : 0,
    );
  }

  /**
   * Stop every session. withdraw (default true): withdraw all routes, then Cease 6/2 (inside a
   * Hard Reset 6/9 when RFC 8538 was negotiated). withdraw=false (graceful restart): sessions
   * that negotiated graceful restart are closed without withdrawing (Cease 6/2 when the N bit
   * was negotiated, else a plain TCP close) so the peer keeps our routes as stale, and the
   * restart marker records them; the others withdraw and Cease as above.
   */
  async stop(opts: SpeakerStopOptions = {}): Promise<void> {
    this.stopping = true;
    if (this.drainTimer !== undefined) this.clock.clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    const withdraw = opts.withdraw ?? true;
    const all = [...this.sessions.entries()];
    this.sessions.clear();
    const kept: RestartMarkerSession[] = [];
    const result: SpeakerStopResult = { keptAtPeer: [], closed: [] };
    const stops = all.map(([k, e]) => {
      // a session without graceful restart must not leave routes behind: withdraw them
      const gr = !withdraw && e.session.fsm.negotiated?.gracefulRestart === true && e.session.state === 'Established';
      const p = e.session.stop({ subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, withdraw: !gr, graceful: gr });
      const restartTime = e.session.fsm.config.gracefulRestart?.restartTime;
      if (e.session.keptAtPeer && restartTime !== undefined) {
        kept.push({ key: k, restartTime });
        result.keptAtPeer.push(e.plan.peer);
      } else result.closed.push(e.plan.peer);
      return p.then(() => this.emitState(e.session));
    });
    if (this.opts.restartMarker) {
      try {
        if (kept.length > 0) writeRestartMarker(this.opts.restartMarker, { version: 1, stoppedAt: this.clock.now(), sessions: kept });
        else this.removeMarker();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'graceful restart: the next start will not set the Restart State bit');
      }
    }
    await Promise.all(stops);
    await this.passive?.close();
    this.links?.stop();
    this.drainDone?.();
    this.drainDone = undefined;
    this.stopped = result;
  }

  /** What the last stop() did (undefined before stop). */
  get stopResult(): SpeakerStopResult | undefined {
    return this.stopped;
  }

  private statusOf(s: PeerSession): SessionStatus {
    return { ...this.stateOf(s), routes: routeStrings(s.adjRibOut) };
  }

  private stateOf(s: PeerSession): SessionStateEvent {
    const p = s.params.peer;
    const neg = s.fsm.negotiated;
    const st: SessionStateEvent = {
      node: this.opts.nodeName,
      peer: p.name,
      peerAddress: p.address ? formatIP(p.address) : (p.interface ?? ''),
      peerPort: p.port,
      vrf: p.vrf,
      state: s.state,
      uptimeSeconds: s.state === 'Established' ? s.uptimeSeconds() : 0,
      counters: { ...s.counters },
      phase: s.phase,
      routerId: formatBgpId(s.fsm.config.routerId),
      routerIdSource: this.routerIds.get(s)?.source ?? 'bgppeer',
    };
    const stale = s.staleAtPeerUntil;
    if (stale !== undefined) st.staleAtPeerUntil = new Date(stale).toISOString();
    if (st.phase === 'draining' && this.drainUntil !== undefined) st.drainUntil = new Date(this.drainUntil).toISOString();
    if (neg?.gracefulRestart) {
      st.gracefulRestart = {
        restartTime: s.fsm.config.gracefulRestart?.restartTime ?? 0,
        notification: neg.gracefulNotification,
        restarted: neg.restarted,
        peerRestarted: neg.peerRestarted,
      };
    }
    if (p.bfdProfile !== undefined) st.bfdProfile = p.bfdProfile;
    if (s.received.policy) {
      st.receiveMode = s.received.policy.mode;
      st.receivedPrefixes = s.received.received;
      st.acceptedPrefixes = s.received.accepted;
      st.staleReceivedPrefixes = s.received.stale;
      const until = s.received.staleUntil;
      if (until !== undefined) st.staleReceivedUntil = new Date(until).toISOString();
    }
    if (s.localAddress !== undefined && s.state !== 'Idle') st.localAddress = s.localAddress;
    if (neg) {
      st.peerRouterId = formatBgpId(neg.peerRouterId);
      st.peerASN = neg.peerASN;
      st.holdTime = neg.holdTime;
    }
    if (s.lastError !== undefined) st.lastError = s.lastError;
    if (s.link) st.unnumbered = s.link.status(s.state === 'Idle' ? undefined : s.localAddress, neg?.families ?? [], neg?.extendedNextHop === true);
    return st;
  }

  private emitState(s: PeerSession): void {
    if (this.listenerCount('state') > 0) this.emit('state', this.stateOf(s));
  }
}

/**
 * The prefixes of an Adj-RIB-Out as text, for status(): made once per table (tables are never
 * modified in place) and shared by every session holding it, so that polling /status with 10
 * sessions x 100k routes does not format a million prefixes each time. Do not modify.
 */
const shownRoutes = new WeakMap<AdjRibOut, string[]>();

function routeStrings(rib: AdjRibOut): string[] {
  const hit = shownRoutes.get(rib);
  if (hit !== undefined) return hit;
  const out: string[] = new Array<string>(rib.size);
  shownRoutes.set(rib, out);
  let i = 0;
  for (const e of rib.values()) out[i++] = `${formatIP({ family: e.nlri.family, value: e.nlri.network })}/${e.nlri.length}`;
  return out;
}

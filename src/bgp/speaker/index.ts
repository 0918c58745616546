// BGP speaker: one PeerSession per planned session, reconciled from the planner's SessionPlan
// list. Used by standalone mode and the Kubernetes speaker.

import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { formatIP, tryParseIP } from '../../ip/index.ts';
import type { Peer } from '../../config/types.ts';
import type { SessionPlan } from '../../planner/types.ts';
import { CeaseSubcode } from '../codec/messages.ts';
import { formatBgpId } from '../session/open.ts';
import type { Clock, SessionState } from '../session/types.ts';
import { tcpConnect } from '../transport/index.ts';
import type { Connector } from '../transport/index.ts';
import { PeerSession, ipToBgpId, sessionConfig } from './session.ts';
import type { SessionCounters } from './session.ts';

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
  /** Default BGP identifier (dotted IPv4): the node's IPv4 address. */
  routerId?: string;
  logger: Logger;
  clock?: Clock;
  /** Injectable transport factory for tests. */
  connect?: Connector;
}

export interface SessionStatus {
  node: string;
  peer: string;
  peerAddress: string;
  peerPort: number;
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
}

/** Session identity: peer name + address + port + VRF. */
export function sessionKey(p: Peer): string {
  return [p.name, p.address ? formatIP(p.address) : `if:${p.interface ?? ''}`, p.port, p.vrf].join('|');
}

/** BGP identifier of a session without routerID: SpeakerOptions.routerId, else the node's IPv4. */
function planRouterId(plan: SessionPlan, fallback: number, explicit: boolean): number {
  if (explicit) return fallback;
  const v4 = plan.nodeAddresses?.find((a) => a.family === 4);
  return v4 ? ipToBgpId(v4) : fallback;
}

/** Everything that, when changed, requires resetting the session. */
function sessionFingerprint(plan: SessionPlan, routerId: number): string {
  const p = plan.config;
  return JSON.stringify({
    cfg: sessionConfig(p, routerId),
    ebgp: plan.ebgp,
    src: p.sourceAddress ? formatIP(p.sourceAddress) : null,
    mh: p.ebgpMultiHop,
    pw: p.password ?? null,
    mp: p.disableMP,
  });
}

/** First non-internal IPv4 address of this host (last-resort BGP identifier). */
function hostIPv4(): number | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) {
        const ip = tryParseIP(a.address);
        if (ip) return ipToBgpId(ip);
      }
    }
  }
  return undefined;
}

interface Entry {
  session: PeerSession;
  plan: SessionPlan;
  fingerprint: string;
}

export class BGPSpeaker extends EventEmitter {
  private readonly sessions = new Map<string, Entry>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly connect: Connector;
  private readonly defaultRouterId: number;
  private readonly explicitRouterId: boolean;
  private stopping = false;

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
    this.explicitRouterId = id !== undefined;
    id ??= hostIPv4() ?? 0x7f000001;
    this.defaultRouterId = id;
    this.log.debug({ routerId: formatBgpId(id) }, 'default BGP identifier');
  }

  /** Reconcile the running sessions with the plan. */
  setPlan(sessions: SessionPlan[]): void {
    if (this.stopping) return;
    const wanted = new Map<string, SessionPlan>();
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
      const routerId = planRouterId(plan, this.defaultRouterId, this.explicitRouterId);
      const fp = sessionFingerprint(plan, routerId);
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
      const session: PeerSession = new PeerSession(
        { peer: plan.config, ebgp: plan.ebgp, ...(plan.nodeAddresses ? { nodeAddresses: plan.nodeAddresses } : {}) },
        {
          logger: this.log,
          clock: this.clock,
          connect: this.connect,
          routerId,
          onState: () => this.emitState(session),
        },
      );
      this.sessions.set(k, { session, plan, fingerprint: fp });
      session.setRoutes(plan.routes);
      session.start();
    }
  }

  status(): SessionStatus[] {
    return [...this.sessions.values()].map((e) => this.statusOf(e.session)).sort((a, b) =>
      a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : a.peerAddress < b.peerAddress ? -1 : a.peerAddress > b.peerAddress ? 1 : 0,
    );
  }

  /**
   * Stop every session. withdraw (default true): withdraw all routes, then Cease 6/2.
   * withdraw=false: on sessions with graceful restart negotiated just close TCP so the peer
   * keeps the routes as stale; elsewhere Cease 6/2.
   */
  async stop(opts: { withdraw?: boolean } = {}): Promise<void> {
    this.stopping = true;
    const withdraw = opts.withdraw ?? true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      all.map((e) =>
        e.session.stop({ subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, withdraw, graceful: !withdraw }).then(() => this.emitState(e.session)),
      ),
    );
  }

  private statusOf(s: PeerSession): SessionStatus {
    const p = s.params.peer;
    const neg = s.fsm.negotiated;
    const st: SessionStatus = {
      node: this.opts.nodeName,
      peer: p.name,
      peerAddress: p.address ? formatIP(p.address) : (p.interface ?? ''),
      peerPort: p.port,
      state: s.state,
      uptimeSeconds: s.state === 'Established' ? s.uptimeSeconds() : 0,
      counters: { ...s.counters },
      routes: [...s.adjRibOut.values()].map((e) => `${formatIP({ family: e.nlri.family, value: e.nlri.network })}/${e.nlri.length}`),
    };
    if (s.localAddress !== undefined && s.state !== 'Idle') st.localAddress = s.localAddress;
    if (neg) {
      st.peerRouterId = formatBgpId(neg.peerRouterId);
      st.peerASN = neg.peerASN;
      st.holdTime = neg.holdTime;
    }
    if (s.lastError !== undefined) st.lastError = s.lastError;
    return st;
  }

  private emitState(s: PeerSession): void {
    this.emit('state', this.statusOf(s));
  }
}

// One BGP session: drives the pure SessionFSM with a real (or injected) TCP transport and clock,
// frames/decodes received bytes, and keeps the session's Adj-RIB-Out in sync with the plan.

import type net from 'node:net';
import type { Logger } from 'pino';
import type { IP } from '../../ip/index.ts';
import { formatIP, tryParseIP } from '../../ip/index.ts';
import type { BgpRoute } from './types.ts';
import type { BGPMessage, CodecOptions, NLRI, PathAttributes } from '../codec/messages.ts';
import { MessageFramer, decodeMessage, encodeMessage, packUpdates, endOfRib, notificationName } from '../codec/index.ts';
import { SessionFSM } from '../session/fsm.ts';
import { formatBgpId } from '../session/open.ts';
import type { Negotiated, SessionAction, SessionEvent, SessionState, TimerName } from '../session/types.ts';
import { remoteKey } from '../transport/listen.ts';
import { diffRib, groupEntries } from './rib.ts';
import { ReceiveSide, familiesOf, peerRetention } from './receive.ts';
import type { AdjRibOut, RibContext } from './rib.ts';
import { UnnumberedLink } from './unnumbered.ts';
import { EMPTY_RIB, UpdateGroups } from './groups.ts';
import { sessionPhase } from './lifecycle.ts';
import type { RouteMode, SessionPhase } from './lifecycle.ts';

export { CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_RETRY_BASE_MS, DEFAULT_CONNECT_RETRY_MAX_MS, DEFAULT_HOLD_TIME, GRACEFUL_RESTART_TIME } from './params.ts';
export { ipToBgpId, sessionConfig, sessionFamilies, zeroCounters } from './params.ts';
export type { PeerSessionDeps, PeerSessionParams, SessionCounters } from './params.ts';
import type { PeerSessionDeps, PeerSessionParams, SessionCounters } from './params.ts';
import { sessionConfig, startBlocker, zeroCounters } from './params.ts';

function nlriString(n: NLRI): string {
  return `${formatIP({ family: n.family, value: n.network })}/${n.length}`;
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class PeerSession {
  readonly fsm: SessionFSM;
  readonly counters: SessionCounters = zeroCounters();
  /** Last error or notable condition, for /status. */
  lastError: string | undefined;
  /**
   * A NOTIFICATION (sent or received) ended the current connection: the transport close that
   * follows ("connection closed by peer") must not hide why the session is down.
   */
  private notified = false;
  /** We sent a NOTIFICATION on the current connection. */
  private sentNotification = false;
  /** The first NOTIFICATION (sent or received) on the current connection: decides RFC 8538 retention. */
  private connNotification: { code: number; subcode: number } | undefined;
  /** What the current (or last) Established connection negotiated. */
  private lastNegotiated: Negotiated | undefined;
  localAddress: string | undefined;
  /** What the peer currently holds from us. */
  adjRibOut: AdjRibOut = new Map();
  /** What we import from the peer (src/bgp/speaker/receive.ts). */
  readonly received: ReceiveSide;
  /** Unnumbered sessions (BGPPeer `interface`): the interface and the router's link-local address. */
  link: UnnumberedLink | undefined;
  private linkStarted = false;

  private socket: net.Socket | undefined;
  private framer = new MessageFramer();
  private codec: CodecOptions = { fourOctetAS: false };
  private readonly groups: UpdateGroups;
  private timers = new Map<TimerName, unknown>();
  private connectAbort: AbortController | undefined;
  private connectSeq = 0;
  private routes: readonly BgpRoute[] = [];
  private flushPending = false;
  private establishedAt: number | undefined;
  private skippedLogged = new Set<string>();
  /** Settles when the last socket we closed has flushed and closed. */
  private closing: Promise<void> = Promise.resolve();
  private stopped = false;
  private mode: RouteMode;
  /** Until when (clock ms) the peer keeps our routes as stale while we are not Established. */
  private staleUntil: number | undefined;
  private restarting: boolean;
  /** The last stop closed the session keeping graceful restart (the peer keeps our routes). */
  keptAtPeer = false;
  private readonly log: Logger;

  constructor(
    readonly params: PeerSessionParams,
    private readonly deps: PeerSessionDeps,
  ) {
    this.restarting = params.restartingUntil !== undefined && params.restartingUntil > deps.clock.now();
    this.staleUntil = this.restarting ? params.restartingUntil : undefined;
    this.mode = params.mode ?? 'normal';
    this.groups = deps.groups ?? new UpdateGroups();
    this.fsm = new SessionFSM(sessionConfig(params.peer, deps.routerId, this.restarting));
    const p = params.peer;
    this.log = deps.logger.child({ peer: p.name, peerAddress: p.address ? formatIP(p.address) : p.interface, peerPort: p.port });
    this.received = new ReceiveSide(params.receive, this.log, (c) => deps.onReceived?.(c), deps.clock);
  }

  get state(): SessionState {
    return this.fsm.state;
  }

  get phase(): SessionPhase {
    return sessionPhase({ state: this.fsm.state, mode: this.mode, restarting: this.restarting, staleUntil: this.staleUntil, now: this.deps.clock.now() });
  }

  /** Until when (clock ms) the peer keeps our routes as stale, while that matters. */
  get staleAtPeerUntil(): number | undefined {
    const ph = this.phase;
    return ph === 'restarting' || ph === 'stale-at-peer' ? this.staleUntil : undefined;
  }

  get routeMode(): RouteMode {
    return this.mode;
  }

  /** Normal routes, routes with GRACEFUL_SHUTDOWN (drain), or none (drained). */
  setMode(mode: RouteMode): void {
    if (mode === this.mode) return;
    if (mode === 'draining') this.counters.drains++;
    this.log.info({ from: this.mode, to: mode }, mode === 'draining' ? 'draining: routes re-advertised with GRACEFUL_SHUTDOWN (65535:0)' : `routes: ${mode}`);
    this.mode = mode;
    this.scheduleFlush();
    this.deps.onState();
  }

  uptimeSeconds(): number {
    return this.establishedAt === undefined ? 0 : Math.max(0, Math.floor((this.deps.clock.now() - this.establishedAt) / 1000));
  }

  start(): void {
    const p = this.params.peer;
    const blocked = startBlocker(p, { listen: this.deps.listen !== undefined, watchLink: this.deps.watchLink !== undefined });
    if (blocked) {
      this.lastError = blocked.reason;
      this.log[blocked.level](blocked.reason);
      this.deps.onState();
      return;
    }
    if (p.passive && this.deps.listen) {
      this.deps.listen(
        p,
        (sock) => this.acceptConnection(sock),
        (msg) => {
          if (msg !== undefined) this.lastError = msg;
          else if (this.lastError?.startsWith('cannot listen')) this.lastError = undefined;
          this.deps.onState();
        },
      );
    }
    if (!p.address && p.interface !== undefined && this.deps.watchLink) {
      this.link = new UnnumberedLink(p.interface);
      this.link.start(this.deps.watchLink, (changed) => this.onLinkChange(changed));
      return;
    }
    this.dispatch({ type: 'ManualStart' });
  }

  /** Unnumbered: start once the router's link-local address is known; reconnect when it changes. */
  private onLinkChange(peerChanged: boolean): void {
    const link = this.link;
    if (this.stopped || !link) return;
    if (!link.peer) {
      if (this.fsm.state === 'Idle') this.setLastError(link.waitingReason());
    } else if (!this.linkStarted) {
      this.linkStarted = true;
      this.lastError = undefined;
      this.log.info({ peerAddress: link.connectHost() }, 'unnumbered peer: connecting to the router\'s link-local address');
      this.dispatch({ type: 'ManualStart' });
    } else if (peerChanged && this.fsm.state !== 'Idle') {
      this.closeSocket();
      this.dispatch({ type: 'TcpConnectionFails', reason: `unnumbered peer: the router's link-local address changed to ${link.connectHost() ?? '?'}` });
    }
    if (this.fsm.state === 'Established') this.scheduleFlush();
    this.deps.onState();
  }

  /**
   * A connection from the peer (passive session). A second connection while one is up
   * replaces it: the router only reconnects when it lost (or restarted) the first one
   * (RFC 4724 §4.2 treats this as a restart of the peer).
   */
  acceptConnection(sock: net.Socket): void {
    if (this.stopped || !this.params.peer.passive) {
      sock.destroy();
      return;
    }
    const st = this.fsm.state;
    if (st === 'OpenSent' || st === 'OpenConfirm' || st === 'Established') {
      this.log.info({ state: st }, 'new connection from the peer replaces the current one');
      const old = this.socket;
      this.socket = undefined;
      old?.destroy();
      this.dispatch({ type: 'TcpConnectionFails', reason: 'replaced by a new connection from the peer' });
    }
    this.log.debug({ remote: sock.remoteAddress }, 'accepted connection from passive peer');
    this.counters.connectAttempts++;
    this.attach(sock);
    this.dispatch({ type: 'TcpConnectionConfirmed' });
  }

  /** New desired routes: the difference reaches the wire on the next tick. */
  setRoutes(routes: readonly BgpRoute[]): void {
    this.routes = routes;
    this.scheduleFlush();
  }

  /**
   * Stop the session. `withdraw`: send withdrawals first. `graceful`: with graceful restart
   * negotiated and no withdrawal, just close TCP (the peer keeps our routes as stale).
   */
  stop(opts: { subcode?: number; withdraw?: boolean; graceful?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.link?.stop();
    if (this.params.peer.passive) this.deps.unlisten?.(this.params.peer);
    const neg = this.fsm.state === 'Established' ? this.fsm.negotiated : undefined;
    if (neg) {
      if (opts.withdraw && this.adjRibOut.size > 0) {
        const withdraw = [...this.adjRibOut.values()].map((e) => e.nlri);
        this.sendUpdates([], withdraw);
        this.adjRibOut = new Map(); // tables may be shared with other sessions: never modified in place
      }
    }
    const graceful = opts.graceful === true && !opts.withdraw;
    this.keptAtPeer = graceful && neg?.gracefulRestart === true;
    if (this.keptAtPeer) {
      this.log.info(
        { notification: neg?.gracefulNotification === true },
        neg?.gracefulNotification
          ? 'graceful restart: Cease without Hard Reset (RFC 8538), the peer keeps our routes as stale'
          : 'graceful restart: closing TCP without NOTIFICATION, the peer keeps our routes as stale',
      );
    }
    this.dispatch({ type: 'ManualStop', graceful, ...(opts.subcode === undefined ? {} : { subcode: opts.subcode }) });
    this.clearTimers();
    this.closeSocket();
    return this.closing;
  }

  // --- FSM plumbing --------------------------------------------------------------------------

  private dispatch(ev: SessionEvent): void {
    const actions = this.fsm.handle(ev);
    for (const a of actions) this.perform(a);
  }

  private perform(a: SessionAction): void {
    switch (a.type) {
      case 'Connect':
        this.doConnect();
        return;
      case 'Disconnect':
        this.closeSocket();
        return;
      case 'Send':
        this.send(a.message);
        return;
      case 'StartTimer': {
        this.stopTimer(a.timer);
        const h = this.deps.clock.setTimeout(() => {
          this.timers.delete(a.timer);
          this.dispatch({ type: 'TimerExpired', timer: a.timer });
        }, a.ms);
        this.timers.set(a.timer, h);
        return;
      }
      case 'StopTimer':
        this.stopTimer(a.timer);
        return;
      case 'StateChanged':
        // the first reason a connection ends for is kept until the next connection
        if (a.reason !== undefined && a.to !== 'Established' && !this.notified) {
          this.setLastError(a.reason, {}, a.reason === 'administratively stopped' ? 'info' : 'warn');
          if (this.sentNotification) this.notified = true;
        }
        this.log.info({ from: a.from, to: a.to, reason: a.reason }, `BGP session ${a.from} -> ${a.to}`);
        this.deps.onState();
        return;
      case 'Established':
        this.establishedAt = this.deps.clock.now();
        this.staleUntil = undefined;
        this.lastError = undefined;
        this.codec = { fourOctetAS: a.negotiated.fourOctetAS, ebgp: this.params.ebgp };
        this.log.info(
          {
            peerRouterId: formatBgpId(a.negotiated.peerRouterId),
            peerASN: a.negotiated.peerASN,
            holdTime: a.negotiated.holdTime,
            families: a.negotiated.families,
          },
          'BGP session established',
        );
        if (a.negotiated.families.length === 0) {
          this.lastError = 'no address family in common with the peer: nothing can be announced';
          this.log.warn(this.lastError);
        }
        this.adjRibOut = new Map();
        this.lastNegotiated = a.negotiated;
        this.received.up(
          { ebgp: this.params.ebgp, localASN: this.fsm.config.localASN },
          this.localAddress,
          a.negotiated.peerGracefulRestart ? { forwarding: familiesOf(a.negotiated.peerGracefulRestart.forwarding) } : undefined,
        );
        this.sendFullTable(true);
        if (a.negotiated.restarted) {
          // the peer now has our full table and End-of-RIB: it drops the stale rest
          this.counters.gracefulRestarts++;
          this.log.info({ routes: this.adjRibOut.size }, 'graceful restart complete: table re-announced, End-of-RIB sent');
        }
        if (this.restarting) {
          this.restarting = false;
          this.fsm.restartComplete();
          this.deps.onRestartComplete?.();
        }
        return;
      case 'Down': {
        this.establishedAt = undefined;
        this.adjRibOut = new Map();
        // RFC 4724 §4.2: a peer that negotiated GR keeps our routes as stale for our restart time
        const gr = this.fsm.config.gracefulRestart;
        if (!this.stopped && a.gracefulRestart && gr) this.staleUntil = this.deps.clock.now() + gr.restartTime * 1000;
        this.received.down(this.stopped ? undefined : peerRetention(this.lastNegotiated, this.connNotification));
        this.log.warn({ reason: a.reason, staleAtPeer: this.staleUntil !== undefined }, 'BGP session down');
        return;
      }
      case 'UpdateReceived':
        this.received.update(a.message);
        return;
      case 'RouteRefreshRequested':
        this.onRouteRefresh(a.afi, a.safi);
        return;
    }
  }

  private stopTimer(t: TimerName): void {
    const h = this.timers.get(t);
    if (h !== undefined) {
      this.deps.clock.clearTimeout(h);
      this.timers.delete(t);
    }
  }

  private clearTimers(): void {
    for (const t of [...this.timers.keys()]) this.stopTimer(t);
  }

  private doConnect(): void {
    const p = this.params.peer;
    const host = p.address ? formatIP(p.address) : this.link?.connectHost();
    const seq = ++this.connectSeq;
    this.connectAbort?.abort();
    const abort = new AbortController();
    this.connectAbort = abort;
    this.counters.connectAttempts++;
    const family = p.address?.family ?? 6;
    const ttl = this.params.ebgp && !p.ebgpMultiHop ? 1 : 255;
    const opts = {
      host: host ?? '',
      port: p.port,
      family,
      ttl,
      timeoutMs: this.fsm.config.connectTimeoutMs,
      signal: abort.signal,
      warn: (m: string) => this.log.warn(m),
      ...(p.sourceAddress ? { localAddress: formatIP(p.sourceAddress) } : {}),
      ...(p.password ? { password: p.password } : {}),
    };
    this.log.debug({ ttl }, 'connecting');
    // A connector that throws synchronously must not break the FSM: go through a promise.
    new Promise<net.Socket>((resolve) => {
      if (host === undefined) throw new Error(this.link?.waitingReason() ?? 'no peer address');
      resolve(this.deps.connect(opts));
    }).then(
      (sock) => {
        if (seq !== this.connectSeq || this.stopped || this.fsm.state !== 'Connect') {
          sock.destroy();
          return;
        }
        this.connectAbort = undefined;
        this.attach(sock);
        this.dispatch({ type: 'TcpConnectionConfirmed' });
      },
      (e: unknown) => {
        if (seq !== this.connectSeq || abort.signal.aborted) return;
        this.connectAbort = undefined;
        this.dispatch({ type: 'TcpConnectionFails', reason: errMessage(e) });
      },
    );
  }

  /** Why the session is down, for /status; logged at WARN when it changes. */
  private setLastError(msg: string, fields: object = {}, level: 'warn' | 'info' = 'warn'): void {
    if (msg === this.lastError) return;
    this.lastError = msg;
    this.log[level](fields, msg);
  }

  private attach(sock: net.Socket): void {
    this.socket = sock;
    this.notified = false;
    this.sentNotification = false;
    this.connNotification = undefined;
    this.localAddress = sock.localAddress === undefined ? undefined : remoteKey(sock.localAddress);
    this.framer = new MessageFramer();
    this.codec = { fourOctetAS: false };
    sock.on('data', (chunk: Buffer) => {
      if (this.socket !== sock) return;
      this.onData(chunk);
    });
    sock.on('error', (e) => {
      if (this.socket !== sock) return;
      this.log.debug({ err: e.message }, 'socket error');
    });
    sock.on('close', () => {
      if (this.socket !== sock) return;
      this.socket = undefined;
      this.dispatch({ type: 'TcpConnectionFails', reason: 'connection closed by peer' });
    });
  }

  private closeSocket(): void {
    this.connectAbort?.abort();
    this.connectAbort = undefined;
    this.connectSeq++;
    const s = this.socket;
    if (!s) return;
    this.socket = undefined;
    // Flush what was written (e.g. a NOTIFICATION), then close; never wait forever.
    this.closing = new Promise<void>((resolve) => {
      if (s.destroyed) {
        resolve();
        return;
      }
      const t = setTimeout(() => s.destroy(), 2000);
      t.unref();
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      s.end(() => s.destroy());
    });
  }

  private onData(chunk: Uint8Array): void {
    this.framer.push(chunk);
    for (;;) {
      if (!this.socket) return;
      const f = this.framer.next();
      if (!f) return;
      if (f.kind === 'error') {
        this.log.warn({ reason: f.reason }, 'malformed message header from peer');
        this.dispatch({ type: 'DecodeError', notification: f.notification, reason: f.reason });
        return;
      }
      this.counters.messagesReceived++;
      const r = decodeMessage(f.type, f.body, this.codec);
      if (r.kind === 'error') {
        this.log.warn({ reason: r.reason, notification: notificationName(r.notification.code, r.notification.subcode) }, 'malformed message from peer');
        if (f.type === 2) this.counters.updatesReceived++;
        this.dispatch({ type: 'DecodeError', notification: r.notification, reason: r.reason });
        return;
      }
      const m = r.message;
      this.received.treatAsWithdraw = r.kind === 'treat-as-withdraw';
      if (r.kind === 'treat-as-withdraw') {
        this.log.warn({ reason: r.reason }, 'UPDATE from peer treated as withdraw (RFC 7606)');
      } else if (r.discarded && r.discarded.length > 0) {
        this.log.warn({ attributes: r.discarded }, 'attributes discarded from UPDATE (RFC 7606)');
      }
      if (m.type === 1) this.counters.opensReceived++;
      else if (m.type === 2) this.counters.updatesReceived++;
      else if (m.type === 4) this.counters.keepalivesReceived++;
      if (m.type === 3) {
        // before the FSM reacts: its generic reason must not replace this one
        this.setLastError(`peer sent NOTIFICATION ${m.code}/${m.subcode} (${notificationName(m.code, m.subcode)})`, { code: m.code, subcode: m.subcode });
        this.notified = true;
        this.connNotification ??= { code: m.code, subcode: m.subcode };
      }
      this.dispatch({ type: 'MessageReceived', message: m });
      const limit = this.received.takeLimitNotification();
      if (limit) {
        this.dispatch({ type: 'DecodeError', notification: limit.notification, reason: limit.reason });
        this.lastError = limit.reason;
        return;
      }
      if (m.type === 3) {
        this.counters.notificationsReceived++;
      }
    }
  }

  private writeRaw(bytes: Uint8Array): void {
    const s = this.socket;
    if (!s || s.destroyed || s.writableEnded) return;
    s.write(bytes);
    this.counters.bytesSent += bytes.length;
    this.counters.messagesSent++;
  }

  private send(m: BGPMessage): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(m, this.codec);
    } catch (e) {
      this.log.error({ err: errMessage(e), type: m.type }, 'cannot encode message');
      return;
    }
    if (m.type === 3) {
      this.counters.notificationsSent++;
      // the FSM's reason for it follows (StateChanged) and is the one shown
      this.sentNotification = true;
      this.connNotification ??= { code: m.code, subcode: m.subcode };
      if (!this.notified) this.lastError = `sent NOTIFICATION ${notificationName(m.code, m.subcode)}`;
    }
    if (m.type === 1) this.counters.opensSent++;
    else if (m.type === 2) this.counters.updatesSent++;
    else if (m.type === 4) this.counters.keepalivesSent++;
    this.writeRaw(bytes);
  }

  // --- routes --------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    (this.deps.defer ?? setImmediate)(() => {
      this.flushPending = false;
      this.flush();
    });
  }

  private ribContext() {
    const neg = this.fsm.negotiated;
    const local = this.localAddress ? tryParseIP(this.localAddress) : undefined;
    const localAddress: { 4?: IP; 6?: IP } = {};
    if (local) localAddress[local.family] = local;
    const otherAddress: { 4?: IP; 6?: IP } = {};
    for (const a of this.params.nodeAddresses ?? []) otherAddress[a.family] ??= a;
    const ctx: RibContext = {
      ebgp: this.params.ebgp,
      localASN: this.fsm.config.localASN,
      localAddress,
      otherAddress,
      families: neg?.families ?? [],
    };
    if (this.link) {
      ctx.linkNextHops = this.link.nextHops(this.localAddress);
      ctx.extendedNextHop = neg?.extendedNextHop === true;
    }
    return ctx;
  }

  private computeRib(): AdjRibOut {
    if (this.mode === 'drained') return EMPTY_RIB;
    const { rib, skipped } = this.groups.table(this.routes, { ...this.ribContext(), gracefulShutdown: this.mode === 'draining' });
    for (const s of skipped) {
      const k = `${s.prefix} ${s.reason}`;
      if (this.skippedLogged.has(k)) continue;
      this.skippedLogged.add(k);
      this.log.warn({ prefix: s.prefix, reason: s.reason }, 'route not announced on this session');
    }
    return rib;
  }

  private flush(): void {
    if (this.fsm.state !== 'Established' || !this.socket) return;
    const next = this.computeRib();
    if (next === this.adjRibOut) return;
    const from = this.adjRibOut;
    this.adjRibOut = next;
    if (this.sendMove(from, next)) this.deps.onState();
  }

  /** Sends the UPDATEs moving the peer from `from` to `to` (encoded once per update group). */
  private sendMove(from: AdjRibOut, to: AdjRibOut): boolean {
    const mv = this.groups.move(from, to, this.codec.fourOctetAS ? 'as4' : 'as2', (announce, withdraw) => this.pack(announce, withdraw));
    if (mv.messages.length === 0) return false;
    mv.messages.forEach((m, i) => this.writeUpdateBytes(m, i === 0 ? mv.announced : 0, i === 0 ? mv.withdrawn : 0));
    if (this.log.isLevelEnabled('debug')) this.logSent(mv.diff ?? diffRib(from, to), mv.messages.length);
    return true;
  }

  private sendFullTable(endOfRibToo: boolean, onlyAfi?: number): void {
    const next = this.computeRib();
    if (onlyAfi === undefined) {
      this.sendMove(EMPTY_RIB, next);
      this.adjRibOut = next;
    } else {
      // ROUTE-REFRESH of one family: re-send that family's part of the table
      const entries = [...next.values()].filter((e) => (e.nlri.family === 4 ? 1 : 2) === onlyAfi);
      this.sendUpdates(groupEntries(entries), []);
      const merged = new Map(this.adjRibOut); // copy: tables may be shared with other sessions
      for (const e of entries) merged.set(e.key, e);
      this.adjRibOut = merged;
    }
    if (endOfRibToo) {
      for (const f of this.fsm.negotiated?.families ?? []) {
        if (onlyAfi !== undefined && f.afi !== onlyAfi) continue;
        this.writeUpdateBytes(endOfRib(f.afi === 1 ? 4 : 6, this.codec), 0, 0);
      }
    }
    this.deps.onState();
  }

  private onRouteRefresh(afi: number, safi: number): void {
    const neg = this.fsm.negotiated;
    if (!neg?.families.some((f) => f.afi === afi && f.safi === safi)) {
      this.log.warn({ afi, safi }, 'ROUTE-REFRESH for a family not negotiated: ignored');
      return;
    }
    this.log.info({ afi, safi }, 'ROUTE-REFRESH from peer: re-sending the table');
    this.sendFullTable(false, afi);
  }

  private writeUpdateBytes(bytes: Uint8Array, announced: number, withdrawn: number): void {
    if (!this.socket) return;
    this.writeRaw(bytes);
    this.counters.updatesSent++;
    this.counters.prefixesAnnounced += announced;
    this.counters.prefixesWithdrawn += withdrawn;
  }

  /** Packs routes into UPDATE messages; an encoding error is logged and sends nothing. */
  private pack(announce: { attributes: PathAttributes; prefixes: NLRI[] }[], withdraw: NLRI[]): Uint8Array[] {
    try {
      return packUpdates(announce, withdraw, { ...this.codec, maxMessageSize: 4096 });
    } catch (e) {
      this.log.error({ err: errMessage(e) }, 'cannot encode UPDATE');
      return [];
    }
  }

  private sendUpdates(announce: { attributes: PathAttributes; prefixes: NLRI[] }[], withdraw: NLRI[]): void {
    if (announce.length === 0 && withdraw.length === 0) return;
    const msgs = this.pack(announce, withdraw);
    if (msgs.length === 0) return;
    const nAnn = announce.reduce((n, g) => n + g.prefixes.length, 0);
    // Attribute counters to messages proportionally is not needed: count totals once.
    msgs.forEach((m, i) => this.writeUpdateBytes(m, i === 0 ? nAnn : 0, i === 0 ? withdraw.length : 0));
    if (this.log.isLevelEnabled('debug')) this.logSent({ announce, withdraw }, msgs.length);
  }

  private logSent(d: { announce: { prefixes: NLRI[] }[]; withdraw: NLRI[] }, messages: number): void {
    this.log.debug({ announced: d.announce.flatMap((g) => g.prefixes.map(nlriString)), withdrawn: d.withdraw.map(nlriString), messages }, 'sent UPDATEs');
  }
}

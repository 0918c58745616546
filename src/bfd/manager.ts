// BFD over UDP (RFC 5881 single hop, RFC 5883 multi-hop): the I/O shell around the pure
// session (session.ts) and demultiplexer (mux.ts). One receive socket per family and port
// (3784 single hop, 4784 multi-hop) shared by all sessions; one send socket per session bound
// to a source port in 49152-65535, sending with TTL / hop limit 255. Received TTLs come from
// the metallb_udp addon (IP_RECVTTL / IPV6_RECVHOPLIMIT). Malformed or hostile datagrams are
// dropped and counted by reason, never thrown.

import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { encodeControl, BfdState, STATE_NAMES, DIAG_NAMES, type BfdDiag } from './codec.ts';
import { BfdSession, type BfdAction, type BfdSessionStatus, type BfdTimers } from './session.ts';
import { demux, DROP_REASONS, MULTI_HOP_PORT, SINGLE_HOP_PORT, SOURCE_PORT_MAX, SOURCE_PORT_MIN, type DropReason, type MuxEntry } from './mux.ts';
import { loadUdpAddon, type NativeUdpSocket, type UdpAddon } from '../native/udp.ts';

export interface BfdPeerSpec {
  /** Caller's key for the session (e.g. the BGP session key). */
  key: string;
  peerAddress: string;
  /** Source address; "" lets the kernel choose. */
  localAddress: string;
  /** RFC 5883 multi-hop (port 4784, TTL checked against minimumTtl). */
  multihop: boolean;
  minimumTtl: number;
  timers: BfdTimers;
  /** SO_BINDTODEVICE for the send socket ("" = none). */
  device?: string;
}

export interface BfdPeerStatus extends Omit<BfdSessionStatus, 'state' | 'remoteState' | 'localDiag' | 'remoteDiag'> {
  key: string;
  peerAddress: string;
  localAddress: string;
  multihop: boolean;
  state: 'AdminDown' | 'Down' | 'Init' | 'Up';
  remoteState: 'AdminDown' | 'Down' | 'Init' | 'Up';
  localDiag: string;
  remoteDiag: string;
  /** Socket problem that keeps this session from working (bind failed, send failed...). */
  error?: string;
}

export interface BfdStateChange {
  key: string;
  peerAddress: string;
  from: BfdState;
  to: BfdState;
  diag: BfdDiag;
}

export interface BfdLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface BfdManagerOptions {
  log: BfdLogger;
  /** Called on every session state change (after the session's status is updated). */
  onStateChange?: (c: BfdStateChange) => void;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
  /** [0,1) for jitter. Default Math.random. */
  rng?: () => number;
  /** Override the single-hop / multi-hop receive ports (tests over loopback). */
  ports?: { singleHop: number; multiHop: number };
  /** Override the ports packets are sent to (default: `ports`). */
  peerPorts?: { singleHop: number; multiHop: number };
  addon?: UdpAddon;
}

interface Entry extends MuxEntry {
  spec: BfdPeerSpec;
  session: BfdSession;
  tx: NativeUdpSocket | undefined;
  timer: NodeJS.Timeout | undefined;
  error: string | undefined;
}

const family = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);

export class BfdManager {
  private readonly entries = new Map<string, Entry>();
  private readonly byDiscr = new Map<number, Entry>();
  private readonly rx = new Map<string, NativeUdpSocket | Error>();
  private readonly dropCounts = new Map<DropReason, number>(DROP_REASONS.map((r) => [r, 0]));
  private readonly now: () => number;
  private readonly rng: () => number;
  private readonly addon: UdpAddon;
  private readonly ports: { singleHop: number; multiHop: number };
  private readonly peerPorts: { singleHop: number; multiHop: number };
  private closed = false;

  constructor(private readonly opts: BfdManagerOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.rng = opts.rng ?? Math.random;
    this.addon = opts.addon ?? loadUdpAddon();
    this.ports = opts.ports ?? { singleHop: SINGLE_HOP_PORT, multiHop: MULTI_HOP_PORT };
    this.peerPorts = opts.peerPorts ?? this.ports;
  }

  /** Makes the set of sessions equal to `specs` (added, removed with AdminDown, re-timed). */
  sync(specs: readonly BfdPeerSpec[]): void {
    if (this.closed) return;
    const want = new Map(specs.map((s) => [s.key, s]));
    for (const [key, e] of this.entries) {
      const s = want.get(key);
      if (!s || s.peerAddress !== e.spec.peerAddress || s.localAddress !== e.spec.localAddress || s.multihop !== e.spec.multihop || (s.device ?? '') !== (e.spec.device ?? '')) {
        this.remove(e);
      }
    }
    for (const s of specs) {
      const e = this.entries.get(s.key);
      if (!e) this.add(s);
      else {
        const timersChanged = JSON.stringify(e.spec.timers) !== JSON.stringify(s.timers);
        e.spec = s;
        e.minimumTtl = s.minimumTtl;
        if (timersChanged) this.apply(e, e.session.setTimers(s.timers, this.now()));
      }
    }
  }

  state(key: string): BfdState | undefined {
    return this.entries.get(key)?.session.state;
  }

  status(): BfdPeerStatus[] {
    return [...this.entries.values()].map((e) => {
      const st = e.session.status();
      const out: BfdPeerStatus = {
        ...st,
        key: e.spec.key,
        peerAddress: e.spec.peerAddress,
        localAddress: e.spec.localAddress,
        multihop: e.spec.multihop,
        state: STATE_NAMES[st.state],
        remoteState: STATE_NAMES[st.remoteState],
        localDiag: DIAG_NAMES[st.localDiag] ?? String(st.localDiag),
        remoteDiag: DIAG_NAMES[st.remoteDiag] ?? String(st.remoteDiag),
      };
      if (e.error) out.error = e.error;
      return out;
    });
  }

  /** Dropped datagrams by reason (every reason present, zeros included). */
  drops(): Record<DropReason, number> {
    return Object.fromEntries(this.dropCounts) as Record<DropReason, number>;
  }

  /** Sends AdminDown on every session, closes every socket. */
  close(): void {
    if (this.closed) return;
    for (const e of [...this.entries.values()]) this.remove(e);
    for (const s of this.rx.values()) if (!(s instanceof Error)) s.close();
    this.rx.clear();
    this.closed = true;
  }

  // ---------------------------------------------------------------------------------- internals

  private newDiscr(): number {
    for (;;) {
      const d = randomInt(1, 0xffffffff);
      if (!this.byDiscr.has(d)) return d;
    }
  }

  private add(spec: BfdPeerSpec): void {
    const discr = this.newDiscr();
    const e: Entry = {
      localDiscr: discr,
      peerAddress: spec.peerAddress,
      multihop: spec.multihop,
      minimumTtl: spec.minimumTtl,
      spec,
      session: new BfdSession(discr, spec.timers, this.rng, this.now()),
      tx: undefined,
      timer: undefined,
      error: undefined,
    };
    this.entries.set(spec.key, e);
    this.byDiscr.set(discr, e);
    const rxErr = this.ensureRx(family(spec.peerAddress), spec.multihop);
    if (rxErr) e.error = rxErr;
    try {
      e.tx = this.openTx(spec);
    } catch (err) {
      e.error = `cannot open the BFD send socket: ${(err as Error).message}`;
    }
    if (e.error) this.opts.log.warn({ peer: spec.peerAddress, error: e.error }, 'BFD session cannot run');
    this.opts.log.info({ peer: spec.peerAddress, multihop: spec.multihop, discriminator: discr, ...spec.timers }, 'BFD session added');
    this.schedule(e);
  }

  private remove(e: Entry): void {
    this.apply(e, e.session.adminDown(this.now()), true);
    if (e.timer) clearTimeout(e.timer);
    e.tx?.close();
    this.entries.delete(e.spec.key);
    this.byDiscr.delete(e.localDiscr);
  }

  private openTx(spec: BfdPeerSpec): NativeUdpSocket {
    const span = SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1;
    const start = Math.floor(this.rng() * span);
    let last: Error | undefined;
    for (let i = 0; i < 64; i++) {
      const port = SOURCE_PORT_MIN + ((start + i * 7919) % span);
      try {
        return new this.addon.UdpSocket(family(spec.peerAddress), spec.localAddress, port, 255, spec.device ?? '', null);
      } catch (err) {
        last = err as Error;
        if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
      }
    }
    throw last ?? new Error('no free source port');
  }

  /** Opens the shared receive socket for (family, hop mode); returns an error text or undefined. */
  private ensureRx(fam: 4 | 6, multihop: boolean): string | undefined {
    const port = multihop ? this.ports.multiHop : this.ports.singleHop;
    const k = `${fam}/${port}`;
    let s = this.rx.get(k);
    if (!s) {
      try {
        s = new this.addon.UdpSocket(fam, '', port, 255, '', (data, from, _port, ttl) => this.onDatagram(data, from, ttl, multihop));
      } catch (err) {
        s = err as Error;
        this.opts.log.warn({ port, family: fam, error: s.message }, 'cannot listen for BFD packets');
      }
      this.rx.set(k, s);
    }
    return s instanceof Error ? `cannot listen on UDP port ${port} (IPv${fam}): ${s.message}` : undefined;
  }

  private onDatagram(data: Buffer, from: string, ttl: number, multihop: boolean): void {
    const r = demux(data, from.startsWith('::ffff:') ? from.slice(7) : from, ttl, multihop, {
      byDiscr: (d) => this.byDiscr.get(d),
      byPeer: (a, mh) => [...this.entries.values()].find((e) => e.peerAddress === a && e.multihop === mh),
    });
    if (!r.ok) {
      this.dropCounts.set(r.reason, (this.dropCounts.get(r.reason) ?? 0) + 1);
      this.opts.log.debug({ reason: r.reason, detail: r.detail }, 'BFD packet dropped');
      return;
    }
    this.apply(r.entry, r.entry.session.receive(r.packet, this.now()));
  }

  private apply(e: Entry, actions: BfdAction[], final = false): void {
    for (const a of actions) {
      if (a.kind === 'send') this.send(e, encodeControl(a.packet));
      else {
        this.opts.log.info({ peer: e.spec.peerAddress, from: STATE_NAMES[a.from], to: STATE_NAMES[a.to], diag: DIAG_NAMES[a.diag] }, `BFD session ${STATE_NAMES[a.to]}`);
        this.opts.onStateChange?.({ key: e.spec.key, peerAddress: e.spec.peerAddress, from: a.from, to: a.to, diag: a.diag });
      }
    }
    if (!final) this.schedule(e);
  }

  private send(e: Entry, buf: Buffer): void {
    if (!e.tx) return;
    const port = e.spec.multihop ? this.peerPorts.multiHop : this.peerPorts.singleHop;
    try {
      e.tx.send(buf, e.spec.peerAddress, port);
      if (e.error?.startsWith('send:')) e.error = undefined;
    } catch (err) {
      // Unreachable peer, interface down: the detection timer decides; keep the text for /status.
      e.error = `send: ${(err as Error).message}`;
    }
  }

  private schedule(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    const due = e.session.nextDeadline();
    if (due === undefined || this.closed) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      if (this.entries.get(e.spec.key) !== e) return;
      this.apply(e, e.session.timers(this.now()));
    }, Math.max(0, due - this.now()));
  }
}

export { BfdState };

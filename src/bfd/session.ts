// One BFD session (RFC 5880 §6.8, asynchronous mode): a pure state machine. The owner feeds it
// received Control packets and the current time, and calls `timers(now)` at `nextDeadline()`;
// it returns actions (packets to send, state changes). Time is milliseconds from an injected
// clock, interval fields on the wire are microseconds. Jitter comes from an injected RNG.
//
// Implemented: Down/Init/Up/AdminDown (§6.8.6 reception rules, three-way handshake), detection
// time (§6.8.4), timer negotiation with the 1 s slow rate until Up (§6.8.3), Poll/Final
// sequences for parameter changes (including the switch to the configured rates at Up), jitter
// (§6.8.7), passive role (§6.1), the remote's Demand mode (we stop periodic transmission).
// Not implemented: our own Demand mode, the Echo function (MetalLB's echoMode is rejected with a
// warning by the runtime).

import { BfdDiag, BfdState, type ControlPacket } from './codec.ts';

export const SLOW_TX_US = 1_000_000;

export interface BfdTimers {
  /** Desired minimum TX interval once Up, ms (BFDProfile transmitInterval). */
  transmitIntervalMs: number;
  /** Required minimum RX interval, ms (BFDProfile receiveInterval). */
  receiveIntervalMs: number;
  /** BFDProfile detectMultiplier. */
  detectMultiplier: number;
  /** Passive role: send nothing until the peer has sent (BFDProfile passiveMode). */
  passive: boolean;
}

export type BfdAction =
  | { kind: 'send'; packet: ControlPacket }
  | { kind: 'state'; from: BfdState; to: BfdState; diag: BfdDiag };

export interface BfdSessionStatus {
  state: BfdState;
  remoteState: BfdState;
  localDiscr: number;
  remoteDiscr: number;
  /** Diagnostic of the last local state change to Down (or None). */
  localDiag: BfdDiag;
  remoteDiag: BfdDiag;
  /** Negotiated intervals in ms (0 while nothing was received). */
  txIntervalMs: number;
  detectionTimeMs: number;
  remoteDetectMult: number;
  pollActive: boolean;
  packetsIn: number;
  packetsOut: number;
  upEvents: number;
  downEvents: number;
  /** Clock time of the last state change. */
  lastChange: number;
}

export class BfdSession {
  private st = BfdState.Down;
  private remoteState = BfdState.Down;
  private remoteDiscr = 0;
  private localDiag = BfdDiag.None;
  private remoteDiag = BfdDiag.None;
  private remoteMinRx = 1; // µs, §6.8.1
  private remoteDesiredTx = 0; // µs, last received
  private remoteDetectMult = 0;
  private remoteDemand = false;
  // Advertised values (µs) and the values in force while a Poll Sequence runs.
  private desiredTx: number;
  private requiredRx: number;
  private pollActive = false;
  private pollOldTx = 0;
  private pollOldRx = 0;
  private txDue: number | undefined;
  private detectDue: number | undefined;
  private counters = { packetsIn: 0, packetsOut: 0, upEvents: 0, downEvents: 0 };
  private lastChange: number;

  constructor(
    readonly localDiscr: number,
    private cfg: BfdTimers,
    private readonly rng: () => number,
    now: number,
  ) {
    if (localDiscr <= 0 || localDiscr > 0xffffffff) throw new RangeError(`local discriminator ${localDiscr}`);
    checkTimers(cfg);
    this.desiredTx = this.txForState(BfdState.Down);
    this.requiredRx = cfg.receiveIntervalMs * 1000;
    this.lastChange = now;
    if (!cfg.passive) this.txDue = now;
  }

  get state(): BfdState {
    return this.st;
  }

  status(): BfdSessionStatus {
    return {
      state: this.st,
      remoteState: this.remoteState,
      localDiscr: this.localDiscr,
      remoteDiscr: this.remoteDiscr,
      localDiag: this.localDiag,
      remoteDiag: this.remoteDiag,
      txIntervalMs: this.remoteDiscr === 0 ? 0 : this.txInterval() / 1000,
      detectionTimeMs: this.remoteDetectMult === 0 ? 0 : this.detectionTime() / 1000,
      remoteDetectMult: this.remoteDetectMult,
      pollActive: this.pollActive,
      ...this.counters,
      lastChange: this.lastChange,
    };
  }

  /** Earliest time `timers` has work to do, or undefined. */
  nextDeadline(): number | undefined {
    if (this.txDue === undefined) return this.detectDue;
    if (this.detectDue === undefined) return this.txDue;
    return Math.min(this.txDue, this.detectDue);
  }

  /** Runs the detection and transmission timers due at `now`. */
  timers(now: number): BfdAction[] {
    const out: BfdAction[] = [];
    if (this.detectDue !== undefined && now >= this.detectDue) {
      this.detectDue = undefined;
      // §6.8.1: RemoteDiscr is reset when a Detection Time passes without a packet.
      this.remoteDiscr = 0;
      this.remoteState = BfdState.Down;
      if (this.st === BfdState.Init || this.st === BfdState.Up) this.changeState(BfdState.Down, BfdDiag.ControlDetectionExpired, now, out);
      if (this.cfg.passive) this.txDue = undefined;
    }
    if (this.txDue !== undefined && now >= this.txDue) {
      this.txDue = undefined;
      this.transmit(now, false, out);
    }
    return out;
  }

  /**
   * A Control packet that passed the codec and the demultiplexer (right discriminator, TTL,
   * auth) for this session (§6.8.6 from "If bfd.SessionState is AdminDown").
   */
  receive(p: ControlPacket, now: number): BfdAction[] {
    const out: BfdAction[] = [];
    if (this.st === BfdState.AdminDown) return out;
    this.counters.packetsIn++;
    this.remoteDiscr = p.myDiscr;
    this.remoteState = p.state;
    this.remoteDiag = p.diag;
    this.remoteDemand = p.demand;
    this.remoteMinRx = p.requiredMinRx;
    this.remoteDesiredTx = p.desiredMinTx;
    this.remoteDetectMult = p.detectMult;
    if (p.final && this.pollActive) this.pollActive = false;

    if (p.state === BfdState.AdminDown) {
      if (this.st !== BfdState.Down) this.changeState(BfdState.Down, BfdDiag.NeighborSignaledDown, now, out);
    } else if (this.st === BfdState.Down) {
      if (p.state === BfdState.Down) this.changeState(BfdState.Init, BfdDiag.None, now, out);
      else if (p.state === BfdState.Init) this.changeState(BfdState.Up, BfdDiag.None, now, out);
    } else if (this.st === BfdState.Init) {
      if (p.state === BfdState.Init || p.state === BfdState.Up) this.changeState(BfdState.Up, BfdDiag.None, now, out);
    } else if (p.state === BfdState.Down) {
      this.changeState(BfdState.Down, BfdDiag.NeighborSignaledDown, now, out);
    }

    // Detection timer restarts on every accepted packet (also in Down: it clears RemoteDiscr).
    this.detectDue = now + this.detectionTime() / 1000;
    if (p.poll) {
      this.transmit(now, true, out);
    } else if (!out.some((a) => a.kind === 'send') && this.txDue === undefined && this.mayTransmit()) {
      // Passive side's first packet, or transmission resumed after the remote left Demand mode.
      this.transmit(now, false, out);
    } else if (this.txDue !== undefined && this.txDue > now + this.txInterval() / 1000) {
      // The remote asked for a faster rate than the one we scheduled at: reschedule.
      this.txDue = now + this.jittered(this.txInterval()) / 1000;
    }
    return out;
  }

  /** Local administrative disable (§6.8.16): AdminDown, diag 7, the peer sees it. */
  adminDown(now: number): BfdAction[] {
    const out: BfdAction[] = [];
    if (this.st === BfdState.AdminDown) return out;
    this.changeState(BfdState.AdminDown, BfdDiag.AdministrativelyDown, now, out);
    this.detectDue = undefined;
    return out;
  }

  /** Leaves AdminDown: back to Down, handshake starts again. */
  adminUp(now: number): BfdAction[] {
    const out: BfdAction[] = [];
    if (this.st !== BfdState.AdminDown) return out;
    this.changeState(BfdState.Down, BfdDiag.None, now, out);
    return out;
  }

  /** New profile values; while Up a Poll Sequence announces them (§6.8.3). */
  setTimers(cfg: BfdTimers, now: number): BfdAction[] {
    checkTimers(cfg);
    this.cfg = cfg;
    const out: BfdAction[] = [];
    this.updateIntervals(now, out);
    if (!cfg.passive && this.txDue === undefined && this.st !== BfdState.AdminDown) this.txDue = now;
    return out;
  }

  // ---------------------------------------------------------------------------------- internals

  private txForState(s: BfdState): number {
    const configured = this.cfg.transmitIntervalMs * 1000;
    return s === BfdState.Up ? configured : Math.max(configured, SLOW_TX_US);
  }

  private updateIntervals(now: number, out: BfdAction[]): void {
    const tx = this.txForState(this.st);
    const rx = this.cfg.receiveIntervalMs * 1000;
    if (tx === this.desiredTx && rx === this.requiredRx) return;
    if (this.st === BfdState.Up) {
      if (!this.pollActive) {
        this.pollOldTx = this.desiredTx;
        this.pollOldRx = this.requiredRx;
      }
      this.pollActive = true;
    }
    this.desiredTx = tx;
    this.requiredRx = rx;
    if (this.pollActive) this.transmit(now, false, out);
  }

  private changeState(to: BfdState, diag: BfdDiag, now: number, out: BfdAction[]): void {
    const from = this.st;
    this.st = to;
    this.localDiag = diag;
    this.lastChange = now;
    if (to === BfdState.Up) this.counters.upEvents++;
    if (from === BfdState.Up) this.counters.downEvents++;
    if (to !== BfdState.Up) this.pollActive = false;
    out.push({ kind: 'state', from, to, diag });
    const before = out.length;
    this.updateIntervals(now, out);
    // Tell the peer at once (unless a Poll just did); the periodic schedule continues from here.
    if (out.length === before && (this.mayTransmit() || to === BfdState.AdminDown)) this.transmit(now, false, out);
  }

  /** Interval between our periodic packets, µs (§6.8.7), before jitter. */
  private txInterval(): number {
    const tx = this.pollActive ? Math.min(this.desiredTx, this.pollOldTx) : this.desiredTx;
    return Math.max(tx, this.remoteMinRx);
  }

  /** How long without a packet until the session is declared down, µs (§6.8.4). */
  private detectionTime(): number {
    const rx = this.pollActive ? Math.max(this.requiredRx, this.pollOldRx) : this.requiredRx;
    return Math.max(1, this.remoteDetectMult) * Math.max(rx, this.remoteDesiredTx);
  }

  private jittered(us: number): number {
    const r = Math.min(Math.max(this.rng(), 0), 1);
    return this.cfg.detectMultiplier === 1 ? us * (0.75 + 0.15 * r) : us * (1 - 0.25 * r);
  }

  private mayTransmit(): boolean {
    if (this.st === BfdState.AdminDown) return false;
    if (this.cfg.passive && this.remoteDiscr === 0) return false;
    if (this.remoteMinRx === 0) return false;
    // The remote is in Demand mode and both are Up: periodic transmission stops (§6.6).
    if (this.remoteDemand && this.st === BfdState.Up && this.remoteState === BfdState.Up && !this.pollActive) return false;
    return true;
  }

  private transmit(now: number, final: boolean, out: BfdAction[]): void {
    out.push({
      kind: 'send',
      packet: {
        diag: this.localDiag,
        state: this.st,
        poll: this.pollActive && !final,
        final,
        cpi: false,
        demand: false,
        detectMult: this.cfg.detectMultiplier,
        myDiscr: this.localDiscr,
        yourDiscr: this.remoteDiscr,
        desiredMinTx: this.desiredTx,
        requiredMinRx: this.requiredRx,
        requiredMinEchoRx: 0,
      },
    });
    this.counters.packetsOut++;
    if (this.st === BfdState.AdminDown) {
      // A few AdminDown packets are enough for the peer (§6.8.16); stop after one detection time.
      this.txDue = undefined;
      return;
    }
    this.txDue = this.mayTransmit() ? now + this.jittered(this.txInterval()) / 1000 : undefined;
  }
}

function checkTimers(t: BfdTimers): void {
  for (const [k, v] of [
    ['transmitIntervalMs', t.transmitIntervalMs],
    ['receiveIntervalMs', t.receiveIntervalMs],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0 || v > 4_294_967) throw new RangeError(`${k} ${v}`);
  }
  if (!Number.isInteger(t.detectMultiplier) || t.detectMultiplier < 1 || t.detectMultiplier > 255) throw new RangeError(`detectMultiplier ${t.detectMultiplier}`);
}

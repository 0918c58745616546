// RFC 4271 §8 session FSM as a pure state machine: `handle(event)` returns the actions the driver
// performs in order (send, connect, disconnect, start/stop timers). Normally we are the active
// side (MetalLB never listens), so Active means "waiting for the connect-retry timer"; a passive
// session (cfg.passive) never connects and waits in Active for the peer's connection.
//
// Connect retry: exponential backoff from connectRetryBaseMs, doubling per failed attempt, capped
// at connectRetryMaxMs, with jitter that shortens each delay by up to 25% (RFC 4271 §10).
// The counter resets when the session reaches Established.

import type { BGPMessage, NotificationMessage } from '../codec/messages.ts';
import { CeaseSubcode, ErrorCode } from '../codec/messages.ts';
import { buildOpen, checkOpen, notification } from './open.ts';
import type { Negotiated, SessionAction, SessionConfig, SessionEvent, SessionState, TimerName } from './types.ts';

/** Hold time used while waiting for the peer's OPEN (RFC 4271 §8.2.2: "large", 4 minutes). */
export const OPEN_HOLD_TIME_MS = 240_000;

/** RFC 6608 FSM error subcodes. */
export const FsmSubcode = { UNEXPECTED_IN_OPENSENT: 1, UNEXPECTED_IN_OPENCONFIRM: 2, UNEXPECTED_IN_ESTABLISHED: 3 } as const;

const MESSAGE_NAMES: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };

export function backoffDelay(cfg: Pick<SessionConfig, 'connectRetryBaseMs' | 'connectRetryMaxMs'>, attempt: number, rnd: number): number {
  const base = Math.max(1, cfg.connectRetryBaseMs);
  const max = Math.max(base, cfg.connectRetryMaxMs);
  const exp = Math.min(max, base * 2 ** Math.min(Math.max(0, attempt), 30));
  const jitter = 0.75 + 0.25 * Math.min(Math.max(rnd, 0), 1);
  return Math.max(1, Math.round(exp * jitter));
}

export class SessionFSM {
  private st: SessionState = 'Idle';
  private running = false;
  private failures = 0;
  private neg: Negotiated | undefined;
  private lastErr: string | undefined;
  private out: SessionAction[] = [];

  constructor(private cfg: SessionConfig) {}

  get state(): SessionState {
    return this.st;
  }
  get negotiated(): Negotiated | undefined {
    return this.neg;
  }
  get lastError(): string | undefined {
    return this.lastErr;
  }
  get config(): SessionConfig {
    return this.cfg;
  }
  /** Consecutive failed attempts since the last Established (drives the backoff). */
  get failedAttempts(): number {
    return this.failures;
  }

  /** The graceful restart is complete: later OPENs no longer carry the Restart State bit. */
  restartComplete(): void {
    const gr = this.cfg.gracefulRestart;
    if (gr?.restarting) this.cfg = { ...this.cfg, gracefulRestart: { ...gr, restarting: false } };
  }

  handle(ev: SessionEvent): SessionAction[] {
    this.out = [];
    this.dispatch(ev);
    const out = this.out;
    this.out = [];
    return out;
  }

  // --- helpers -------------------------------------------------------------------------------

  private emit(a: SessionAction): void {
    this.out.push(a);
  }
  private send(m: BGPMessage): void {
    this.emit({ type: 'Send', message: m });
  }
  private timer(timer: TimerName, ms: number): void {
    this.emit({ type: 'StartTimer', timer, ms });
  }
  private stopTimer(timer: TimerName): void {
    this.emit({ type: 'StopTimer', timer });
  }
  private stopAllTimers(): void {
    this.stopTimer('connectRetry');
    this.stopTimer('hold');
    this.stopTimer('keepalive');
  }
  private go(to: SessionState, reason?: string): void {
    if (to === this.st) return;
    const from = this.st;
    this.st = to;
    if (from === 'Established') this.emit({ type: 'Down', reason: reason ?? 'session closed', gracefulRestart: this.neg?.gracefulRestart === true });
    this.emit(reason === undefined ? { type: 'StateChanged', from, to } : { type: 'StateChanged', from, to, reason });
  }
  private nextBackoff(): number {
    const d = backoffDelay(this.cfg, this.failures, (this.cfg.random ?? Math.random)());
    this.failures++;
    return d;
  }
  /** Connection-level failure: close, go Idle, schedule the next attempt (unless stopped). */
  private fail(reason: string, notif?: NotificationMessage): void {
    this.lastErr = reason;
    if (notif) this.send(notif);
    this.emit({ type: 'Disconnect', reason });
    this.stopAllTimers();
    this.go('Idle', reason);
    this.neg = undefined;
    if (this.running) this.timer('connectRetry', this.nextBackoff());
  }
  /** The NOTIFICATION (if any) of an administrative stop; see the ManualStop event. */
  private stopNotification(subcode: number, graceful: boolean): NotificationMessage | undefined {
    const neg = this.st === 'Established' ? this.neg : undefined;
    if (graceful && neg?.gracefulRestart) return neg.gracefulNotification ? notification(ErrorCode.CEASE, subcode) : undefined;
    if (neg?.gracefulNotification) return notification(ErrorCode.CEASE, CeaseSubcode.HARD_RESET, new Uint8Array([ErrorCode.CEASE, subcode]));
    return notification(ErrorCode.CEASE, subcode);
  }
  private startConnect(): void {
    if (this.cfg.passive) {
      this.go('Active');
      return;
    }
    this.go('Connect');
    this.emit({ type: 'Connect' });
    this.timer('connectRetry', this.cfg.connectTimeoutMs);
  }

  // --- the machine ---------------------------------------------------------------------------

  private dispatch(ev: SessionEvent): void {
    switch (ev.type) {
      case 'ManualStart':
        if (this.running) return;
        this.running = true;
        if (this.st === 'Idle') {
          this.stopTimer('connectRetry');
          this.startConnect();
        }
        return;
      case 'ManualStop': {
        const wasRunning = this.running;
        this.running = false;
        if (this.st === 'OpenSent' || this.st === 'OpenConfirm' || this.st === 'Established') {
          this.fail('administratively stopped', this.stopNotification(ev.subcode ?? CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, ev.graceful === true));
        } else if (this.st === 'Connect') {
          this.fail('administratively stopped');
        } else if (wasRunning || this.st !== 'Idle') {
          this.stopAllTimers();
          this.go('Idle', 'administratively stopped');
        }
        this.failures = 0;
        return;
      }
      case 'TcpConnectionConfirmed':
        if (this.st === 'Connect' || this.st === 'Active' || (this.st === 'Idle' && this.running && this.cfg.passive)) {
          this.stopTimer('connectRetry');
          this.send(buildOpen(this.cfg));
          this.timer('hold', OPEN_HOLD_TIME_MS);
          this.go('OpenSent');
        } else {
          // A connection we did not ask for (Idle, or already have one): refuse it.
          this.emit({ type: 'Disconnect', reason: `unexpected TCP connection in state ${this.st}` });
        }
        return;
      case 'TcpConnectionFails':
        if (this.st === 'Idle') return;
        if (this.st === 'Connect') {
          this.lastErr = ev.reason;
          this.emit({ type: 'Disconnect', reason: ev.reason });
          this.go('Active', ev.reason);
          this.timer('connectRetry', this.nextBackoff());
          return;
        }
        if (this.st === 'Active') return;
        this.fail(`connection lost: ${ev.reason}`);
        return;
      case 'TimerExpired':
        this.onTimer(ev.timer);
        return;
      case 'DecodeError':
        if (this.st === 'Idle' || this.st === 'Connect' || this.st === 'Active') return;
        this.fail(ev.reason, ev.notification);
        return;
      case 'OpenCollisionDump':
        if (this.st === 'Idle' || this.st === 'Connect' || this.st === 'Active') return;
        this.fail('connection collision resolution', notification(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION));
        return;
      case 'MessageReceived':
        this.onMessage(ev.message);
        return;
    }
  }

  private onTimer(t: TimerName): void {
    switch (t) {
      case 'connectRetry':
        if (!this.running) return;
        if (this.st === 'Idle' || this.st === 'Active') {
          this.startConnect();
        } else if (this.st === 'Connect') {
          // Our own connect timeout: abandon this attempt (a wrong TCP-MD5 key makes SYNs vanish).
          this.lastErr = `connect timeout after ${this.cfg.connectTimeoutMs} ms`;
          this.emit({ type: 'Disconnect', reason: this.lastErr });
          this.go('Active', this.lastErr);
          this.timer('connectRetry', this.nextBackoff());
        }
        return;
      case 'hold':
        if (this.st === 'OpenSent' || this.st === 'OpenConfirm' || this.st === 'Established') {
          this.fail('hold timer expired', notification(ErrorCode.HOLD_TIMER_EXPIRED, 0));
        }
        return;
      case 'keepalive':
        if ((this.st === 'OpenConfirm' || this.st === 'Established') && this.neg && this.neg.keepaliveTime > 0) {
          this.send({ type: 4 });
          this.timer('keepalive', this.neg.keepaliveTime * 1000);
        }
        return;
    }
  }

  private restartHold(): void {
    if (this.neg && this.neg.holdTime > 0) this.timer('hold', this.neg.holdTime * 1000);
  }

  private unexpected(m: BGPMessage, subcode: number): void {
    this.fail(
      `unexpected ${MESSAGE_NAMES[m.type] ?? String(m.type)} in state ${this.st}`,
      notification(ErrorCode.FSM, subcode),
    );
  }

  private onMessage(m: BGPMessage): void {
    if (this.st === 'Idle' || this.st === 'Connect' || this.st === 'Active') return;
    if (m.type === 3) {
      // NOTIFICATION from the peer: close without answering.
      this.fail(`peer sent NOTIFICATION ${m.code}/${m.subcode}`);
      return;
    }
    switch (this.st) {
      case 'OpenSent': {
        if (m.type !== 1) return this.unexpected(m, FsmSubcode.UNEXPECTED_IN_OPENSENT);
        const r = checkOpen(this.cfg, m);
        if (!r.ok) return this.fail(r.reason, r.notification);
        this.neg = r.negotiated;
        this.send({ type: 4 });
        if (r.negotiated.holdTime > 0) {
          this.timer('hold', r.negotiated.holdTime * 1000);
          this.timer('keepalive', r.negotiated.keepaliveTime * 1000);
        } else {
          this.stopTimer('hold');
          this.stopTimer('keepalive');
        }
        this.go('OpenConfirm');
        return;
      }
      case 'OpenConfirm':
        if (m.type === 4) {
          this.restartHold();
          this.failures = 0;
          this.lastErr = undefined;
          this.go('Established');
          if (this.neg) this.emit({ type: 'Established', negotiated: this.neg });
          return;
        }
        return this.unexpected(m, FsmSubcode.UNEXPECTED_IN_OPENCONFIRM);
      case 'Established':
        if (m.type === 4) {
          this.restartHold();
        } else if (m.type === 2) {
          this.restartHold();
          this.emit({ type: 'UpdateReceived', message: m });
        } else if (m.type === 5) {
          this.restartHold();
          this.emit({ type: 'RouteRefreshRequested', afi: m.afi, safi: m.safi });
        } else {
          this.unexpected(m, FsmSubcode.UNEXPECTED_IN_ESTABLISHED);
        }
        return;
    }
  }
}

// The receive side of one session: validated UPDATEs (the codec already applied RFC 7606) go
// through the receive policy into the session's Adj-RIB-In (src/routes/ribin.ts); changes are
// handed to the owner (the kernel route sync). Without a policy nothing is imported. Over the
// policy's prefixLimit the session is closed with Cease / Maximum Number of Prefixes Reached
// (RFC 4486 subcode 1; data = AFI, SAFI, the upper bound) and everything is dropped.
//
// Graceful restart of the peer (RFC 4724 §4.2, RFC 8538): when the connection is lost and the
// session had negotiated graceful restart (and no NOTIFICATION ended it, or one other than Hard
// Reset with the N bit), the routes of the families the peer kept forwarding state for stay in
// the Adj-RIB-In and the kernel, marked stale, for the peer's restart time. When it is back with
// graceful restart and the Forwarding State bit for their family, they wait for its End-of-RIB (at most the
// stale-path time); announced again = fresh; still stale at End-of-RIB or at the deadline =
// removed. Back without graceful restart (or the F bit for a family): removed at once.

import type { Logger } from 'pino';
import { networkInterfaces } from 'node:os';
import type { Family } from '../../ip/index.ts';
import type { NotificationMessage, UpdateMessage } from '../codec/messages.ts';
import { CeaseSubcode, ErrorCode } from '../codec/messages.ts';
import { isEndOfRib } from '../codec/index.ts';
import type { Clock, Negotiated } from '../session/types.ts';
import type { BgpReceivePolicy } from './types.ts';
import type { RibInContext, RouteChange } from '../../routes/ribin.ts';
import { AdjRibIn, STALE_PATH_TIME_MS } from '../../routes/ribin.ts';

export interface LimitNotification {
  notification: NotificationMessage;
  reason: string;
}

/** Name of the interface holding `address` (undefined when none or unknown). */
function interfaceOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  // a link-local session (unnumbered) carries its interface as the scope: fe80::1%eth0
  const scope = address.split('%')[1];
  if (scope) return scope;
  const bare = address.replace(/^::ffff:/, '');
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if ((list ?? []).some((a) => a.address === bare)) return name;
  }
  return undefined;
}

/** IPv4/IPv6 unicast of a list of AFI/SAFI pairs. */
export function familiesOf(list: readonly { afi: number; safi: number }[]): Family[] {
  const out: Family[] = [];
  for (const f of list) {
    if (f.safi !== 1) continue;
    if (f.afi === 1) out.push(4);
    else if (f.afi === 2) out.push(6);
  }
  return out;
}

/**
 * RFC 4724 §4.2 / RFC 8538 §4, receiving side: whether the routes of a peer whose connection just
 * ended are kept as stale, for which families (those its graceful restart capability listed) and
 * how long (its restart time). Graceful restart must have been negotiated; a NOTIFICATION ends it
 * unless both sides set the N bit and it is not a Hard Reset.
 */
export function peerRetention(neg: Negotiated | undefined, notification: { code: number; subcode: number } | undefined): { families: Family[]; restartTime: number } | undefined {
  const gr = neg?.peerGracefulRestart;
  if (!neg || !neg.gracefulRestart || !gr || gr.restartTime === 0) return undefined;
  if (notification && (!neg.gracefulNotification || (notification.code === ErrorCode.CEASE && notification.subcode === CeaseSubcode.HARD_RESET))) return undefined;
  const families = familiesOf(gr.families);
  return families.length > 0 ? { families, restartTime: gr.restartTime } : undefined;
}

export class ReceiveSide {
  /** Set by the session for the UPDATE being dispatched (RFC 7606 treat-as-withdraw). */
  treatAsWithdraw = false;
  /** Interface of the session's local address (IPv6 link-local next hops need it). */
  viaInterface: string | undefined;
  private rib: AdjRibIn | undefined;
  private limit: LimitNotification | undefined;
  private updatesIgnored = 0;
  private timer: unknown;
  /** The Adj-RIB-In holds stale routes and the session is not Established. */
  private waitingForPeer = false;

  constructor(
    readonly policy: BgpReceivePolicy | undefined,
    private readonly log: Logger,
    private readonly emit: (changes: RouteChange[]) => void,
    private readonly clock: Clock,
  ) {}

  get received(): number {
    return this.rib?.received ?? 0;
  }
  get accepted(): number {
    return this.rib?.accepted ?? 0;
  }
  /** Received routes kept as stale while the peer restarts. */
  get stale(): number {
    return this.rib?.staleCount ?? 0;
  }
  /** Until when (clock ms) the stale routes are kept, while there are any. */
  get staleUntil(): number | undefined {
    return this.rib && this.rib.staleCount > 0 ? this.rib.nextStaleDeadline() : undefined;
  }

  /**
   * Session Established. `peerGR`: the peer negotiated graceful restart on this connection, with
   * the families it set the Forwarding State bit for. Stale routes of those families wait for
   * its End-of-RIB; the others go now. Without stale routes: a fresh Adj-RIB-In.
   */
  up(ctx: RibInContext, localAddress: string | undefined, peerGR?: { forwarding: readonly Family[] }): void {
    this.limit = undefined;
    this.waitingForPeer = false;
    if (this.rib && this.rib.staleCount > 0) {
      const keep = peerGR?.forwarding ?? [];
      this.change(this.rib.peerReturned(keep, this.clock.now() + STALE_PATH_TIME_MS));
      this.log.info({ stale: this.rib.staleCount, families: keep }, this.rib.staleCount > 0 ? 'peer back with graceful restart: stale routes kept until its End-of-RIB' : 'peer back without graceful restart: stale routes removed');
      if (this.rib.staleCount > 0) {
        this.viaInterface = interfaceOf(localAddress);
        return;
      }
    }
    this.down();
    if (!this.policy) return;
    this.rib = new AdjRibIn(this.policy, ctx);
    this.viaInterface = interfaceOf(localAddress);
  }

  /**
   * Session left Established. `retain`: the peer restarts gracefully — keep the routes of these
   * families stale for `restartTime` seconds. Otherwise every imported route is removed.
   */
  down(retain?: { families: readonly Family[]; restartTime: number }): void {
    const rib = this.rib;
    if (rib && retain && retain.restartTime > 0 && retain.families.length > 0) {
      this.change(rib.markStale(retain.families, this.clock.now() + retain.restartTime * 1000));
      if (rib.staleCount > 0) {
        this.waitingForPeer = true;
        this.log.info({ stale: rib.staleCount, restartTime: retain.restartTime, families: retain.families }, 'peer restarting (graceful restart): its routes are kept as stale');
        return;
      }
    }
    this.rib = undefined;
    this.waitingForPeer = false;
    this.cancelTimer();
    if (!rib) return;
    const removed = rib.clear();
    if (removed.length > 0) this.emit(removed);
  }

  update(m: UpdateMessage): void {
    if (!this.rib) {
      if (!this.policy && this.updatesIgnored++ === 0) this.log.info('UPDATE received from a peer without receive policy: validated, nothing imported');
      return;
    }
    const eor = this.treatAsWithdraw ? undefined : isEndOfRib(m);
    if (eor !== undefined) {
      const gone = this.rib.endOfRib(eor);
      if (gone.length > 0) this.log.info({ family: eor, removed: gone.length }, 'End-of-RIB from the restarted peer: routes not announced again removed');
      this.change(gone);
      return;
    }
    const r = this.rib.apply(m, this.treatAsWithdraw);
    this.treatAsWithdraw = false;
    if (r.changes.length > 0) this.emit(r.changes);
    if (r.overLimit) {
      const { accepted, max, family } = r.overLimit;
      const data = new Uint8Array(7);
      const dv = new DataView(data.buffer);
      dv.setUint16(0, family === 4 ? 1 : 2);
      data[2] = 1;
      dv.setUint32(3, max);
      const reason = `peer announced ${accepted} accepted prefixes, more than the prefix limit ${max}: session closed with Cease/Maximum Number of Prefixes Reached (RFC 4486)`;
      this.log.error({ accepted, max }, reason);
      this.limit = { notification: { type: 3, code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data }, reason };
      this.rib = undefined; // the session is closing: the rest of this read is ignored
    }
  }

  /** Emits removals and re-arms the stale deadline timer. */
  private change(changes: RouteChange[]): void {
    if (changes.length > 0) this.emit(changes);
    this.cancelTimer();
    const until = this.staleUntil;
    if (until === undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      const rib = this.rib;
      if (!rib) return;
      const gone = rib.expire(this.clock.now());
      if (gone.length > 0) this.log.warn({ removed: gone.length, waitingForPeer: this.waitingForPeer }, this.waitingForPeer ? 'peer did not come back within its restart time: stale routes removed' : 'no End-of-RIB from the peer within the stale-path time: stale routes removed');
      if (this.waitingForPeer && rib.staleCount === 0) {
        this.rib = undefined;
        this.waitingForPeer = false;
      }
      this.change(gone);
    }, Math.max(0, until - this.clock.now()));
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The Cease 6/1 to send, once, after an UPDATE went over the limit. */
  takeLimitNotification(): LimitNotification | undefined {
    const l = this.limit;
    this.limit = undefined;
    return l;
  }
}

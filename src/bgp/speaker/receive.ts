// The receive side of one session: validated UPDATEs (the codec already applied RFC 7606) go
// through the receive policy into the session's Adj-RIB-In (src/routes/ribin.ts); changes are
// handed to the owner (the kernel route sync). Without a policy nothing is imported. Over the
// policy's prefixLimit the session is closed with Cease / Maximum Number of Prefixes Reached
// (RFC 4486 subcode 1; data = AFI, SAFI, the upper bound) and everything is dropped.

import type { Logger } from 'pino';
import { networkInterfaces } from 'node:os';
import type { NotificationMessage, UpdateMessage } from '../codec/messages.ts';
import { CeaseSubcode, ErrorCode } from '../codec/messages.ts';
import type { BgpReceivePolicy } from './types.ts';
import type { RibInContext, RouteChange } from '../../routes/ribin.ts';
import { AdjRibIn } from '../../routes/ribin.ts';

export interface LimitNotification {
  notification: NotificationMessage;
  reason: string;
}

/** Name of the interface holding `address` (undefined when none or unknown). */
function interfaceOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const bare = address.replace(/^::ffff:/, '');
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if ((list ?? []).some((a) => a.address === bare)) return name;
  }
  return undefined;
}

export class ReceiveSide {
  /** Set by the session for the UPDATE being dispatched (RFC 7606 treat-as-withdraw). */
  treatAsWithdraw = false;
  /** Interface of the session's local address (IPv6 link-local next hops need it). */
  viaInterface: string | undefined;
  private rib: AdjRibIn | undefined;
  private limit: LimitNotification | undefined;
  private updatesIgnored = 0;

  constructor(
    readonly policy: BgpReceivePolicy | undefined,
    private readonly log: Logger,
    private readonly emit: (changes: RouteChange[]) => void,
  ) {}

  get received(): number {
    return this.rib?.received ?? 0;
  }
  get accepted(): number {
    return this.rib?.accepted ?? 0;
  }

  /** Session Established: a fresh Adj-RIB-In (when there is a policy). */
  up(ctx: RibInContext, localAddress: string | undefined): void {
    this.down();
    this.limit = undefined;
    if (!this.policy) return;
    this.rib = new AdjRibIn(this.policy, ctx);
    this.viaInterface = interfaceOf(localAddress);
  }

  /** Session left Established: every imported route is removed. */
  down(): void {
    const rib = this.rib;
    this.rib = undefined;
    if (!rib) return;
    const removed = rib.clear();
    if (removed.length > 0) this.emit(removed);
  }

  update(m: UpdateMessage): void {
    if (!this.rib) {
      if (!this.policy && this.updatesIgnored++ === 0) this.log.info('UPDATE received from a peer without receive policy: validated, nothing imported');
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

  /** The Cease 6/1 to send, once, after an UPDATE went over the limit. */
  takeLimitNotification(): LimitNotification | undefined {
    const l = this.limit;
    this.limit = undefined;
    return l;
  }
}

// Speaker liveness over UDP (the shell around gossip.ts): every probe interval each speaker
// sends an authenticated heartbeat to every other member, carrying the IPs it cannot announce;
// MemberTable turns received heartbeats into the alive set. A change (member up/down, a new
// ineligible list, a new announcing or handing-over list) emits 'change'. On stop a "leaving" heartbeat is sent
// so peers re-elect at once instead of waiting for the timeout; setLeaving(true) sends it on
// every heartbeat while the speaker keeps running (handover before a planned stop or drain).

import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { GossipError, MemberTable, decodeGossip, encodeGossip } from './gossip.ts';

/** MetalLB's memberlist Secret: name and key of the speakers' shared liveness secret. */
export const MEMBERLIST_SECRET_NAME = 'metallb-memberlist';
export const MEMBERLIST_SECRET_KEY = 'secretkey';
export const DEFAULT_GOSSIP_PORT = 7946;

export interface MemberAddress {
  name: string;
  address: string;
  port?: number;
}

export interface MembersOptions {
  logger: Logger;
  self: string;
  /** Shared secret (at least 16 bytes). */
  secret: string | Buffer;
  /** Local address/port to listen on (default :: / 0.0.0.0 and DEFAULT_GOSSIP_PORT). */
  bind?: { address?: string; port?: number };
  members: MemberAddress[];
  probeIntervalMs?: number;
  deadAfterMs?: number;
  maxSkewMs?: number;
  now?: () => number;
}

export class Members extends EventEmitter {
  readonly table: MemberTable;
  private readonly log: Logger;
  private readonly secret: Buffer;
  private readonly boot = randomBytes(8).toString('hex');
  private seq = 0;
  private readonly now: () => number;
  private readonly probeMs: number;
  private addrs = new Map<string, { address: string; port: number }>();
  private sock: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ineligible: string[] = [];
  private ready = false;
  private leaving = false;
  private announcing: string[] = [];
  private handingOver: string[] = [];
  private rejected = 0;
  private readonly bind: { address: string; port: number };

  constructor(opts: MembersOptions) {
    super();
    this.log = opts.logger.child({ component: 'layer2-members' });
    this.secret = Buffer.isBuffer(opts.secret) ? opts.secret : Buffer.from(opts.secret, 'utf8');
    if (this.secret.length < 16) throw new Error('layer2 member secret must be at least 16 bytes');
    this.now = opts.now ?? Date.now;
    this.probeMs = opts.probeIntervalMs ?? 200;
    this.table = new MemberTable(opts.self, { deadAfterMs: opts.deadAfterMs ?? 1000, maxSkewMs: opts.maxSkewMs ?? 10_000 });
    const bindAddr = opts.bind?.address ?? '0.0.0.0';
    if (!isIP(bindAddr)) throw new Error(`invalid layer2 member bind address ${JSON.stringify(bindAddr)}`);
    this.bind = { address: bindAddr, port: opts.bind?.port ?? DEFAULT_GOSSIP_PORT };
    this.setMembers(opts.members);
  }

  setMembers(list: MemberAddress[]): void {
    const next = new Map<string, { address: string; port: number }>();
    for (const m of list) {
      if (!isIP(m.address)) {
        this.log.warn({ member: m.name, address: m.address }, 'layer2: ignoring member with an invalid address');
        continue;
      }
      next.set(m.name, { address: m.address, port: m.port ?? DEFAULT_GOSSIP_PORT });
    }
    this.addrs = next;
    this.table.setMembers([...next.keys()]);
    this.table.tick(this.now());
    this.emit('change');
  }

  async start(): Promise<void> {
    const family = isIP(this.bind.address) === 6 ? 'udp6' : 'udp4';
    const sock = createSocket({ type: family, reuseAddr: false });
    sock.on('message', (data) => this.onMessage(data));
    sock.on('error', (e) => this.log.warn({ err: e.message }, 'layer2: gossip socket error'));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.bind.port, this.bind.address, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    this.sock = sock;
    this.timer = setInterval(() => this.onTick(), this.probeMs);
    this.broadcast(this.leaving);
  }

  /**
   * The IPs to advertise as not announceable by this node, and whether it is ready (services
   * loaded); sent at once when either changes.
   */
  setIneligible(ips: string[], ready = true): void {
    const sorted = [...new Set(ips)].sort();
    if (sorted.join(',') === this.ineligible.join(',') && ready === this.ready) return;
    this.ineligible = sorted;
    this.ready = ready;
    this.broadcast(this.leaving);
  }

  /** Heartbeats say "leaving" (peers elect other owners) while this is set; sent at once. */
  setLeaving(leaving: boolean): void {
    if (leaving === this.leaving) return;
    this.leaving = leaving;
    this.broadcast(leaving);
  }

  /**
   * The IPs this node answers for now as their owner, and those it still answers while handing
   * them over; carried by every heartbeat, sent at once when changed.
   */
  setAnnouncing(ips: string[], handingOver: string[] = []): void {
    const sorted = [...new Set(ips)].sort();
    const handing = [...new Set(handingOver)].sort();
    if (sorted.join(',') === this.announcing.join(',') && handing.join(',') === this.handingOver.join(',')) return;
    this.announcing = sorted;
    this.handingOver = handing;
    this.broadcast(this.leaving);
  }

  alive(): string[] {
    return this.table.alive();
  }

  rejectedCount(): number {
    return this.rejected;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const sock = this.sock;
    if (!sock) return;
    // Tell the peers we are leaving, and let the datagrams go out before closing (a close
    // cancels sends still queued in libuv); bounded so a stuck send cannot block shutdown.
    // The node answers for nothing any more: the new owners re-announce what they took over.
    this.announcing = [];
    this.handingOver = [];
    await Promise.race([Promise.all(this.broadcast(true)), new Promise((r) => setTimeout(r, 300))]);
    this.sock = undefined;
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }

  private onTick(): void {
    this.broadcast(this.leaving);
    if (this.table.tick(this.now())) {
      this.log.info({ alive: this.table.alive() }, 'layer2: member liveness changed');
      this.emit('change');
    }
  }

  private broadcast(leaving: boolean): Promise<void>[] {
    const sock = this.sock;
    if (!sock) return [];
    let data: Buffer;
    try {
      data = encodeGossip(
        { node: this.table.self, boot: this.boot, seq: ++this.seq, ts: this.now(), ineligible: this.ineligible, ready: this.ready, leaving, announcing: leaving ? [] : this.announcing, handingOver: this.handingOver },
        this.secret,
      );
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'layer2: cannot encode heartbeat');
      return [];
    }
    const fam = isIP(this.bind.address);
    const sent: Promise<void>[] = [];
    for (const [name, a] of this.addrs) {
      if (name === this.table.self || isIP(a.address) !== fam) continue;
      sent.push(
        new Promise<void>((resolve) => {
          sock.send(data, a.port, a.address, (err) => {
            if (err) this.log.debug({ member: name, err: err.message }, 'layer2: heartbeat send failed');
            resolve();
          });
        }),
      );
    }
    return sent;
  }

  private onMessage(data: Buffer): void {
    let msg;
    try {
      msg = decodeGossip(data, this.secret);
    } catch (e) {
      this.rejected++;
      if (e instanceof GossipError) this.log.debug({ reason: e.message }, 'layer2: rejected heartbeat');
      return;
    }
    const r = this.table.accept(msg, this.now());
    if (!r.ok) {
      this.rejected++;
      this.log.debug({ from: msg.node, reason: r.reason }, 'layer2: rejected heartbeat');
      return;
    }
    if (r.changed) {
      this.log.info({ member: msg.node, alive: this.table.alive(), leaving: msg.leaving }, 'layer2: member state changed');
      this.emit('change');
    }
  }
}

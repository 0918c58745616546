// The Layer 2 responder: answers ARP who-has (IPv4) and Neighbor Solicitations (IPv6) for the
// IPs this node owns, on the interfaces chosen by interfaces.ts, with the interface's MAC.
//
// - setOwned(entries) replaces the owned set. Lost IPs stop being answered at once (the entry
//   is gone before the next frame is looked at). Gained (IP, interface) pairs get gratuitous
//   ARPs / unsolicited NAs at GRATUITOUS_SCHEDULE_MS offsets (0 s, 0.5 s, 1 s, 2 s);
//   reannounce(ips) sends that schedule again (the previous owner stopped answering).
// - Interfaces are re-read every `refreshMs` (addresses, carrier), so an interface that comes
//   back (or an address added later) starts answering without a new setOwned.
// - One AF_PACKET socket per (interface, ethertype) in use; IPv6 sockets join the
//   solicited-node multicast MAC of each owned IPv6 address (reference-counted).
//
// Events: 'gained' (ip, iface), 'lost' (ip, iface), 'warning' (message).

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Counter, register as defaultRegistry, type Registry } from 'prom-client';
import { canonicalIP, formatIP, tryParseIP, type IP } from '../ip/index.ts';
import { ETH_P_ARP, ETH_P_IPV6, loadPacketAddon, type NativePacketSocket, type PacketAddon } from '../native/packet.ts';
import { ARP_REQUEST, buildARPReply, buildGratuitousARP, parseARPFrame } from './arp.ts';
import { formatMAC, parseEthernet, parseMAC } from './ethernet.ts';
import { selectInterfaces, type InterfaceSnapshot, type Selection } from './interfaces.ts';
import { buildNAReplyFrame, buildUnsolicitedNAFrame, multicastMAC, parseNeighborSolicitationFrame, solicitedNodeAddress } from './ndp.ts';
import { readInterfaceSnapshot } from './sysnet.ts';

/** Offsets (ms after gaining an IP) of the gratuitous ARPs / unsolicited NAs. */
export const GRATUITOUS_SCHEDULE_MS: readonly number[] = [0, 500, 1000, 2000];

export interface OwnedEntry {
  ip: string;
  /** Empty = automatic selection (see interfaces.ts). */
  interfaces: string[];
}

export interface IPStats {
  requestsReceived: number;
  responsesSent: number;
  gratuitousSent: number;
}

export interface Layer2AnnouncerOptions {
  logger: Logger;
  nodeName: string;
  /** prom-client registry for the metallb_layer2_* counters; default: prom-client's default registry. */
  registry?: Registry;
  /** Interface snapshot source (default: /sys/class/net + os.networkInterfaces()). */
  snapshot?: () => InterfaceSnapshot;
  /** How often interfaces are re-read, ms (default 1000). 0 disables the timer. */
  refreshMs?: number;
  gratuitousScheduleMs?: readonly number[];
  /** Native addon (tests may pass one); default: loadPacketAddon(). */
  addon?: PacketAddon;
}

interface Layer2Counters {
  requests: Counter<'ip'>;
  responses: Counter<'ip'>;
  gratuitous: Counter<'ip'>;
}

function counter(reg: Registry, name: string, help: string): Counter<'ip'> {
  const existing = reg.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<'ip'>;
  return new Counter({ name, help, labelNames: ['ip'], registers: [reg] });
}

export function layer2Counters(reg: Registry): Layer2Counters {
  return {
    requests: counter(reg, 'metallb_layer2_requests_received', 'Number of layer2 requests (ARP who-has / NDP NS) received for owned IPs'),
    responses: counter(reg, 'metallb_layer2_responses_sent', 'Number of layer2 responses (ARP reply / NDP NA) sent for owned IPs'),
    gratuitous: counter(reg, 'metallb_layer2_gratuitous_sent', 'Number of gratuitous ARPs / unsolicited NAs sent'),
  };
}

interface Owned {
  ip: IP;
  key: string;
  configured: string[];
  /** Interfaces it is answered on right now. */
  ifaces: Set<string>;
  selection: Selection;
}

interface IfaceState {
  name: string;
  mac: Buffer;
  arp?: NativePacketSocket;
  ndp?: NativePacketSocket;
  /** solicited-node MAC hex -> number of owned IPv6 addresses using it. */
  groups: Map<string, number>;
}

export class Layer2Announcer extends EventEmitter {
  private readonly log: Logger;
  private readonly nodeName: string;
  private readonly counters: Layer2Counters;
  private readonly snapshotFn: () => InterfaceSnapshot;
  private readonly schedule: readonly number[];
  private readonly addonOpt: PacketAddon | undefined;
  private addon: PacketAddon | undefined;
  private owned = new Map<string, Owned>();
  private ifaces = new Map<string, IfaceState>();
  private timers = new Set<NodeJS.Timeout>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly statsByIP = new Map<string, IPStats>();
  private desired: OwnedEntry[] = [];
  private stopped = false;
  private readonly warned = new Set<string>();

  constructor(opts: Layer2AnnouncerOptions) {
    super();
    this.log = opts.logger.child({ component: 'layer2' });
    this.nodeName = opts.nodeName;
    this.counters = layer2Counters(opts.registry ?? defaultRegistry);
    this.snapshotFn = opts.snapshot ?? (() => readInterfaceSnapshot());
    this.schedule = opts.gratuitousScheduleMs ?? GRATUITOUS_SCHEDULE_MS;
    this.addonOpt = opts.addon;
    const refreshMs = opts.refreshMs ?? 1000;
    if (refreshMs > 0) {
      this.refreshTimer = setInterval(() => this.apply(), refreshMs);
      this.refreshTimer.unref();
    }
  }

  /** Replaces the set of owned IPs. Invalid IP strings are reported (warning) and skipped. */
  setOwned(entries: OwnedEntry[]): void {
    if (this.stopped) return;
    this.desired = entries.map((e) => ({ ip: e.ip, interfaces: [...e.interfaces] }));
    this.warned.clear();
    this.apply();
  }

  /**
   * Sends the gratuitous ARPs / unsolicited NAs of these owned IPs again (same schedule as on a
   * gain), on every interface they are answered on: another node that answered too went quiet.
   */
  reannounce(ips: readonly string[]): void {
    if (this.stopped) return;
    for (const text of ips) {
      const key = canonicalIP(text);
      const o = key === undefined ? undefined : this.owned.get(key);
      if (!o) continue;
      for (const ifn of o.ifaces) this.scheduleGratuitous(o, ifn);
    }
  }

  /** Owned IPs and the interfaces each is answered on now. */
  status(): { ip: string; interfaces: string[]; rule: string; rejected: { name: string; reason: string }[] }[] {
    return [...this.owned.values()]
      .map((o) => ({ ip: o.key, interfaces: [...o.ifaces].sort(), rule: o.selection.rule, rejected: o.selection.rejected }))
      .sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  }

  stats(): Record<string, IPStats> {
    const out: Record<string, IPStats> = {};
    for (const [ip, s] of [...this.statsByIP.entries()].sort()) out[ip] = { ...s };
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.desired = [];
    this.apply(true);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const st of this.ifaces.values()) this.closeIface(st);
    this.ifaces.clear();
  }

  // -------------------------------------------------------------------------------------------

  private getAddon(): PacketAddon {
    if (!this.addon) this.addon = this.addonOpt ?? loadPacketAddon();
    return this.addon;
  }

  private stat(ip: string): IPStats {
    let s = this.statsByIP.get(ip);
    if (!s) {
      s = { requestsReceived: 0, responsesSent: 0, gratuitousSent: 0 };
      this.statsByIP.set(ip, s);
    }
    return s;
  }

  /** Logs a warning once (the refresh would otherwise repeat it every second). */
  private warn(msg: string, extra: Record<string, unknown> = {}): void {
    if (this.warned.has(msg)) return;
    if (this.warned.size > 1000) this.warned.clear();
    this.warned.add(msg);
    this.log.warn(extra, msg);
    this.emit('warning', msg);
  }

  /** Recomputes interfaces for every desired entry and reconciles sockets/owned state. */
  private apply(stopping = false): void {
    if (this.stopped && !stopping) return;
    let snap: InterfaceSnapshot = { interfaces: [] };
    if (this.desired.length > 0) {
      try {
        snap = this.snapshotFn();
      } catch (e) {
        this.warn(`cannot read interfaces: ${(e as Error).message}`);
      }
    }
    const next = new Map<string, { ip: IP; configured: string[]; selection: Selection }>();
    for (const e of this.desired) {
      const ip = tryParseIP(e.ip);
      if (!ip) {
        this.warn(`ignoring invalid IP ${JSON.stringify(e.ip)}`);
        continue;
      }
      const key = formatIP(ip);
      const prev = next.get(key);
      const configured = [...new Set([...(prev?.configured ?? []), ...e.interfaces])].sort();
      next.set(key, { ip, configured, selection: selectInterfaces(key, configured, snap) });
    }
    // Losses first: stop answering immediately.
    for (const [key, o] of this.owned) {
      const n = next.get(key);
      const keep = new Set(n ? n.selection.usable : []);
      for (const ifn of [...o.ifaces]) {
        if (!keep.has(ifn)) {
          o.ifaces.delete(ifn);
          this.detach(o, ifn);
          this.log.info({ ip: key, interface: ifn, node: this.nodeName }, 'layer2: stopped announcing');
          this.emit('lost', key, ifn);
        }
      }
      if (!n) this.owned.delete(key);
    }
    // A device recreated under the same name (new ifindex) or with a new MAC: reopen its
    // sockets and announce again from scratch (gratuitous ARPs carry the new MAC).
    for (const [name, st] of [...this.ifaces]) {
      const facts = snap.interfaces.find((f) => f.name === name);
      if (!facts) continue;
      const sockIndex = st.arp?.ifindex ?? st.ndp?.ifindex;
      const macChanged = facts.mac !== '' && facts.mac !== formatMAC(st.mac);
      const indexChanged = facts.index !== undefined && sockIndex !== undefined && facts.index !== sockIndex;
      if (!macChanged && !indexChanged) continue;
      this.log.info({ interface: name, macChanged, indexChanged }, 'layer2: interface changed, reopening');
      this.closeIface(st);
      this.ifaces.delete(name);
      for (const o of this.owned.values()) o.ifaces.delete(name);
    }
    // Gains.
    for (const [key, n] of next) {
      let o = this.owned.get(key);
      if (!o) {
        o = { ip: n.ip, key, configured: n.configured, ifaces: new Set(), selection: n.selection };
        this.owned.set(key, o);
        if (n.selection.candidates.length === 0) {
          this.log.warn({ ip: key, rejected: n.selection.rejected }, 'layer2: no interface to announce on');
        }
      }
      o.configured = n.configured;
      o.selection = n.selection;
      for (const ifn of n.selection.usable) {
        if (o.ifaces.has(ifn)) continue;
        if (this.attach(o, ifn, snap)) {
          o.ifaces.add(ifn);
          this.log.info({ ip: key, interface: ifn, node: this.nodeName, rule: n.selection.rule }, 'layer2: announcing');
          this.emit('gained', key, ifn);
          this.scheduleGratuitous(o, ifn);
        }
      }
    }
    // Close sockets nobody uses.
    for (const [name, st] of this.ifaces) {
      const users = [...this.owned.values()].filter((o) => o.ifaces.has(name));
      const v4 = users.some((o) => o.ip.family === 4);
      const v6 = users.some((o) => o.ip.family === 6);
      if (!v4 && st.arp) {
        st.arp.close();
        delete st.arp;
      }
      if (!v6 && st.ndp) {
        st.ndp.close();
        delete st.ndp;
        st.groups.clear();
      }
      if (!st.arp && !st.ndp) this.ifaces.delete(name);
    }
  }

  private ifaceState(name: string, snap: InterfaceSnapshot): IfaceState | undefined {
    let st = this.ifaces.get(name);
    if (st) return st;
    const facts = snap.interfaces.find((f) => f.name === name);
    let mac: Buffer;
    try {
      mac = facts && facts.mac ? parseMAC(facts.mac) : this.getAddon().interfaceInfo(name).mac;
    } catch (e) {
      this.warn(`interface ${name}: ${(e as Error).message}`);
      return undefined;
    }
    st = { name, mac, groups: new Map() };
    this.ifaces.set(name, st);
    return st;
  }

  private attach(o: Owned, ifn: string, snap: InterfaceSnapshot): boolean {
    const st = this.ifaceState(ifn, snap);
    if (!st) return false;
    try {
      if (o.ip.family === 4) {
        if (!st.arp) st.arp = new (this.getAddon().PacketSocket)(ifn, ETH_P_ARP, (f) => this.onARP(st, f));
      } else {
        if (!st.ndp) st.ndp = new (this.getAddon().PacketSocket)(ifn, ETH_P_IPV6, (f) => this.onNDP(st, f));
        const group = multicastMAC(solicitedNodeAddress(o.ip));
        const k = group.toString('hex');
        const c = st.groups.get(k) ?? 0;
        if (c === 0) st.ndp.addMembership(group);
        st.groups.set(k, c + 1);
      }
      return true;
    } catch (e) {
      this.warn(`cannot announce ${o.key} on ${ifn}: ${(e as Error).message}`, { ip: o.key, interface: ifn });
      return false;
    }
  }

  private detach(o: Owned, ifn: string): void {
    const st = this.ifaces.get(ifn);
    if (!st || o.ip.family !== 6 || !st.ndp) return;
    const group = multicastMAC(solicitedNodeAddress(o.ip));
    const k = group.toString('hex');
    const c = st.groups.get(k) ?? 0;
    if (c <= 1) {
      st.groups.delete(k);
      try {
        st.ndp.dropMembership(group);
      } catch {
        // the interface may be gone; nothing to undo then
      }
    } else st.groups.set(k, c - 1);
  }

  private closeIface(st: IfaceState): void {
    st.arp?.close();
    st.ndp?.close();
    delete st.arp;
    delete st.ndp;
  }

  private scheduleGratuitous(o: Owned, ifn: string): void {
    for (const at of this.schedule) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.sendGratuitous(o.key, ifn);
      }, at);
      this.timers.add(t);
    }
  }

  private sendGratuitous(key: string, ifn: string): void {
    const o = this.owned.get(key);
    const st = this.ifaces.get(ifn);
    if (!o || !st || !o.ifaces.has(ifn)) return; // lost meanwhile: stay silent
    try {
      if (o.ip.family === 4) st.arp?.send(buildGratuitousARP(o.ip, st.mac));
      else st.ndp?.send(buildUnsolicitedNAFrame(o.ip, st.mac, o.ip));
      this.stat(key).gratuitousSent++;
      this.counters.gratuitous.inc({ ip: key });
    } catch (e) {
      this.warn(`gratuitous announcement of ${key} on ${ifn} failed: ${(e as Error).message}`);
    }
  }

  private ownedOn(ip: IP, ifn: string): Owned | undefined {
    const o = this.owned.get(formatIP(ip));
    return o && o.ifaces.has(ifn) ? o : undefined;
  }

  private onARP(st: IfaceState, frame: Buffer): void {
    let req;
    try {
      req = parseARPFrame(frame);
    } catch {
      return; // not for us / malformed: ignore
    }
    if (req.op !== ARP_REQUEST) return;
    if (req.senderIP.value === req.targetIP.value) return; // someone else's announcement
    const o = this.ownedOn(req.targetIP, st.name);
    if (!o) return;
    this.stat(o.key).requestsReceived++;
    this.counters.requests.inc({ ip: o.key });
    try {
      st.arp?.send(buildARPReply(req, st.mac));
      this.stat(o.key).responsesSent++;
      this.counters.responses.inc({ ip: o.key });
    } catch (e) {
      this.warn(`ARP reply for ${o.key} on ${st.name} failed: ${(e as Error).message}`);
    }
  }

  private onNDP(st: IfaceState, frame: Buffer): void {
    let ns;
    try {
      ns = parseNeighborSolicitationFrame(frame);
    } catch {
      return;
    }
    if (!ns) return;
    const o = this.ownedOn(ns.target, st.name);
    if (!o) return;
    this.stat(o.key).requestsReceived++;
    this.counters.requests.inc({ ip: o.key });
    try {
      st.ndp?.send(buildNAReplyFrame(ns, st.mac, o.ip, parseEthernet(frame).src));
      this.stat(o.key).responsesSent++;
      this.counters.responses.inc({ ip: o.key });
    } catch (e) {
      this.warn(`NA for ${o.key} on ${st.name} failed: ${(e as Error).message}`);
    }
  }
}

// Link discovery for unnumbered BGP peers: one raw AF_PACKET socket per interface (the
// metallb_packet addon) that hears the routers' Router Advertisements (their link-local address
// is the BGP peer address, as FRR's zebra learns it) and sends our own, so that a router
// configured with `neighbor eth0 interface` learns ours: a Router Solicitation and three
// advertisements one second apart at start, then one every `raIntervalMs`, and one in answer to
// a solicitation. The decisions (parsing, which router is the peer) are pure: ndisc.ts, peers.ts.

import type { Logger } from 'pino';
import { formatIP, isLinkLocal, tryParseIP, type IP } from '../../ip/index.ts';
import { loadPacketAddon, ETH_P_IPV6 } from '../../native/packet.ts';
import type { NativePacketSocket, PacketAddon } from '../../native/packet.ts';
import { multicastMAC } from '../../layer2/ndp.ts';
import type { Clock } from '../session/types.ts';
import { ALL_ROUTERS, ND_ROUTER_ADVERT, ND_ROUTER_SOLICIT, buildRouterAdvertisementFrame, buildRouterSolicitationFrame, parseRouterDiscoveryFrame } from './ndisc.ts';
import { LinkPeerTable } from './peers.ts';

/** What is known about one interface of an unnumbered peer. */
export interface LinkInfo {
  interface: string;
  /** The router's link-local address (source of its Router Advertisements). */
  peer?: IP;
  /** Our link-local address on the interface. */
  local?: IP;
  /** Our global IPv6 addresses on the interface (the first is announced with the link-local next hop). */
  globals: IP[];
  /** Why the interface cannot be used (missing, no link-local address, no raw socket). */
  error?: string;
  advertisementsSent: number;
  advertisementsReceived: number;
  /** Router discovery frames dropped as invalid (hop limit, checksum, ...). */
  invalidReceived: number;
}

export interface LinkDiscoveryOptions {
  logger: Logger;
  clock: Clock;
  /** Interval of our periodic Router Advertisements (default 10 s, as FRR's zebra for BGP). */
  raIntervalMs?: number;
  /** A silent peer is replaced by another router after this long (default 60 s). */
  holdMs?: number;
  /** The packet addon (default: loaded from build/Release). */
  addon?: () => PacketAddon;
}

type Listener = (info: LinkInfo) => void;

const RETRY_MS = 1_000;
const FAST_ADVERTISEMENTS = 3;

class Link {
  readonly info: LinkInfo;
  readonly listeners = new Set<Listener>();
  private sock: NativePacketSocket | undefined;
  private mac: Buffer | undefined;
  private timer: unknown;
  private fast = 0;
  private lastAnswer = -Infinity;
  private readonly table: LinkPeerTable;

  constructor(
    name: string,
    private readonly o: Required<Omit<LinkDiscoveryOptions, 'addon'>> & { addon: () => PacketAddon },
    private readonly log: Logger,
  ) {
    this.info = { interface: name, globals: [], advertisementsSent: 0, advertisementsReceived: 0, invalidReceived: 0 };
    this.table = new LinkPeerTable(o.holdMs);
  }

  start(): void {
    this.tick();
  }

  stop(): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.sock?.close();
    this.sock = undefined;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l(this.info);
  }

  private schedule(ms: number): void {
    this.timer = this.o.clock.setTimeout(() => this.tick(), ms);
  }

  /** Open (or re-open) the interface, refresh our addresses, advertise. */
  private tick(): void {
    this.timer = undefined;
    const err = this.refresh();
    if (err !== this.info.error) {
      if (err === undefined) delete this.info.error;
      else {
        this.info.error = err;
        this.log.warn({ interface: this.info.interface }, `unnumbered peer: ${err}`);
      }
      this.notify();
    }
    if (err !== undefined || !this.sock) {
      this.schedule(RETRY_MS);
      return;
    }
    if (this.fast === 0) this.send(buildRouterSolicitationFrame(this.info.local as IP, this.mac as Buffer));
    this.advertise();
    this.fast++;
    this.schedule(this.fast < FAST_ADVERTISEMENTS ? RETRY_MS : this.o.raIntervalMs);
  }

  private refresh(): string | undefined {
    const name = this.info.interface;
    let addon: PacketAddon;
    try {
      addon = this.o.addon();
    } catch (e) {
      return (e as Error).message;
    }
    let mac: Buffer;
    try {
      mac = addon.interfaceInfo(name).mac;
    } catch (e) {
      this.closeSocket();
      return `interface ${name}: ${(e as Error).message}`;
    }
    const mine = addon.addresses().filter((a) => a.name === name && a.family === 6);
    const ips = mine.map((a) => tryParseIP(a.address.split('%')[0] ?? '')).filter((a): a is IP => a !== undefined);
    const local = ips.find(isLinkLocal);
    const globals = ips.filter((a) => !isLinkLocal(a));
    const changed = formatIP(local ?? { family: 6, value: 0n }) !== formatIP(this.info.local ?? { family: 6, value: 0n }) || globals.map(formatIP).join() !== this.info.globals.map(formatIP).join();
    if (local) this.info.local = local;
    else delete this.info.local;
    this.info.globals = globals;
    if (changed && local) this.notify();
    if (!local) return `interface ${name} has no IPv6 link-local address (is it up, with IPv6 enabled?)`;
    if (!this.sock || (this.mac && !this.mac.equals(mac))) {
      this.closeSocket();
      try {
        this.sock = new addon.PacketSocket(name, ETH_P_IPV6, (f) => this.onFrame(f), [ND_ROUTER_SOLICIT, ND_ROUTER_ADVERT]);
        this.sock.addMembership(multicastMAC(ALL_ROUTERS));
      } catch (e) {
        this.closeSocket();
        return `cannot open a raw socket on ${name} for router discovery: ${(e as Error).message}`;
      }
    }
    this.mac = mac;
    return undefined;
  }

  private closeSocket(): void {
    this.sock?.close();
    this.sock = undefined;
  }

  private send(frame: Buffer): void {
    try {
      this.sock?.send(frame);
    } catch (e) {
      this.log.debug({ interface: this.info.interface, err: (e as Error).message }, 'cannot send a router discovery frame');
    }
  }

  private advertise(): void {
    if (!this.info.local || !this.mac) return;
    this.send(buildRouterAdvertisementFrame(this.info.local, this.mac));
    this.info.advertisementsSent++;
  }

  private onFrame(frame: Buffer): void {
    let m;
    try {
      m = parseRouterDiscoveryFrame(frame);
    } catch {
      this.info.invalidReceived++;
      return;
    }
    if (!m) return;
    if (this.info.local && m.src.value === this.info.local.value) return;
    const now = this.o.clock.now();
    if (m.type === 'solicitation') {
      // answer at most once a second
      if (now - this.lastAnswer >= RETRY_MS) {
        this.lastAnswer = now;
        this.advertise();
      }
      return;
    }
    this.info.advertisementsReceived++;
    if (this.table.heard(m.src, now)) {
      this.info.peer = m.src;
      this.log.info({ interface: this.info.interface, peer: formatIP(m.src) }, 'unnumbered peer: router link-local address learned from its Router Advertisement');
      this.notify();
    }
  }
}

/** Router discovery on the interfaces of unnumbered peers (one Link per interface, shared). */
export class LinkDiscovery {
  private readonly links = new Map<string, Link>();
  private readonly o: Required<Omit<LinkDiscoveryOptions, 'addon'>> & { addon: () => PacketAddon };

  constructor(opts: LinkDiscoveryOptions) {
    this.o = { raIntervalMs: 10_000, holdMs: 60_000, addon: loadPacketAddon, ...opts };
  }

  /** Follow `ifname`: `fn` is called now and on every change. Returns the unsubscribe function. */
  watch(ifname: string, fn: Listener): () => void {
    let link = this.links.get(ifname);
    if (!link) {
      link = new Link(ifname, this.o, this.o.logger);
      this.links.set(ifname, link);
      link.start();
    }
    const l = link;
    l.listeners.add(fn);
    fn(l.info);
    return () => {
      l.listeners.delete(fn);
      if (l.listeners.size === 0 && this.links.get(ifname) === l) {
        l.stop();
        this.links.delete(ifname);
      }
    };
  }

  info(ifname: string): LinkInfo | undefined {
    return this.links.get(ifname)?.info;
  }

  stop(): void {
    for (const l of this.links.values()) l.stop();
    this.links.clear();
  }
}

// One unnumbered session's view of its interface (BGPPeer `interface`): the peer address to
// connect to (the router's IPv6 link-local address learned from its Router Advertisements, with
// the interface as scope: fe80::1%eth0) and the next hops the router receives: our link-local
// address, after a global IPv6 address of that interface when it has one (RFC 2545 §3); IPv4
// routes carry the same IPv6 next hops once the extended next hop capability (RFC 8950) was
// negotiated.

import { formatIP, isLinkLocal, tryParseIP, type IP } from '../../ip/index.ts';
import type { LinkInfo } from '../unnumbered/discovery.ts';

/** Follows an interface (LinkDiscovery.watch): `fn` now and on every change; returns unsubscribe. */
export type LinkWatcher = (ifname: string, fn: (info: LinkInfo) => void) => () => void;

/** Status of an unnumbered session (`/status` sessions[].unnumbered). */
export interface UnnumberedStatus {
  interface: string;
  /** The router's link-local address, once learned. */
  peerLinkLocal?: string;
  /** Our link-local address on the interface. */
  localLinkLocal?: string;
  /** What the router receives as next hop, per family (absent: not announced / not yet known). */
  nextHops: { ipv4?: string[]; ipv6?: string[] };
  /** RFC 8950 negotiated: IPv4 routes carry the IPv6 next hops. */
  extendedNextHop: boolean;
  routerAdvertisementsSent: number;
  routerAdvertisementsReceived: number;
  /** Why the interface cannot be used. */
  error?: string;
}

/** Our link-local address from a socket's local address ("fe80::1%eth0" → fe80::1); undefined for any other. */
export function unscoped(addr: string | undefined): IP | undefined {
  const ip = addr === undefined ? undefined : tryParseIP(addr.split('%')[0] ?? '');
  return ip && isLinkLocal(ip) ? ip : undefined;
}

export class UnnumberedLink {
  info: LinkInfo | undefined;
  private knownPeer: IP | undefined;
  private unwatch: (() => void) | undefined;

  constructor(readonly ifname: string) {}

  /** Start following the interface; `onChange(peerChanged)` runs whenever the info changes. */
  start(watch: LinkWatcher, onChange: (peerChanged: boolean) => void): void {
    this.unwatch = watch(this.ifname, (info) => {
      const before = this.knownPeer;
      this.info = info; // the discovery's live object (counters keep counting)
      this.knownPeer = info.peer;
      const changed = (before === undefined) !== (info.peer === undefined) || (before !== undefined && info.peer !== undefined && before.value !== info.peer.value);
      onChange(changed);
    });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  get peer(): IP | undefined {
    return this.info?.peer;
  }

  /** Where to connect: the peer's link-local address scoped to the interface. */
  connectHost(): string | undefined {
    const p = this.peer;
    return p ? `${formatIP(p)}%${this.ifname}` : undefined;
  }

  /** Why the session cannot connect yet. */
  waitingReason(): string {
    if (this.info?.error) return `unnumbered peer on ${this.ifname}: ${this.info.error}`;
    return `unnumbered peer on ${this.ifname}: waiting for a Router Advertisement from the router (its IPv6 link-local address is not known yet; the router must send RAs on ${this.ifname}, as FRR does for \`neighbor ${this.ifname} interface\`)`;
  }

  /** IPv6 next hops: a global address of the interface (if any), then our link-local address. */
  nextHops(socketLocal: string | undefined): IP[] {
    const ll = unscoped(socketLocal) ?? this.info?.local;
    if (!ll) return [];
    const global = this.info?.globals[0];
    return global ? [global, ll] : [ll];
  }

  status(socketLocal: string | undefined, families: { afi: number }[], extendedNextHop: boolean): UnnumberedStatus {
    const nh = this.nextHops(socketLocal).map(formatIP);
    const st: UnnumberedStatus = {
      interface: this.ifname,
      nextHops: {},
      extendedNextHop,
      routerAdvertisementsSent: this.info?.advertisementsSent ?? 0,
      routerAdvertisementsReceived: this.info?.advertisementsReceived ?? 0,
    };
    if (this.info?.peer) st.peerLinkLocal = formatIP(this.info.peer);
    const local = unscoped(socketLocal) ?? this.info?.local;
    if (local) st.localLinkLocal = formatIP(local);
    if (nh.length > 0 && families.some((f) => f.afi === 2)) st.nextHops.ipv6 = nh;
    if (nh.length > 0 && extendedNextHop && families.some((f) => f.afi === 1)) st.nextHops.ipv4 = nh;
    if (this.info?.error) st.error = this.info.error;
    return st;
  }
}

// Loader for the metallb_packet native addon (native/packet.cc): raw AF_PACKET sockets bound to
// one interface and one ethertype, plus interface facts (index, MAC, flags, driver). Linux only.
// Loaded lazily through createRequire; when the addon is missing, `loadPacketAddon` throws a
// PacketAddonError that says how to build it.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

export interface NativeInterfaceInfo {
  index: number;
  /** ARPHRD_* type (1 = Ethernet, 772 = loopback). */
  hwType: number;
  mac: Buffer;
  flags: number;
  mtu?: number;
  /** ethtool driver name ("veth", "bridge", "bonding", "openvswitch", ...); "" when unknown. */
  driver: string;
}

export interface NativeAddress {
  name: string;
  family: 4 | 6;
  address: string;
  /** -1 when the kernel gave no netmask. */
  prefixLength: number;
}

export interface NativePacketSocket {
  readonly ifindex: number;
  /** Sends one whole Ethernet frame (destination MAC first). Returns bytes sent. */
  send(frame: Buffer): number;
  /** Accept frames to this multicast MAC on the bound interface. */
  addMembership(mac: Buffer): void;
  dropMembership(mac: Buffer): void;
  /** Idempotent. */
  close(): void;
}

export interface PacketAddon {
  /** IPv6 sockets see only ICMPv6 messages of `icmpv6Types` (default [135], Neighbor Solicitations). */
  PacketSocket: new (ifname: string, ethertype: number, onFrame: (frame: Buffer) => void, icmpv6Types?: number[]) => NativePacketSocket;
  interfaceInfo(ifname: string): NativeInterfaceInfo;
  /** All interface addresses (getifaddrs), including those of interfaces that are down. */
  addresses(): NativeAddress[];
  IFF_UP: number;
  IFF_RUNNING: number;
  IFF_LOOPBACK: number;
}

export class PacketAddonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PacketAddonError';
  }
}

let cached: PacketAddon | undefined;

function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  // src/native -> repo root is ../..; dist/src/native -> ../../..
  for (const up of ['../..', '../../..']) {
    out.push(join(here, up, 'build', 'Release', 'metallb_packet.node'));
    out.push(join(here, up, 'build', 'Debug', 'metallb_packet.node'));
  }
  return out;
}

/** Loads the addon once. Throws PacketAddonError (never a raw dlopen stack) when unavailable. */
export function loadPacketAddon(): PacketAddon {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    throw new PacketAddonError(`Layer 2 mode needs Linux raw sockets (platform is ${process.platform})`);
  }
  const path = candidates().find((p) => existsSync(p));
  if (!path) {
    throw new PacketAddonError(
      'native addon metallb_packet.node not found (looked in build/Release and build/Debug); build it with `npm run build:native`',
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(path) as PacketAddon;
  } catch (e) {
    throw new PacketAddonError(`cannot load ${path}: ${(e as Error).message}`);
  }
  return cached;
}

/** True when the addon can be loaded (for tests deciding whether to skip). */
export function packetAddonAvailable(): boolean {
  try {
    loadPacketAddon();
    return true;
  } catch {
    return false;
  }
}

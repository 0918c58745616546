// Reads the interface snapshot used by interfaces.ts from /sys/class/net, the native addon
// (ethtool driver name) when available, and os.networkInterfaces() for addresses.

import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { basename, join } from 'node:path';
import type { InterfaceFacts, InterfaceKind, InterfaceSnapshot, MasterKind } from './interfaces.ts';
import { loadPacketAddon } from '../native/packet.ts';

const IFF_UP = 0x1;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function driverOf(name: string): string {
  try {
    return loadPacketAddon().interfaceInfo(name).driver;
  } catch {
    try {
      return basename(readlinkSync(`/sys/class/net/${name}/device/driver`));
    } catch {
      return '';
    }
  }
}

/** Carrier of one interface: false when admin down, missing, or unreadable. */
export function readCarrier(name: string, root = '/sys/class/net'): boolean {
  const flags = parseInt(readText(join(root, name, 'flags')) ?? '0', 16);
  if (!(flags & IFF_UP)) return false;
  return readText(join(root, name, 'carrier')) === '1';
}

function kindOf(name: string, dir: string, uevent: string): InterfaceKind {
  const type = readText(join(dir, 'type'));
  if (type === '772') return 'loopback';
  const devtype = /^DEVTYPE=(.*)$/m.exec(uevent)?.[1] ?? '';
  if (existsSync(join(dir, 'bonding')) || devtype === 'bond') return 'bond';
  if (existsSync(join(dir, 'bridge')) || devtype === 'bridge') return 'bridge';
  if (devtype === 'vlan') return 'vlan';
  if (devtype === 'openvswitch' || name === 'ovs-system') return 'ovs';
  const driver = driverOf(name);
  if (driver === 'openvswitch') return 'ovs';
  if (driver === 'veth') return 'veth';
  if (driver === '802.1Q VLAN Support') return 'vlan';
  if (existsSync(join(dir, 'device'))) return 'physical';
  return 'other';
}

function masterOf(dir: string): { name: string; kind: MasterKind } | undefined {
  let target: string;
  try {
    target = readlinkSync(join(dir, 'master'));
  } catch {
    return undefined;
  }
  const name = basename(target);
  let kind: MasterKind = 'other';
  if (existsSync(join(dir, 'brport'))) kind = 'bridge';
  else if (existsSync(join(dir, 'bonding_slave'))) kind = 'bond';
  else if (name === 'ovs-system' || existsSync(join(dir, 'upper_ovs-system'))) kind = 'ovs';
  return { name, kind };
}

/**
 * Interface addresses as CIDRs. getifaddrs through the addon (it includes interfaces that are
 * down, so a NIC losing carrier keeps its subnet and stays the candidate instead of the rule
 * falling back to another NIC); os.networkInterfaces() when the addon is missing.
 */
function addressesByInterface(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, cidr: string): void => {
    const l = out.get(name) ?? [];
    if (!l.includes(cidr)) l.push(cidr);
    out.set(name, l);
  };
  try {
    for (const a of loadPacketAddon().addresses()) {
      if (a.prefixLength >= 0) add(a.name, `${a.address.split('%')[0] ?? a.address}/${a.prefixLength}`);
    }
    return out;
  } catch {
    for (const [name, list] of Object.entries(networkInterfaces())) {
      for (const a of list ?? []) if (a.cidr) add(name, a.cidr);
    }
    return out;
  }
}

// Addresses last seen on each interface while it had carrier. The kernel removes IPv6 addresses
// when an interface is set down (unless keep_addr_on_down); remembering them keeps that
// interface the candidate for its subnet, so the IP is dropped instead of moving to a fallback NIC.
const lastSeen = new Map<string, string[]>();

/** Reads the current interfaces of this network namespace. Never throws. */
export function readInterfaceSnapshot(root = '/sys/class/net'): InterfaceSnapshot {
  let names: string[] = [];
  try {
    names = readdirSync(root).sort();
  } catch {
    names = [];
  }
  const addrs = addressesByInterface();
  const interfaces: InterfaceFacts[] = [];
  for (const name of names) {
    const dir = join(root, name);
    const uevent = readText(join(dir, 'uevent')) ?? '';
    const flags = parseInt(readText(join(dir, 'flags')) ?? '0', 16);
    const adminUp = (flags & IFF_UP) !== 0;
    const f: InterfaceFacts = {
      name,
      kind: kindOf(name, dir, uevent),
      adminUp,
      carrier: adminUp && readText(join(dir, 'carrier')) === '1',
      addresses: [],
      mac: readText(join(dir, 'address')) ?? '',
    };
    const index = parseInt(readText(join(dir, 'ifindex')) ?? '', 10);
    if (Number.isSafeInteger(index) && index > 0) f.index = index;
    const current = addrs.get(name) ?? [];
    if (f.carrier) {
      lastSeen.set(name, current);
      f.addresses = current;
    } else {
      f.addresses = [...new Set([...current, ...(lastSeen.get(name) ?? [])])];
    }
    const master = masterOf(dir);
    if (master) f.master = master;
    interfaces.push(f);
  }
  for (const name of [...lastSeen.keys()]) if (!names.includes(name)) lastSeen.delete(name);
  return { interfaces };
}

// Interface selection for Layer 2 announcements: a pure rule over a snapshot of the node's
// interfaces (read by sysnet.ts from /sys/class/net and os.networkInterfaces()).
//
// The rule, for one service IP on one node:
//   0. Never: loopback; bond slaves; bridge ports; OVS ports and OVS internal devices; any
//      interface enslaved to another device (its frames belong to the master).
//   1. L2Advertisement.interfaces given: exactly those names that exist here and are not
//      excluded by rule 0 (a node without any of them is not a candidate for the IP).
//   2. Otherwise: the interfaces that carry an address whose subnet contains the service IP
//      (same family). This is the usual case and keeps replies on the segment the IP lives on.
//   3. Failing that: administratively up physical NICs, bonds and VLAN devices. Never veth
//      (container peers), bridges, tunnels, dummies or other virtual devices here.
// The result is the *candidate* set; the *usable* set is the candidates with carrier. A node
// whose usable set is empty is not eligible for the IP (link-aware eligibility).

import { parseCIDR, prefixContains, tryParseIP } from '../ip/index.ts';

export type InterfaceKind = 'loopback' | 'physical' | 'bond' | 'vlan' | 'bridge' | 'veth' | 'ovs' | 'other';
export type MasterKind = 'bond' | 'bridge' | 'ovs' | 'other';

export interface InterfaceFacts {
  name: string;
  kind: InterfaceKind;
  /** Administratively up (IFF_UP). */
  adminUp: boolean;
  /** Has carrier (lower layer up); false when admin down. */
  carrier: boolean;
  /** Set when the interface is enslaved (bond slave, bridge port, OVS port, VRF member...). */
  master?: { name: string; kind: MasterKind };
  /** Addresses in CIDR form ("10.0.0.1/24", "2001:db8::1/64"). */
  addresses: string[];
  /** "aa:bb:cc:dd:ee:ff"; "" when the device has none. */
  mac: string;
  /** Kernel ifindex, when known (a changed index means the device was recreated). */
  index?: number;
}

export interface InterfaceSnapshot {
  interfaces: InterfaceFacts[];
}

export type SelectionRule = 'configured' | 'subnet' | 'fallback' | 'none';

export interface Selection {
  rule: SelectionRule;
  /** Candidate interfaces, sorted by name. */
  candidates: string[];
  /** Candidates that have carrier: the ones to answer on. */
  usable: string[];
  /** Interfaces considered and refused, with the reason (for logs and /status). */
  rejected: { name: string; reason: string }[];
}

/** Why an interface can never carry announcements, or null when it may. */
export function exclusionReason(f: InterfaceFacts): string | null {
  if (f.kind === 'loopback') return 'loopback';
  if (f.kind === 'ovs') return 'Open vSwitch device';
  if (f.master) {
    switch (f.master.kind) {
      case 'bond':
        return `bond slave of ${f.master.name}`;
      case 'bridge':
        return `bridge port of ${f.master.name}`;
      case 'ovs':
        return `Open vSwitch port (${f.master.name})`;
      default:
        return `enslaved to ${f.master.name}`;
    }
  }
  if (f.mac === '' || f.mac === '00:00:00:00:00:00') return 'no hardware address';
  return null;
}

function inSubnet(ip: string, cidr: string): boolean {
  const addr = tryParseIP(ip);
  if (!addr) return false;
  try {
    const c = parseCIDR(cidr);
    return c.prefix.family === addr.family && prefixContains(c.prefix, addr);
  } catch {
    return false;
  }
}

const FALLBACK_KINDS: ReadonlySet<InterfaceKind> = new Set(['physical', 'bond', 'vlan']);

/** Applies the selection rule above for `ip` (a canonical address string). */
export function selectInterfaces(ip: string, configured: readonly string[], snap: InterfaceSnapshot): Selection {
  const byName = new Map(snap.interfaces.map((f) => [f.name, f]));
  const rejected: { name: string; reason: string }[] = [];
  const finish = (rule: SelectionRule, list: InterfaceFacts[]): Selection => {
    const candidates = list.map((f) => f.name).sort();
    const usable = list.filter((f) => f.adminUp && f.carrier).map((f) => f.name).sort();
    return { rule: candidates.length > 0 ? rule : 'none', candidates, usable, rejected };
  };
  if (configured.length > 0) {
    const out: InterfaceFacts[] = [];
    for (const name of [...new Set(configured)]) {
      const f = byName.get(name);
      if (!f) {
        rejected.push({ name, reason: 'not present on this node' });
        continue;
      }
      const why = exclusionReason(f);
      if (why) rejected.push({ name, reason: why });
      else out.push(f);
    }
    return finish('configured', out);
  }
  const allowed: InterfaceFacts[] = [];
  for (const f of snap.interfaces) {
    const why = exclusionReason(f);
    if (why) rejected.push({ name: f.name, reason: why });
    else allowed.push(f);
  }
  const subnet = allowed.filter((f) => f.addresses.some((c) => inSubnet(ip, c)));
  if (subnet.length > 0) return finish('subnet', subnet);
  const fallback = allowed.filter((f) => FALLBACK_KINDS.has(f.kind) && f.adminUp);
  return finish('fallback', fallback);
}

// What this node announces, per Service and address (pure): MetalLB's metallb_speaker_announced
// gauge is fed from it. Desired state, as MetalLB's: a BGP announcement is an assigned address
// covered by a route planned on a running session of this node (a /32 or /128, or an aggregate);
// a Layer 2 announcement is an address this node answers ARP/NDP for.

import type { Assignment } from '../allocator/types.ts';
import { canonicalIP, formatIP, formatPrefix, prefixContains, tryParseIP } from '../ip/index.ts';
import type { Layer2Plan, PlannedRoute } from '../planner/types.ts';
import type { AppliedSession, NodeAnnouncement } from './types.ts';

/** Service addresses covered by the routes of the running (not blocked) sessions. */
export function bgpAnnouncements(sessions: readonly AppliedSession[], assignments: Readonly<Record<string, Assignment>>): NodeAnnouncement[] {
  const hosts = new Set<string>();
  const aggregates = new Map<string, PlannedRoute['prefix']>();
  const seen = new Set<readonly PlannedRoute[]>();
  for (const a of sessions) {
    if (a.blocked !== null || seen.has(a.plan.routes)) continue;
    seen.add(a.plan.routes);
    for (const r of a.plan.routes) {
      const p = r.prefix;
      if (p.length === (p.family === 4 ? 32 : 128)) hosts.add(formatIP({ family: p.family, value: p.network }));
      else aggregates.set(formatPrefix(p), p);
    }
  }
  const out: NodeAnnouncement[] = [];
  if (hosts.size === 0 && aggregates.size === 0) return out;
  for (const [service, a] of Object.entries(assignments)) {
    // the allocator's output is canonical text already: no new string then (this list is kept
    // per apply); a Service status written by someone else may not be
    for (const text of a.ips) {
      const ip = hosts.has(text) ? text : (canonicalIP(text) ?? text);
      let covered = hosts.has(ip);
      if (!covered && aggregates.size > 0) {
        const parsed = tryParseIP(ip);
        covered = parsed !== undefined && [...aggregates.values()].some((p) => prefixContains(p, parsed));
      }
      if (covered) out.push({ service, protocol: 'bgp', ip });
    }
  }
  return out;
}

/** The Layer 2 addresses this node answers for, per Service sharing them. */
export function layer2Announcements(owned: readonly Layer2Plan[]): NodeAnnouncement[] {
  const out: NodeAnnouncement[] = [];
  for (const l of owned) for (const service of l.services) out.push({ service, protocol: 'layer2', ip: canonicalIP(l.ip) ?? l.ip });
  return out;
}

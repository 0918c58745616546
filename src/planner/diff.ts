// `plan --diff`: what a proposed change does before it is applied - per router session the
// routes added, removed and changed (attributes), and the Services whose IPs change. Pure, over
// the stable JSON form of two plans (the same routes `metallb-ts plan` prints).

import type { PlanJSON } from './format.ts';

type RouteJSON = PlanJSON['bgp'][number]['routes'][number];
type SessionJSON = PlanJSON['bgp'][number];

export interface RouteChange {
  prefix: string;
  before: RouteJSON;
  after: RouteJSON;
  /** Attribute names that differ: nextHop, localPref, communities, largeCommunities. */
  changed: string[];
}

export interface SessionDiff {
  node: string;
  peer: string;
  peerAddress: string | null;
  /** "new" / "removed" when the session exists on one side only. */
  session: 'same' | 'new' | 'removed';
  added: RouteJSON[];
  removed: RouteJSON[];
  changed: RouteChange[];
}

export interface ServiceDiff {
  service: string;
  before: string[];
  after: string[];
  /** Why the Service has no IP after the change, when it has none. */
  error: string | null;
}

export interface PlanDiff {
  sessions: SessionDiff[];
  services: ServiceDiff[];
}

const ATTRS = ['nextHop', 'localPref', 'communities', 'largeCommunities'] as const;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const sessionKey = (s: SessionJSON): string => `${s.node}\u0000${s.peer}`;

export function diffPlans(before: PlanJSON, after: PlanJSON): PlanDiff {
  const sessions: SessionDiff[] = [];
  const b = new Map(before.bgp.map((s) => [sessionKey(s), s]));
  const a = new Map(after.bgp.map((s) => [sessionKey(s), s]));
  const keys = [...new Set([...b.keys(), ...a.keys()])].sort();
  for (const k of keys) {
    const sb = b.get(k);
    const sa = a.get(k);
    const any = (sa ?? sb) as SessionJSON;
    const rb = new Map((sb?.routes ?? []).map((r) => [r.prefix, r]));
    const ra = new Map((sa?.routes ?? []).map((r) => [r.prefix, r]));
    const d: SessionDiff = {
      node: any.node,
      peer: any.peer,
      peerAddress: any.peerAddress,
      session: sb && sa ? 'same' : sa ? 'new' : 'removed',
      added: [...ra.values()].filter((r) => !rb.has(r.prefix)),
      removed: [...rb.values()].filter((r) => !ra.has(r.prefix)),
      changed: [],
    };
    for (const [prefix, r] of ra) {
      const old = rb.get(prefix);
      if (!old) continue;
      const changed = ATTRS.filter((f) => !same(old[f], r[f]));
      if (changed.length > 0) d.changed.push({ prefix, before: old, after: r, changed });
    }
    if (d.session !== 'same' || d.added.length + d.removed.length + d.changed.length > 0) sessions.push(d);
  }
  const services: ServiceDiff[] = [];
  const key = (s: PlanJSON['services'][number]): string => `${s.namespace}/${s.name}`;
  const sb = new Map(before.services.map((s) => [key(s), s]));
  const sa = new Map(after.services.map((s) => [key(s), s]));
  for (const k of [...new Set([...sb.keys(), ...sa.keys()])].sort()) {
    const x = sb.get(k);
    const y = sa.get(k);
    const ipsB = x?.ips ?? [];
    const ipsA = y?.ips ?? [];
    if (same(ipsB, ipsA)) continue;
    services.push({ service: k, before: ipsB, after: ipsA, error: y && ipsA.length === 0 ? y.error : null });
  }
  return { sessions, services };
}

function attrs(r: RouteJSON): string {
  const parts = [`next hop ${r.nextHop ?? 'self'}`];
  if (r.localPref !== null) parts.push(`localPref ${r.localPref}`);
  if (r.communities.length + r.largeCommunities.length > 0) parts.push(`communities ${[...r.communities, ...r.largeCommunities].join(' ')}`);
  return parts.join(', ');
}

const show = (v: unknown): string => (Array.isArray(v) ? (v.length ? v.join(' ') : 'none') : v === null ? 'none' : String(v));

/** The diff for people: one block per router session, then the Services. */
export function formatPlanDiff(d: PlanDiff): string {
  const out: string[] = [];
  if (d.sessions.length === 0 && d.services.length === 0) return 'no change: every router receives the same routes and every Service keeps its IPs\n';
  for (const s of d.sessions) {
    const tag = s.session === 'new' ? ' (new session)' : s.session === 'removed' ? ' (session removed)' : '';
    out.push(`router ${s.peer} ${s.peerAddress ?? ''} from node ${s.node}${tag}: ${s.added.length} added, ${s.removed.length} removed, ${s.changed.length} changed`);
    for (const r of s.added) out.push(`  + ${r.prefix}  ${attrs(r)}`);
    for (const r of s.removed) out.push(`  - ${r.prefix}  ${attrs(r)}`);
    for (const c of s.changed) {
      out.push(`  ~ ${c.prefix}  ${c.changed.map((f) => `${f} ${show(c.before[f as keyof RouteJSON])} -> ${show(c.after[f as keyof RouteJSON])}`).join(', ')}`);
    }
  }
  if (d.services.length > 0) {
    if (out.length > 0) out.push('');
    out.push('Services whose IPs change:');
    for (const s of d.services) {
      out.push(`  ${s.service}: ${s.before.join(', ') || 'none'} -> ${s.after.join(', ') || `none${s.error ? ` (${s.error})` : ''}`}`);
    }
  }
  return out.join('\n') + '\n';
}

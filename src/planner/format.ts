// Output forms of a plan: the stable JSON shape of `metallb-ts plan -o json`, and a table for
// people (one block per router session, like a router's `show bgp`).

import { LINK_BANDWIDTH_PER_WEIGHT } from '../bgp/speaker/rib.ts';
import { formatIP, formatPrefix } from '../ip/index.ts';
import type { Family, IP } from '../ip/index.ts';
import type { PlanOutput, PlannedRoute, SessionPlan } from './types.ts';

export function formatCommunity(v: number): string {
  return `${(v >>> 16) & 0xffff}:${v & 0xffff}`;
}

export function formatLargeCommunity(c: readonly [number, number, number]): string {
  return `${c[0]}:${c[1]}:${c[2]}`;
}

/** The loopback address the kernel uses as the local end of a session to a loopback peer. */
const LOOPBACK_SOURCE: Record<Family, IP> = { 4: { family: 4, value: 0x7f000001n }, 6: { family: 6, value: 1n } };

function isLoopback(a: IP): boolean {
  return a.family === 4 ? a.value >> 24n === 127n : a.value === 1n;
}

/**
 * The next hop the router receives: the route's own, else the session's local address (for a
 * peer on loopback without sourceAddress, e.g. seed 000's 127.0.0.1, the loopback address; else
 * the node's address of the family, sourceAddress first), as the speaker sends it.
 */
function nextHopOf(s: SessionPlan, r: PlannedRoute): string | null {
  if (r.nextHop) return formatIP(r.nextHop);
  if (!s.config.address && s.config.interface !== undefined) return null; // unnumbered: our link-local address, known at run time
  const f: Family = r.prefix.family;
  const peer = s.config.address;
  // known on this host (src/planner/nexthop.ts): the address the session really has
  if (s.localAddress && s.localAddress.family === f && peer?.family === f) return formatIP(s.localAddress);
  if (peer && peer.family === f && isLoopback(peer) && !s.config.sourceAddress) return formatIP(LOOPBACK_SOURCE[f]);
  const a = (s.nodeAddresses ?? []).find((x: IP) => x.family === f);
  return a ? formatIP(a) : null;
}

function peerAddressOf(s: SessionPlan): string | null {
  if (s.config.address) return formatIP(s.config.address);
  return s.config.interface ?? null;
}

function peerASNOf(s: SessionPlan): number | null {
  if (s.config.dynamicASN === 'internal') return s.config.localASN ?? s.config.myASN;
  if (s.config.dynamicASN === 'external') return null;
  return s.config.peerASN;
}

export interface PlanJSON {
  services: { namespace: string; name: string; ips: string[]; pool: string | null; endpointsAssumed: boolean; error: string | null }[];
  bgp: {
    node: string;
    peer: string;
    peerAddress: string | null;
    /**
     * Unnumbered session: the interface. The peer is the router's IPv6 link-local address there,
     * learned at run time from its Router Advertisements; routes carry our link-local address as
     * next hop (`nextHop: null`), IPv4 routes too (RFC 8950).
     */
    interface?: string;
    peerPort: number;
    peerASN: number | null;
    myASN: number;
    ebgp: boolean;
    /** The session's local address on this host (plan run on the node itself), when known. */
    localAddress?: string;
    /** E.g. a sourceAddress that is not configured on the node (the kernel chooses). */
    warnings?: string[];
    routes: {
      prefix: string;
      nextHop: string | null;
      localPref: number | null;
      communities: string[];
      largeCommunities: string[];
      /** Weighted ECMP only: this node's ready endpoints and the link-bandwidth community sent for them. */
      weight?: number;
      linkBandwidth?: string;
      /** Local fallback (metallb-ts.io/local-fallback): announced although no node has a ready endpoint. */
      fallback?: true;
    }[];
  }[];
  layer2: { ip: string; services: string[]; node: string | null; interfaces: string[] }[];
  /** Nodes without any BGP session and why (present only when there are such nodes). */
  noSession?: { node: string; reasons: string[] }[];
}

/** The link-bandwidth extended community of a weighted route as routers print it: `LB:AS:bytes/s`. */
export function linkBandwidthText(asn: number, weight: number): string {
  return `LB:${asn > 0xffff ? 23456 : asn}:${weight * LINK_BANDWIDTH_PER_WEIGHT}`;
}

/** The exact JSON shape of the plan (deterministic order, as computed by the planner). */
export function planToJSON(p: PlanOutput): PlanJSON {
  return {
    services: p.services.map((s) => ({
      namespace: s.namespace,
      name: s.name,
      ips: [...s.ips],
      pool: s.pool,
      endpointsAssumed: s.endpointsAssumed,
      error: s.error,
    })),
    bgp: p.bgp.map((s) => ({
      node: s.node,
      peer: s.peer,
      peerAddress: peerAddressOf(s),
      ...(!s.config.address && s.config.interface !== undefined ? { interface: s.config.interface } : {}),
      peerPort: s.config.port,
      peerASN: peerASNOf(s),
      myASN: s.config.myASN,
      ebgp: s.ebgp,
      ...(s.localAddress ? { localAddress: formatIP(s.localAddress) } : {}),
      ...(s.warnings && s.warnings.length > 0 ? { warnings: [...s.warnings] } : {}),
      routes: s.routes.map((r) => ({
        prefix: formatPrefix(r.prefix),
        nextHop: nextHopOf(s, r),
        localPref: r.localPref ?? null,
        communities: r.communities.map(formatCommunity),
        largeCommunities: r.largeCommunities.map(formatLargeCommunity),
        ...(r.weight !== undefined ? { weight: r.weight, linkBandwidth: linkBandwidthText(s.config.localASN ?? s.config.myASN, r.weight) } : {}),
        ...(r.fallback ? { fallback: true as const } : {}),
      })),
    })),
    layer2: p.layer2.map((l) => ({ ip: l.ip, services: [...l.services], node: l.node, interfaces: [...l.interfaces] })),
    ...(p.noSession !== undefined && p.noSession.length > 0 ? { noSession: p.noSession.map((n) => ({ node: n.node, reasons: [...n.reasons] })) } : {}),
  };
}

function table(headers: string[], rows: string[][], indent = ''): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    (indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** Human-readable plan. */
export function formatPlanTable(p: PlanOutput): string {
  const out: string[] = [];
  out.push('SERVICES');
  if (p.services.length === 0) out.push('  (no LoadBalancer services)');
  else {
    out.push(
      ...table(
        ['SERVICE', 'IPS', 'POOL', 'STATUS'],
        p.services.map((s) => [
          `${s.namespace}/${s.name}`,
          s.ips.length > 0 ? s.ips.join(',') : '-',
          s.pool ?? '-',
          s.error !== null ? `error: ${s.error}` : s.endpointsAssumed ? 'ok (endpoints assumed ready on every node)' : 'ok',
        ]),
        '  ',
      ),
    );
  }
  out.push('');
  out.push('BGP');
  if (p.bgp.length === 0) out.push('  (no BGP sessions)');
  for (const n of p.noSession ?? []) {
    out.push(`  node ${n.node}: no BGP session`);
    for (const r of n.reasons) out.push(`    ${r}`);
  }
  for (const s of p.bgp) {
    const j = planToJSON({ services: [], bgp: [s], layer2: [] }).bgp[0];
    if (!j) continue;
    const asn = j.peerASN === null ? 'dynamic' : String(j.peerASN);
    out.push(
      `  node ${s.node} -> peer ${s.peer} (${j.interface !== undefined ? `unnumbered on ${j.interface}` : (j.peerAddress ?? '?')}${j.peerPort === 179 ? '' : ` port ${j.peerPort}`}, AS ${asn}, local AS ${s.config.localASN ?? s.config.myASN}, ${s.ebgp ? 'eBGP' : 'iBGP'})`,
    );
    if (j.localAddress) out.push(`    local address ${j.localAddress} (this host)`);
    for (const w of j.warnings ?? []) out.push(`    warning: ${w}`);
    if (j.routes.length === 0) {
      out.push('    (no routes)');
      continue;
    }
    out.push(
      ...table(
        ['Network', 'Next Hop', 'LocPrf', 'Communities'],
        j.routes.map((r) => [
          r.prefix,
          r.nextHop ?? (j.interface !== undefined ? `(our link-local on ${j.interface}${r.prefix.includes(':') ? '' : ', RFC 8950'})` : '(session address)'),
          r.localPref === null ? '' : String(r.localPref),
          [
            ...r.communities,
            ...r.largeCommunities,
            ...(r.weight !== undefined ? [`weight ${r.weight} (${r.linkBandwidth ?? ''})`] : []),
            ...(r.fallback ? ['local fallback (no ready endpoint)'] : []),
          ].join(' '),
        ]),
        '    ',
      ),
    );
    out.push(`    Total number of prefixes ${j.routes.length}`);
  }
  out.push('');
  out.push('LAYER2');
  if (p.layer2.length === 0) out.push('  (no Layer 2 announcements)');
  else {
    out.push(
      ...table(
        ['IP', 'NODE', 'INTERFACES', 'SERVICES'],
        p.layer2.map((l) => [l.ip, l.node ?? '(none: no eligible node)', l.interfaces.length > 0 ? l.interfaces.join(',') : '(all)', l.services.join(',')]),
        '  ',
      ),
    );
  }
  return out.join('\n') + '\n';
}

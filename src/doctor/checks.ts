// The doctor's checks: pure functions over the resolved configuration, the plan of every node
// and (optionally) what a running node observed. Each check says what we can know from here and
// what to check on the router when we cannot know more.

import type { Peer } from '../config/types.ts';
import { formatIP } from '../ip/index.ts';
import type { IP } from '../ip/index.ts';
import { anySelectorMatches } from '../model/selector.ts';
import type { LabelSelector } from '../model/selector.ts';
import type { SessionPlan } from '../planner/types.ts';
import type { DoctorInput, Finding, Severity } from './types.ts';

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

const isLoopback = (ip: IP): boolean => (ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n);

/** The peer runs on the node itself: a loopback address or one of the node's own addresses. */
function peerOnNode(s: SessionPlan): boolean {
  const a = s.config.address;
  if (!a) return false;
  return isLoopback(a) || (s.nodeAddresses ?? []).some((n) => n.family === a.family && n.value === a.value);
}

/** The BGP identifier the speaker uses on this session (src/bgp/speaker planRouterId). */
function routerIdOf(s: SessionPlan, fallback: string | undefined): string | undefined {
  if (s.config.routerID) return formatIP(s.config.routerID);
  if (fallback) return fallback;
  const v4 = (s.nodeAddresses ?? []).find((a) => a.family === 4);
  return v4 ? formatIP(v4) : undefined;
}

const peerAddr = (p: Peer): string => (p.address ? formatIP(p.address) : `interface ${p.interface ?? '?'}`);

/** Groups node names by a key, e.g. the sessions of one peer. */
function nodesBy<T>(items: T[], key: (t: T) => string, node: (t: T) => string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const it of items) {
    const k = key(it);
    const l = m.get(k) ?? [];
    if (!l.includes(node(it))) l.push(node(it));
    m.set(k, l);
  }
  return m;
}

const nodeList = (nodes: string[]): string => (nodes.length === 1 ? `node ${nodes[0]}` : `nodes ${nodes.join(', ')}`);

/** Seed 000: an all-iBGP chain (MetalLB -> local route publisher -> routers) never propagates. */
function ibgpChains(input: DoctorInput, out: Finding[]): void {
  const ibgp = input.plan.bgp.filter((s) => !s.ebgp);
  const byPeer = nodesBy(ibgp, (s) => s.peer, (s) => s.node);
  for (const [peerName, nodes] of byPeer) {
    const s = ibgp.find((x) => x.peer === peerName);
    if (!s) continue;
    const p = s.config;
    const as = p.localASN ?? p.myASN;
    if (peerOnNode(s)) {
      // the daemon's own configuration, when given: its session to us and its other sessions
      const rc = (input.routers ?? []).find((r) => r.localAs === p.peerASN && r.neighbors.some((n) => n.asn === as));
      const toUs = rc?.neighbors.find((n) => n.asn === as);
      const upstream = rc?.neighbors.filter((n) => n !== toUs) ?? [];
      const known = rc !== undefined && toUs !== undefined;
      if (known && (toUs.rrClient || upstream.some((n) => n.asn !== rc.localAs))) continue; // reflects, or has an eBGP hop
      const subject = `BGPPeer/${peerName} (${nodeList(nodes)})`;
      const fix =
        `Make one hop eBGP: give MetalLB its own AS (myASN != ${as}; the daemon's neighbor for MetalLB must use that AS) or put the ` +
        `external routers in another AS. Or make the daemon a route reflector with MetalLB as client (BIRD: rr client). On the daemon, ` +
        `check that its export filter to the routers includes the routes learned from MetalLB (BIRD: export where proto = "metallb") and ` +
        `that the routers receive the Service /32s (birdc show route export <protocol>).`;
      out.push(
        known
          ? {
              code: 'ibgp-chain',
              severity: 'error',
              subject,
              message:
                `all-iBGP chain: MetalLB -> the BGP daemon on the node (${peerAddr(p)}, AS ${as}) -> ${upstream.map((n) => n.address).join(', ') || 'no other router'} ` +
                `(AS ${as}), per ${rc.file}. A router never passes routes learned over iBGP to other iBGP peers unless it is a route reflector, ` +
                `and this one is not: the external routers never receive the load-balancer routes.`,
              fix,
            }
          : {
              code: 'ibgp-chain',
              severity: 'warning',
              subject,
              message:
                `iBGP (AS ${as} on both sides) to a BGP daemon on the node itself (${peerAddr(p)}), e.g. a route publisher (Romana, BIRD): it ` +
                `passes our routes to the routers only if its sessions to them are eBGP or it reflects routes (it never sends routes learned ` +
                `over iBGP to other iBGP peers). From here we cannot see its sessions (give its configuration with --router-config).`,
              fix,
            },
      );
    } else {
      out.push({
        code: 'ibgp-single-hop',
        severity: 'info',
        subject: `BGPPeer/${peerName} (${nodeList(nodes)})`,
        message:
          `iBGP session (AS ${as}) to ${peerAddr(p)}: the routes reach this router only; it passes them to other iBGP routers only if it ` +
          `is a route reflector with these nodes as clients (or every router peers with every node). From here we cannot see the router's other sessions.`,
        fix: `On the router, check that the nodes are route-reflector clients (FRR: neighbor X route-reflector-client; BIRD: rr client) or that its sessions upstream are eBGP.`,
      });
    }
  }
}

/** Identical BGP identifiers: ours vs the peer's, and between our nodes towards one peer. */
function routerIds(input: DoctorInput, out: Finding[]): void {
  const observed = input.observed?.sessions ?? [];
  const byPeerId = new Map<string, { id: string; nodes: string[] }[]>();
  for (const s of input.plan.bgp) {
    const id = routerIdOf(s, input.defaultRouterId);
    if (!id) continue;
    const seen = observed.find((o) => o.node === s.node && o.peer === s.peer);
    const peerV4 = s.config.address?.family === 4 ? formatIP(s.config.address) : undefined;
    if (seen?.peerRouterId === id || (peerV4 === id && !isLoopback(s.config.address as IP))) {
      out.push({
        code: 'router-id-clash',
        severity: 'error',
        subject: `BGPPeer/${s.peer} (node ${s.node})`,
        message: `node ${s.node} uses router ID ${id} and the peer ${seen?.peerRouterId === id ? 'announced the same router ID in its OPEN' : 'has that address'}: BGP refuses a session between identical router IDs.`,
        fix: `Set spec.routerID on BGPPeer ${s.peer} to an IPv4 value no other speaker uses.`,
      });
    } else if (peerOnNode(s) && !s.config.routerID && !input.defaultRouterId) {
      out.push({
        code: 'router-id-clash',
        severity: 'warning',
        subject: `BGPPeer/${s.peer} (node ${s.node})`,
        message: `the peer is a BGP daemon on the node itself and node ${s.node} uses the node's address ${id} as router ID; such daemons usually take the node's address too, and BGP refuses identical router IDs.`,
        fix: `Set spec.routerID on BGPPeer ${s.peer} to a distinct value (MetalLB's Romana guide uses 127.0.0.1).`,
      });
    }
    if (peerOnNode(s)) continue; // one daemon per node: the same ID on every node is expected
    const l = byPeerId.get(s.peer) ?? [];
    const e = l.find((x) => x.id === id);
    if (e) e.nodes.push(s.node);
    else l.push({ id, nodes: [s.node] });
    byPeerId.set(s.peer, l);
  }
  for (const [peer, ids] of byPeerId) {
    for (const { id, nodes } of ids) {
      if (nodes.length < 2) continue;
      out.push({
        code: 'router-id-clash',
        severity: 'warning',
        subject: `BGPPeer/${peer} (${nodeList(nodes)})`,
        message: `${nodes.length} nodes present the same router ID ${id} to the same router: routers reset or ignore sessions with a duplicate identifier, and route reflectors drop routes whose originator is a duplicate.`,
        fix: `Remove spec.routerID from BGPPeer ${peer} (each node then uses its own IPv4 address), or give each node its own BGPPeer with a distinct routerID.`,
      });
    }
  }
}

const COLLISION = /collision|connection rejected|Cease 6\/[57]|NOTIFICATION 6\/[57]\b/i;
/** The router drops the TCP connection without a word: what BIRD does when a session with that address exists. */
const DROPPED = /closed by peer|connection reset|ECONNRESET/i;

/** Seed 004: another BGP speaker (Calico's BIRD, a route publisher) already holds the session. */
function duplicateSessions(input: DoctorInput, out: Finding[]): void {
  const listeners = (input.observed?.listeners ?? []).filter((l) => l.port === 179);
  const observed = input.observed?.sessions ?? [];
  const hint =
    `BGP allows one session per pair of addresses: if another speaker on the node already peers with this router, the router rejects ours. ` +
    `Workarounds (MetalLB's Calico guide): peer MetalLB with the spine routers (no session from the nodes exists there) instead of the top-of-rack ` +
    `routers the other speaker uses; or dedicate some racks to external Services; or split the router in two VRFs; or peer MetalLB with the local daemon and let it re-advertise.`;
  const who = listeners.map((l) => `${l.process ?? 'unknown process'}${l.pid !== null ? ` (pid ${l.pid})` : ''} on ${l.address}:179`).join(', ');
  const failing = observed.filter(
    (o) => o.state !== 'Established' && o.lastError !== null && (COLLISION.test(o.lastError) || (listeners.length > 0 && DROPPED.test(o.lastError))),
  );
  for (const o of failing) {
    out.push({
      code: 'duplicate-session',
      severity: 'error',
      subject: `BGPPeer/${o.peer} (node ${o.node})`,
      message: `the router rejects our session (${o.lastError})${who ? ` and another BGP speaker listens on this node: ${who}` : ''}; the router most likely already has a session with this node's address.`,
      fix: hint,
    });
  }
  if (listeners.length > 0 && failing.length === 0) {
    out.push({
      code: 'duplicate-session',
      severity: 'warning',
      subject: 'this node',
      message: `another BGP speaker holds TCP port 179 here: ${who}. If it peers with the same routers as MetalLB, one of the two sessions is rejected.`,
      fix: hint,
    });
  }
}

function selects(sels: LabelSelector[], input: DoctorInput): boolean {
  return input.nodes.some((n) => anySelectorMatches(sels, n.metadata.labels ?? {}));
}

/** Node selectors that select no node, pools nobody announces, advertisements that reach no peer, v6 without a v6 session. */
function reach(input: DoctorInput, out: Finding[]): void {
  const c = input.config;
  if (input.nodesKnown) {
    const check = (kind: string, name: string, sels: LabelSelector[]): void => {
      if (sels.length === 0 || selects(sels, input)) return;
      out.push({
        code: 'selector-no-node',
        severity: 'warning',
        subject: `${kind}/${name}`,
        message: `spec.nodeSelectors select none of the ${input.nodes.length} nodes: it has no effect anywhere.`,
        fix: `Compare the selectors with the node labels (kubectl get nodes --show-labels) and fix the labels or the selectors.`,
      });
    };
    for (const p of c.peers) check('BGPPeer', p.name, p.nodeSelectors);
    for (const a of c.bgpAdvertisements) check('BGPAdvertisement', a.name, a.nodeSelectors);
    for (const a of c.l2Advertisements) check('L2Advertisement', a.name, a.nodeSelectors);
  }
  const advertised = new Set([...c.bgpAdvertisements.flatMap((a) => a.pools), ...c.l2Advertisements.flatMap((a) => a.pools)]);
  for (const p of c.pools) {
    if (advertised.has(p.name)) continue;
    out.push({
      code: 'pool-unadvertised',
      severity: 'warning',
      subject: `IPAddressPool/${p.name}`,
      message: `no BGPAdvertisement or L2Advertisement uses this pool: Services get addresses from it but nothing announces them.`,
      fix: `Add a BGPAdvertisement or L2Advertisement listing ${p.name} in spec.ipAddressPools (or matching it with ipAddressPoolSelectors).`,
    });
  }
  for (const a of c.bgpAdvertisements) {
    const peers = c.peers.filter((p) => a.peers.length === 0 || a.peers.includes(p.name));
    const reaches = peers.filter((p) => input.nodes.some((n) => anySelectorMatches(p.nodeSelectors, n.metadata.labels ?? {}) && anySelectorMatches(a.nodeSelectors, n.metadata.labels ?? {})));
    if (reaches.length === 0) {
      out.push({
        code: 'advertisement-no-peer',
        severity: 'warning',
        subject: `BGPAdvertisement/${a.name}`,
        message:
          c.peers.length === 0
            ? 'there is no BGPPeer: the advertisement announces nothing.'
            : `no BGP session carries it: ${a.peers.length > 0 ? `its peers (${a.peers.join(', ')})` : 'the peers'} run on no node its nodeSelectors select.`,
        fix: 'Add a BGPPeer, or align spec.peers / spec.nodeSelectors of the advertisement with the BGPPeers and their nodeSelectors.',
      });
      continue;
    }
    const v6Pools = a.pools.filter((name) => c.pools.find((p) => p.name === name)?.ranges.some((r) => r.family === 6));
    const v6Peers = reaches.filter((p) => !p.address || p.address.family === 6 || p.dualStackAddressFamily);
    if (v6Pools.length > 0 && v6Peers.length === 0) {
      out.push({
        code: 'v6-no-session',
        severity: 'warning',
        subject: `BGPAdvertisement/${a.name}`,
        message: `it announces IPv6 pools (${v6Pools.join(', ')}) but every session it reaches is IPv4 without dualStackAddressFamily: IPv6 Services are never announced.`,
        fix: 'Add an IPv6 BGPPeer, or set spec.dualStackAddressFamily: true on the IPv4 BGPPeers (the router must accept IPv6 unicast on that session).',
      });
    }
  }
}

/** Sessions that are not Established, with the reason the speaker gives. */
function sessions(input: DoctorInput, out: Finding[]): void {
  for (const o of input.observed?.sessions ?? []) {
    if (o.state === 'Established') continue;
    if (input.observed?.listeners?.some((l) => l.port === 179) && o.lastError !== null && DROPPED.test(o.lastError)) continue; // duplicate-session
    if (o.lastError !== null && COLLISION.test(o.lastError)) continue; // reported as duplicate-session
    out.push({
      code: 'session-not-established',
      severity: o.state === 'NotStarted' ? 'error' : 'warning',
      subject: `BGPPeer/${o.peer} (node ${o.node})`,
      message: `session is ${o.state}: ${o.lastError ?? 'no error reported yet (the peer does not answer, or the session is still starting)'}.`,
      fix: 'Check reachability of the peer (TCP 179), the ASNs on both sides, the password, and the router log for this neighbor.',
    });
  }
}

function poolUsage(input: DoctorInput, out: Finding[]): void {
  for (const p of input.pools) {
    if (p.total === 0 || p.inUse / p.total <= 0.9) continue;
    const full = p.inUse >= p.total;
    out.push({
      code: 'pool-usage-high',
      severity: full ? 'error' : 'warning',
      subject: `IPAddressPool/${p.pool}`,
      message: `${p.inUse} of ${p.total} addresses in use (${Math.round((p.inUse / p.total) * 1000) / 10} %)${full ? ': new Services get no IP' : ''}.`,
      fix: 'Add addresses to the pool (spec.addresses) or another pool the Services may use.',
    });
  }
}

/** Runs every check; findings sorted by severity, then code, then subject. */
export function diagnose(input: DoctorInput): Finding[] {
  const out: Finding[] = [];
  ibgpChains(input, out);
  routerIds(input, out);
  duplicateSessions(input, out);
  reach(input, out);
  sessions(input, out);
  poolUsage(input, out);
  return out.sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0),
  );
}

/** Exit status for CI: 1 when a finding is at least `failOn`, else 0. */
export function exitCode(findings: readonly Finding[], failOn: Severity = 'error'): number {
  return findings.some((f) => SEVERITY_ORDER[f.severity] <= SEVERITY_ORDER[failOn]) ? 1 : 0;
}

// Wires the real config loader, allocator, planner, BGP speaker and Layer 2 announcer into
// StandaloneDeps.
//
// Layer 2: standalone is one machine, so it is the owner of every Layer 2 address it is a
// candidate for (planNode().layer2Candidates: this node is Ready, matches the L2Advertisement
// nodeSelectors, and serves the Service); no liveness protocol runs. The runtime hands those
// addresses to a Layer2Announcer (ARP/NDP on the interfaces from L2Advertisement.interfaces or
// the automatic selection rule) on every reload and stops it at shutdown.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { InputCache } from '../config/load.ts';
import { allocate } from '../allocator/index.ts';
import { planNode, resolvePeerPasswords } from '../planner/index.ts';
import { BGPSpeaker } from '../bgp/speaker/index.ts';
import { Layer2Announcer } from '../layer2/announcer.ts';
import { BfdSupervisor } from '../bfd/supervisor.ts';
import { createBfdMetrics } from '../bfd/metrics.ts';
import type { PlannedRoute, SessionPlan } from '../planner/types.ts';
import type { Layer2AnnouncementStatus, Layer2Sink, NodePlan, PlanInput, StandaloneDeps } from './runtime.ts';

export interface WireOptions {
  nodeName: string;
  routerId?: string;
  logger: Logger;
  loadBalancerClass?: string;
  /** Registry for the metallb_layer2_* counters (default: prom-client's default registry). */
  registry?: Registry;
  /** Set false to run without a Layer 2 announcer (BGP only). Default true. */
  layer2?: boolean;
  /** Graceful restart marker file (see src/bgp/speaker/lifecycle.ts). */
  restartMarker?: string;
}

/** The announcer as standalone's Layer2Sink, with its live state for /status. */
export function layer2Sink(announcer: Layer2Announcer): Layer2Sink {
  return {
    setOwned: (entries) => announcer.setOwned(entries),
    stop: () => announcer.stop(),
    announcing: (): Layer2AnnouncementStatus[] => {
      const stats = announcer.stats();
      return announcer.status().map((s) => {
        const c = stats[s.ip];
        return {
          ip: s.ip,
          interfaces: s.interfaces,
          rule: s.rule,
          rejected: s.rejected,
          requestsReceived: c?.requestsReceived ?? 0,
          responsesSent: c?.responsesSent ?? 0,
          gratuitousSent: c?.gratuitousSent ?? 0,
        };
      });
    },
  };
}

/**
 * The planner as standalone uses it: BGP sessions of this node (passwords from the folder's
 * Secrets filled in; sessions whose Secret/key is missing are `blocked`, never started), and
 * every Layer 2 address this node is a candidate for, owned by this node (a single machine has
 * nobody to share with).
 */
export function standalonePlan(input: PlanInput, node: string, loadBalancerClass?: string): NodePlan {
  const { secrets, ...rest } = input;
  const p = planNode({ ...rest, ...(loadBalancerClass !== undefined ? { loadBalancerClass } : {}) }, node);
  const pw = resolvePeerPasswords(p.sessions, secrets ?? []);
  return {
    sessions: shareRoutes(pw.sessions),
    layer2: p.layer2Candidates.map((l) => ({ ...l, node })),
    ...(pw.blocked.length > 0 ? { blocked: pw.blocked } : {}),
  };
}

function sameIP(a: PlannedRoute['nextHop'], b: PlannedRoute['nextHop']): boolean {
  return a === b || (a !== undefined && b !== undefined && a.family === b.family && a.value === b.value);
}

function sameRoute(a: PlannedRoute, b: PlannedRoute): boolean {
  return (
    a.prefix.family === b.prefix.family &&
    a.prefix.length === b.prefix.length &&
    a.prefix.network === b.prefix.network &&
    sameIP(a.nextHop, b.nextHop) &&
    a.localPref === b.localPref &&
    a.weight === b.weight &&
    a.communities.length === b.communities.length &&
    a.communities.every((c, i) => c === b.communities[i]) &&
    a.largeCommunities.length === b.largeCommunities.length &&
    a.largeCommunities.every((c, i) => {
      const d = b.largeCommunities[i];
      return d !== undefined && c[0] === d[0] && c[1] === d[1] && c[2] === d[2];
    })
  );
}

/**
 * Sessions whose routes are identical (the usual case: every peer gets the same
 * advertisements) share one routes array, so that 10 sessions of 100k routes hold 100k
 * PlannedRoutes, not 1M. The planner makes a copy per session; nobody modifies them after.
 */
export function shareRoutes(sessions: SessionPlan[]): SessionPlan[] {
  const distinct: PlannedRoute[][] = [];
  return sessions.map((s) => {
    const same = distinct.find((d) => d.length === s.routes.length && d.every((r, i) => sameRoute(r, s.routes[i] as PlannedRoute)));
    if (same === undefined) {
      distinct.push(s.routes);
      return s;
    }
    return same === s.routes ? s : { ...s, routes: same };
  });
}

export async function createDeps(opts: WireOptions): Promise<StandaloneDeps> {
  const speaker = new BGPSpeaker({
    nodeName: opts.nodeName,
    logger: opts.logger,
    ...(opts.routerId !== undefined ? { routerId: opts.routerId } : {}),
    ...(opts.restartMarker !== undefined ? { restartMarker: opts.restartMarker } : {}),
  });
  speaker.on('state', (s: { peer: string; state: string; peerAddress: string; lastError?: string }) => {
    opts.logger.debug({ peer: s.peer, peerAddress: s.peerAddress, state: s.state, ...(s.lastError ? { lastError: s.lastError } : {}) }, 'BGP session state');
  });
  // Re-reads only the files that changed since the last reload; cluster objects are kept as
  // plain objects (no YAML positions) so that memory stays proportional to the Services.
  const inputs = new InputCache({ retainObjects: false });
  // BFD (BGPPeer bfdProfile) sits between the plan and the speaker: it holds a BGP session
  // down while its BFD session is Down (src/bfd/supervisor.ts).
  const bfd = new BfdSupervisor({ speaker, log: opts.logger.child({ component: 'bfd' }) });
  if (opts.registry) createBfdMetrics(opts.registry, bfd);
  const deps: StandaloneDeps = {
    readInputs: (paths) => inputs.read(paths),
    allocate: (input) => allocate(input),
    planNode: (input, node) => {
      bfd.setProfiles(input.config.bfdProfiles);
      return standalonePlan(input, node, opts.loadBalancerClass);
    },
    speaker: bfd,
  };
  if (opts.layer2 !== false) {
    const announcer = new Layer2Announcer({
      logger: opts.logger,
      nodeName: opts.nodeName,
      ...(opts.registry ? { registry: opts.registry } : {}),
    });
    // Problems (no raw sockets, addon not built, interface gone) are logged once by the
    // announcer; BGP keeps working.
    deps.layer2 = layer2Sink(announcer);
  }
  return deps;
}

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
import { readInputs } from '../config/load.ts';
import { allocate } from '../allocator/index.ts';
import { planNode, resolvePeerPasswords } from '../planner/index.ts';
import { BGPSpeaker } from '../bgp/speaker/index.ts';
import { Layer2Announcer } from '../layer2/announcer.ts';
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
    sessions: pw.sessions,
    layer2: p.layer2Candidates.map((l) => ({ ...l, node })),
    ...(pw.blocked.length > 0 ? { blocked: pw.blocked } : {}),
  };
}

export async function createDeps(opts: WireOptions): Promise<StandaloneDeps> {
  const speaker = new BGPSpeaker({
    nodeName: opts.nodeName,
    logger: opts.logger,
    ...(opts.routerId !== undefined ? { routerId: opts.routerId } : {}),
  });
  speaker.on('state', (s: { peer: string; state: string; peerAddress: string; lastError?: string }) => {
    opts.logger.debug({ peer: s.peer, peerAddress: s.peerAddress, state: s.state, ...(s.lastError ? { lastError: s.lastError } : {}) }, 'BGP session state');
  });
  const deps: StandaloneDeps = {
    readInputs,
    allocate: (input) => allocate(input),
    planNode: (input, node) => standalonePlan(input, node, opts.loadBalancerClass),
    speaker,
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

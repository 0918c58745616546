// Builds standalone's dependencies: the folder reader (incremental InputCache) and the real
// NodeAgent with its BGP driver (speaker behind BFD) and a Layer 2 supervisor.
//
// Layer 2: standalone is one machine, so it owns every Layer 2 address it is a candidate for
// (this node is ready, matches the L2Advertisement nodeSelectors, and serves the Service); no
// liveness protocol runs (the NodeAgent passes no members).

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { InputCache } from '../config/load.ts';
import { Layer2Supervisor } from '../layer2/supervisor.ts';
import { NodeAgent } from '../node/agent.ts';
import { createBgpDriver } from '../node/drivers.ts';
import type { BgpDriver, NodeAgentOptions } from '../node/index.ts';
import type { StandaloneDeps } from './runtime.ts';
import { receivedRoutesExtension, sessionStatesExtension } from '../routes/extension.ts';

export interface WireOptions {
  nodeName: string;
  routerId?: string;
  logger: Logger;
  loadBalancerClass?: string;
  /** Registry for the metallb_layer2_* and metallb_bfd_* metrics (default: prom-client's default registry for Layer 2, none for BFD). */
  registry?: Registry;
  /** Set false to run without Layer 2 (BGP only). Default true. */
  layer2?: boolean;
  /** Graceful restart marker file (see src/bgp/speaker/lifecycle.ts). */
  restartMarker?: string;
  /** Replaces the real BGP speaker (tests); BFD still sits in front of it. */
  bgp?: BgpDriver;
  /** Routing table for received routes (default 254, main); see docs/routes-in.md. */
  routeTable?: number;
}

export function createDeps(opts: WireOptions): StandaloneDeps {
  // received routes -> this machine's routing table (peers with a receive policy)
  const received = receivedRoutesExtension(opts.logger, opts.routeTable, opts.restartMarker);
  const bgp = createBgpDriver({ ...opts, ...(received ? { onReceived: received.onReceived } : {}) });
  const agentOpts: NodeAgentOptions = {
    node: opts.nodeName,
    logger: opts.logger,
    bgp,
    extensions: [...(received ? [received] : []), sessionStatesExtension(opts.nodeName, () => bgp.status())],
    ...(opts.loadBalancerClass !== undefined ? { loadBalancerClass: opts.loadBalancerClass } : {}),
  };
  if (opts.layer2 !== false) {
    // Problems (no raw sockets, addon not built, interface gone) are logged once by the
    // announcer; BGP keeps working.
    agentOpts.layer2 = new Layer2Supervisor({
      logger: opts.logger,
      nodeName: opts.nodeName,
      ...(opts.registry ? { registry: opts.registry } : {}),
    });
  }
  // Re-reads only the files that changed since the last reload; cluster objects are kept as
  // plain objects (no YAML positions) so that memory stays proportional to the Services.
  const inputs = new InputCache({ retainObjects: false });
  return { readInputs: (paths, changed) => inputs.read(paths, changed), agent: new NodeAgent(agentOpts) };
}

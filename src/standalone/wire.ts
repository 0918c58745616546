// Wires the real config loader, allocator, planner and BGP speaker into StandaloneDeps.
// Layer 2: when src/layer2 provides its announcer, create it here and set `deps.layer2`; the
// runtime already hands it the addresses this node owns on every reload.

import type { Logger } from 'pino';
import { readInputs } from '../config/load.ts';
import { allocate } from '../allocator/index.ts';
import { planNode } from '../planner/index.ts';
import { BGPSpeaker } from '../bgp/speaker/index.ts';
import type { StandaloneDeps } from './runtime.ts';

export interface WireOptions {
  nodeName: string;
  routerId?: string;
  logger: Logger;
  loadBalancerClass?: string;
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
  return {
    readInputs,
    allocate: (input) => allocate(input),
    planNode: (input, node) => {
      const { secrets: _secrets, ...rest } = input;
      return planNode(
        { ...rest, ...(opts.loadBalancerClass !== undefined ? { loadBalancerClass: opts.loadBalancerClass } : {}) },
        node,
      );
    },
    speaker,
  };
}

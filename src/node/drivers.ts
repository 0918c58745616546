// The real drivers of the node runtime, built the same way by both shells.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BGPSpeaker } from '../bgp/speaker/index.ts';
import type { SessionStateEvent, SpeakerOptions } from '../bgp/speaker/index.ts';
import { BfdSupervisor } from '../bfd/supervisor.ts';
import { createBfdMetrics } from '../bfd/metrics.ts';
import type { BgpDriver } from './types.ts';

export interface SpeakerDriverOptions {
  nodeName: string;
  logger: Logger;
  /** BGP identifier when a peer does not set routerID. */
  routerId?: string;
  /** Graceful restart marker file (see src/bgp/speaker/lifecycle.ts). */
  restartMarker?: string;
  /** Adj-RIB-In changes of sessions with a receive policy (src/routes: the kernel route sync). */
  onReceived?: SpeakerOptions['onReceived'];
  /** Called after every BGP or BFD session state change (e.g. to publish BGPSessionState objects). */
  onState?: () => void;
}

/** The BGP speaker of this node; every session state change is logged. */
export function createSpeaker(opts: SpeakerDriverOptions): BGPSpeaker {
  const speaker = new BGPSpeaker({
    nodeName: opts.nodeName,
    logger: opts.logger,
    ...(opts.routerId !== undefined ? { routerId: opts.routerId } : {}),
    ...(opts.restartMarker !== undefined ? { restartMarker: opts.restartMarker } : {}),
    ...(opts.onReceived ? { onReceived: opts.onReceived } : {}),
  });
  speaker.on('state', (s: SessionStateEvent) => {
    const fields = { peer: s.peer, peerAddress: s.peerAddress, state: s.state, ...(s.lastError ? { lastError: s.lastError } : {}) };
    opts.logger.info(fields, 'BGP session state');
    opts.onState?.();
  });
  return speaker;
}

/**
 * The node's BGP driver: the speaker (or `bgp`, in tests) behind BFD. BFD (BGPPeer bfdProfile)
 * holds a BGP session down while its BFD session is Down (src/bfd/supervisor.ts); its
 * metallb_bfd_* metrics go to `registry`.
 */
export function createBgpDriver(opts: SpeakerDriverOptions & { registry?: Registry; bgp?: BgpDriver }): BgpDriver {
  const bfd = new BfdSupervisor({
    speaker: opts.bgp ?? createSpeaker(opts),
    log: opts.logger.child({ component: 'bfd' }),
    ...(opts.onState ? { onBfdState: opts.onState } : {}),
  });
  if (opts.registry) createBfdMetrics(opts.registry, bfd);
  return bfd;
}

// Received routes and BGPSessionState fields as NodeAgent extensions (src/node/types.ts
// NodeExtension), wired the same way by standalone and the Kubernetes speaker:
//   receivedRoutes   the kernel route sync (sync.ts): status under NodeStatus.extensions,
//                    every route we installed deleted when the agent stops
//   bgpSessionStates the frr-k8s BGPSessionState fields of every session of this node
//                    (node, peer, vrf, bgpStatus, bfdStatus) for /status; the Kubernetes
//                    speaker also publishes them as objects (src/kube/sessionstates.ts)

import type { Logger } from 'pino';
import type { BGPSessionStateFields } from '../bgp/sessionstate.ts';
import { bgpSessionStateFields } from '../bgp/sessionstate.ts';
import type { SessionStatus } from '../bgp/speaker/index.ts';
import type { NodeExtension } from '../node/types.ts';
import type { KernelRouteSync, KernelSyncStatus } from './sync.ts';
import { kernelRouteSync } from './sync.ts';

export interface ReceivedRoutesExtension extends NodeExtension {
  /** Hand to the BGP speaker (SpeakerOptions.onReceived). */
  onReceived: KernelRouteSync['update'];
  status(): KernelSyncStatus & { routes: { prefix: string; nexthops: string[] }[] };
}

/** The kernel route sync as an extension; undefined when the netlink addon is unavailable. */
export function receivedRoutesExtension(logger: Logger, table?: number): ReceivedRoutesExtension | undefined {
  const sync = kernelRouteSync(logger, table);
  if (!sync) return undefined;
  return {
    name: 'receivedRoutes',
    onReceived: sync.update.bind(sync),
    apply: () => undefined, // policies reach the speaker through SessionPlan.receive
    status: () => ({ ...sync.status(), routes: sync.routes() }),
    stop: () => sync.stop(),
  };
}

/** A session as the BGP driver reports it (the speaker's status, with BFD facts when any). */
export type SessionStateSource = Pick<SessionStatus, 'peerAddress' | 'peerPort' | 'vrf' | 'state' | 'bfdProfile'> & { bfd?: { state: string } };

/** The BGPSessionState fields of one session. */
export function sessionStateOf(node: string, s: SessionStateSource): BGPSessionStateFields {
  return bgpSessionStateFields({
    node,
    peerAddress: s.peerAddress,
    vrf: s.vrf ?? '',
    state: s.state,
    bfdProfile: s.bfdProfile ?? (s.bfd ? 'bfd' : undefined),
    ...(s.bfd ? { bfdState: s.bfd.state } : {}),
  });
}

/** /status `extensions.bgpSessionStates`: the fields of every session of this node. */
export function sessionStatesExtension(node: string, sessions: () => readonly SessionStateSource[]): NodeExtension {
  return {
    name: 'bgpSessionStates',
    apply: () => undefined,
    status: () => sessions().map((s) => ({ ...sessionStateOf(node, s), port: s.peerPort })),
    stop: () => undefined,
  };
}

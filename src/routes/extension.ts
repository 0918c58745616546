// Received routes and BGPSessionState fields as NodeAgent extensions (src/node/types.ts
// NodeExtension), wired the same way by standalone and the Kubernetes speaker:
//   receivedRoutes   the kernel route sync (sync.ts): status under NodeStatus.extensions,
//                    every route we installed deleted when the agent stops — except on a
//                    graceful restart (the speaker wrote its restart marker): then they stay
//                    in the kernel and the next run adopts them until its restart time is over
//   bgpSessionStates the frr-k8s BGPSessionState fields of every session of this node
//                    (node, peer, vrf, bgpStatus, bfdStatus) for /status; the Kubernetes
//                    speaker also publishes them as objects (src/kube/sessionstates.ts)

import type { Logger } from 'pino';
import type { BGPSessionStateFields } from '../bgp/sessionstate.ts';
import { bgpSessionStateFields } from '../bgp/sessionstate.ts';
import type { SessionStatus } from '../bgp/speaker/index.ts';
import { pendingRestarts, readRestartMarker } from '../bgp/speaker/lifecycle.ts';
import type { NodeExtension } from '../node/types.ts';
import { ListShaper } from '../observability/statuslists.ts';
import type { KernelRouteSync, KernelSyncStatus } from './sync.ts';
import { kernelRouteSync } from './sync.ts';

export interface ReceivedRoutesExtension extends NodeExtension {
  /** Hand to the BGP speaker (SpeakerOptions.onReceived). */
  onReceived: KernelRouteSync['update'];
  /** With a ListShaper (/status): `routes` cut or left out as asked; `routeCount` counts them. */
  status(lists?: ListShaper): KernelSyncStatus & { routeCount: number; routes?: { prefix: string; nexthops: string[] }[] };
}

/**
 * The last deadline of a graceful restart in progress (the speaker's restart marker: stop time +
 * the restart time announced to each peer), or undefined when this is a normal start.
 */
export function gracefulRestartDeadline(restartMarker: string | undefined, now = Date.now()): number | undefined {
  if (restartMarker === undefined) return undefined;
  const deadlines = [...pendingRestarts(readRestartMarker(restartMarker).marker, now).values()];
  return deadlines.length > 0 ? Math.max(...deadlines) : undefined;
}

/**
 * The kernel route sync as an extension; undefined when the netlink addon is unavailable.
 * With the speaker's `restartMarker`: routes of a previous run that stopped for a graceful
 * restart are adopted (kept forwarding) instead of deleted, and a graceful stop leaves ours.
 */
export function receivedRoutesExtension(logger: Logger, table?: number, restartMarker?: string): ReceivedRoutesExtension | undefined {
  const keepUntil = gracefulRestartDeadline(restartMarker);
  const sync = kernelRouteSync(logger, table, keepUntil !== undefined ? { keepUntil } : {});
  if (!sync) return undefined;
  return {
    name: 'receivedRoutes',
    onReceived: sync.update.bind(sync),
    apply: () => undefined, // policies reach the speaker through SessionPlan.receive
    status: (lists = new ListShaper()) => {
      const st = sync.status();
      const routes = lists.list('routes', 'extensions.receivedRoutes.routes', st.installed, (n) => sync.routes(n));
      return { ...st, routeCount: st.installed, ...(routes !== undefined ? { routes } : {}) };
    },
    // our own sessions closing must not delete the routes before we know whether to keep them
    stopping: () => sync.freeze(),
    // the speaker stopped first: it wrote the marker iff its sessions are restarting gracefully
    stop: ({ withdraw }) => sync.stop({ keep: !withdraw && gracefulRestartDeadline(restartMarker) !== undefined }),
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

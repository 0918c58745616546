// The fields of frr-k8s' BGPSessionState (frrk8s.metallb.io/v1beta1) for one session, shared by
// the Kubernetes speaker (one object per node × peer) and standalone's /status. Pure.
//
//   node       this node's name
//   peer       the neighbor's address as written (e.g. "192.169.10.1"), or its interface
//   vrf        "" for the default VRF
//   bgpStatus  the RFC 4271 state name: Idle, Connect, Active, OpenSent, OpenConfirm, Established
//   bfdStatus  the BFD session state (Up, Down, Init, AdminDown; "Unavailable" when BFD cannot run
//              on this node), or "N/A" when there is no BFD session (no bfdProfile), as frr-k8s

import type { SessionState } from './session/types.ts';

export interface BGPSessionStateFields {
  node: string;
  peer: string;
  vrf: string;
  bgpStatus: string;
  bfdStatus: string;
}

/** frr-k8s' value when no BFD is configured on the neighbor. */
export const NO_BFD = 'N/A';

export function bgpSessionStateFields(s: {
  node: string;
  peerAddress: string;
  vrf: string;
  state: SessionState | undefined;
  bfdProfile: string | undefined;
  bfdState?: string;
}): BGPSessionStateFields {
  return {
    node: s.node,
    peer: s.peerAddress,
    vrf: s.vrf,
    bgpStatus: s.state ?? 'Idle',
    // a state is only shown when a BFD session reports one (never an invented "Down")
    bfdStatus: s.bfdProfile === undefined || s.bfdState === undefined ? NO_BFD : s.bfdState,
  };
}

// A resolved BGPPeer with MetalLB's defaults, shared by the allocator, speaker and standalone
// unit tests.

import type { Peer, SourceRef } from '../../../src/config/types.ts';
import { parseIP } from '../../../src/ip/index.ts';

/** A Peer at `address` (port 179, no multihop, default VRF, ...); `opts` overrides any field. */
export function makePeer(name: string, address: string, myASN: number, peerASN: number, source: SourceRef, opts: Partial<Peer> = {}): Peer {
  return {
    name,
    myASN,
    peerASN,
    address: parseIP(address),
    port: 179,
    ebgpMultiHop: false,
    nodeSelectors: [],
    vrf: '',
    enableGracefulRestart: false,
    disableMP: false,
    dualStackAddressFamily: false,
    source,
    ...opts,
  };
}

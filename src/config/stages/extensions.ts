// metallb-ts extensions of BGPPeer that MetalLB has no field for, written as annotations so
// that the object stays a valid MetalLB BGPPeer:
//   metallb-ts.io/passive: "true"                  wait for the router to connect (no connect out)
//   metallb-ts.io/graceful-restart-time: "300s"    restart time announced with enableGracefulRestart
// Unknown metallb-ts.io/ annotations are warnings (a typo would otherwise be silently ignored).
// Also here: the plain statements about BGPPeer fields this build cannot honour (vrf, interface).

import { parseGoDuration } from '../duration.ts';
import type { BGPPeerSpec } from '../schema.ts';
import type { Peer } from '../types.ts';
import { isRecord } from '../path.ts';
import { didYouMean, type Diags, type Item } from './item.ts';

export const ANN_PASSIVE = 'metallb-ts.io/passive';
export const ANN_GR_TIME = 'metallb-ts.io/graceful-restart-time';
const KNOWN = [ANN_PASSIVE, ANN_GR_TIME];

function annotations(item: Item<BGPPeerSpec>): Record<string, unknown> {
  const meta = item.lo.object['metadata'];
  const ann = isRecord(meta) ? meta['annotations'] : undefined;
  return isRecord(ann) ? ann : {};
}

export function applyPeerExtensions(d: Diags, item: Item<BGPPeerSpec>, peer: Peer): void {
  const ann = annotations(item);
  const at = (key: string): (string | number)[] => ['metadata', 'annotations', key];
  for (const [key, raw] of Object.entries(ann)) {
    if (!key.startsWith('metallb-ts.io/')) continue;
    if (!KNOWN.includes(key)) {
      d.warn(item, at(key), `unknown metallb-ts annotation "${key}": ignored${didYouMean(key, KNOWN)}`);
      continue;
    }
    const v = typeof raw === 'string' ? raw.trim() : String(raw);
    if (key === ANN_PASSIVE) {
      if (v !== 'true' && v !== 'false') d.at(item, at(key), `must be "true" or "false", got "${v}"`);
      else if (v === 'true') {
        if (!peer.address && peer.interface === undefined) continue;
        if (!peer.address) d.at(item, at(key), 'passive sessions need spec.peerAddress (the address the router connects from)');
        else peer.passive = true;
      }
    } else if (key === ANN_GR_TIME) {
      const ms = parseGoDuration(v);
      if (ms === undefined || ms % 1000 !== 0 || ms < 1000 || ms > 4095_000) {
        d.at(item, at(key), `must be a whole number of seconds between 1s and 4095s (Go duration, e.g. "300s"), got "${v}"`);
      } else {
        peer.gracefulRestartTime = ms / 1000;
        if (!peer.enableGracefulRestart) d.warn(item, at(key), 'has no effect without spec.enableGracefulRestart: true');
      }
    }
  }
  if (peer.interface !== undefined && peer.interface !== '' && peer.sourceAddress) {
    d.warn(
      item,
      ['spec', 'sourceAddress'],
      `ignored for an unnumbered peer: the session runs from the IPv6 link-local address of interface ${peer.interface}`,
      'unsupported-field',
    );
  }
  if (peer.vrf !== '') {
    d.warn(
      item,
      ['spec', 'vrf'],
      `VRF peers are not supported by this build of metallb-ts (no VRF device support): the session to this peer is not started; use a peer in the default VRF`,
      'unsupported-field',
    );
  }
}

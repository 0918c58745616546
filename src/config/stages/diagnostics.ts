// Stage "diagnostics": checks across kinds once every object is built (what no single stage
// can see alone).

import type { BFDProfile, BGPAdvertisement, L2Advertisement, Peer } from '../types.ts';
import type { BGPAdvertisementSpec, BGPPeerSpec } from '../schema.ts';
import type { Diags, Item } from './item.ts';
import type { PoolWork } from './pools.ts';

/**
 * Like MetalLB: BFD echo mode does not work for IPv6, so a peer whose BFDProfile enables echo
 * may not receive advertisements of a pool with IPv6 addresses.
 */
export function checkBFDEchoIPv6(
  d: Diags,
  peers: Peer[],
  peerItems: Item<BGPPeerSpec>[],
  bfds: BFDProfile[],
  advs: BGPAdvertisement[],
  pools: Map<string, PoolWork>,
): void {
  const echo = new Set(bfds.filter((b) => b.echoMode).map((b) => b.name));
  if (echo.size === 0) return;
  const itemOf = new Map(peerItems.map((it) => [it.name, it]));
  for (const p of peers) {
    if (p.bfdProfile === undefined || !echo.has(p.bfdProfile)) continue;
    for (const a of advs) {
      if (a.peers.length > 0 && !a.peers.includes(p.name)) continue;
      const v6 = a.pools.find((pn) => pools.get(pn)?.pool.ranges.some((r) => r.family === 6));
      if (v6 === undefined) continue;
      const it = itemOf.get(p.name);
      if (it) {
        d.at(it, ['spec', 'bfdProfile'], `BFDProfile/${p.bfdProfile} has echoMode, which does not work over IPv6, but this peer receives IPv6 routes of IPAddressPool/${v6} (BGPAdvertisement/${a.name})`);
      }
      break;
    }
  }
}

export interface Built {
  pools: Map<string, PoolWork>;
  peers: Peer[];
  peerItems: Item<BGPPeerSpec>[];
  bfdProfiles: BFDProfile[];
  bgpAdvertisements: BGPAdvertisement[];
  bgpItems: Item<BGPAdvertisementSpec>[];
  l2Advertisements: L2Advertisement[];
}

/** The stage: checks across kinds. */
export function crossChecks(d: Diags, b: Built): void {
  checkBFDEchoIPv6(d, b.peers, b.peerItems, b.bfdProfiles, b.bgpAdvertisements, b.pools);
  checkAddressFamilies(d, b);
  // pools that nothing announces
  const announced = new Set<string>();
  for (const a of b.bgpAdvertisements) for (const p of a.pools) announced.add(p);
  for (const a of b.l2Advertisements) for (const p of a.pools) announced.add(p);
  for (const [name, w] of b.pools) {
    if (!announced.has(name)) d.warn(w.item, ['metadata', 'name'], 'pool is not announced by any BGPAdvertisement or L2Advertisement');
  }
}

/** The address families a session carries: its own, and the other one with dualStackAddressFamily. */
function familiesOf(p: Peer): Set<4 | 6> {
  // an unnumbered (interface) session is enabled for both families, as in MetalLB/frr-k8s
  if (!p.address || p.dualStackAddressFamily) return new Set([4, 6]);
  return new Set([p.address.family]);
}

/**
 * A BGPAdvertisement whose pool has addresses of a family that none of its sessions carries
 * (IPv6 to IPv4-only sessions without dualStackAddressFamily, or the reverse): those routes go
 * nowhere. A warning naming the pool and the sessions.
 */
function checkAddressFamilies(d: Diags, b: Built): void {
  const itemOf = new Map(b.bgpItems.map((it) => [it.name, it]));
  for (const a of b.bgpAdvertisements) {
    const it = itemOf.get(a.name);
    if (!it) continue;
    const targets = a.peers.length > 0 ? b.peers.filter((p) => a.peers.includes(p.name)) : b.peers;
    if (targets.length === 0) continue;
    const carried = new Set<4 | 6>();
    for (const p of targets) for (const f of familiesOf(p)) carried.add(f);
    for (const pn of a.pools) {
      const pool = b.pools.get(pn)?.pool;
      if (!pool) continue;
      for (const fam of [4, 6] as const) {
        if (carried.has(fam) || !pool.ranges.some((r) => r.family === fam)) continue;
        const other = fam === 6 ? 4 : 6;
        const names = targets.map((p) => `BGPPeer/${p.name}`).join(', ');
        const field = it.spec.ipAddressPools?.includes(pn) ? ['spec', 'ipAddressPools', it.spec.ipAddressPools.indexOf(pn)] : ['spec'];
        d.warn(
          it,
          field,
          `the IPv${fam} addresses of IPAddressPool/${pn} go nowhere: ${names} ${targets.length > 1 ? 'are' : 'is'} IPv${other}-only ` +
            `(an IPv${other} session carries IPv${fam} routes only with dualStackAddressFamily: true)`,
          'address-family',
        );
      }
    }
  }
}

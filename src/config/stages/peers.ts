// Stage "peers": BGPPeers and BFDProfiles, each checked alone and then against the peers that
// can run on the same nodes.

import { tryParseIP, type IP } from '../../ip/index.ts';
import type { Node } from '../../model/objects.ts';
import { parseGoDuration } from '../duration.ts';
import type { FieldPath } from '../path.ts';
import type { BFDProfileSpec, BGPPeerSpec } from '../schema.ts';
import type { BFDProfile, Peer, SourceRef } from '../types.ts';
import { canonicalJSON, checkDuplicateNames, didYouMean, isBroken, isDamaged, type Ctx, type Diags, type Item, type LabelIndex, type Parsed } from './item.ts';
import { checkSelectors, nodesWarning } from './selectors.ts';
import { applyPeerExtensions } from './extensions.ts';
import { checkPasswordSecret } from './secrets.ts';

/** A BFD profile with MetalLB's defaults for what `s` leaves unset. */
export function bfdProfileFrom(name: string, s: Omit<BFDProfileSpec, 'name'>, source: SourceRef): BFDProfile {
  return {
    name,
    receiveInterval: s.receiveInterval ?? 300,
    transmitInterval: s.transmitInterval ?? 300,
    detectMultiplier: s.detectMultiplier ?? 3,
    echoInterval: s.echoInterval ?? 50,
    echoMode: s.echoMode ?? false,
    passiveMode: s.passiveMode ?? false,
    minimumTtl: s.minimumTtl ?? 254,
    source,
  };
}

export function buildBFD(d: Diags, items: Item<BFDProfileSpec>[]): BFDProfile[] {
  return items.map((item) => {
    // BFD runs in asynchronous mode only (src/bfd, docs/bfd.md): echo is accepted and ignored.
    if (item.spec.echoMode === true) d.warn(item, ['spec', 'echoMode'], ECHO_IGNORED);
    return bfdProfileFrom(item.name, item.spec, item.source);
  });
}

export const ECHO_IGNORED = 'BFD echo mode is not supported by metallb-ts (asynchronous mode only); echoMode and echoInterval are ignored';

export function seconds<S>(d: Diags, item: Item<S>, path: FieldPath, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseGoDuration(v);
  if (ms === undefined) {
    d.at(item, path, `invalid duration "${v}" (Go syntax, e.g. "90s", "1m30s")`);
    return undefined;
  }
  if (ms % 1000 !== 0) {
    // Like MetalLB: BGP timers are whole seconds; a fraction is truncated (not an error).
    const whole = Math.floor(ms / 1000);
    d.warn(item, path, `"${v}" is not a whole number of seconds; ${whole}s is used`);
    return whole;
  }
  return ms / 1000;
}

/**
 * holdTime / keepaliveTime (Go durations) at `base`.holdTime / `base`.keepaliveTime, as MetalLB
 * reads them: one given derives the other (keepalive = hold / 3, hold = keepalive * 3); hold 0
 * or >= 3 s; keepalive <= hold. Sets them on `peer`.
 */
export function sessionTimers<S>(d: Diags, item: Item<S>, base: FieldPath, holdText: string | undefined, kaText: string | undefined, peer: Peer): void {
  let hold = seconds(d, item, [...base, 'holdTime'], holdText);
  let ka = seconds(d, item, [...base, 'keepaliveTime'], kaText);
  if (hold !== undefined && ka === undefined) ka = Math.floor(hold / 3);
  else if (ka !== undefined && hold === undefined && holdText === undefined) hold = ka * 3;
  if (hold !== undefined && hold !== 0 && hold < 3) d.at(item, [...base, holdText !== undefined ? 'holdTime' : 'keepaliveTime'], `hold time ${hold}s must be 0 or at least 3s`);
  else if (hold !== undefined && ka !== undefined && ka > hold) d.at(item, [...base, 'keepaliveTime'], `keepalive time ${ka}s must not exceed hold time ${hold}s`);
  if (hold !== undefined) peer.holdTime = hold;
  if (ka !== undefined) peer.keepaliveTime = ka;
}

export function parseAddr<S>(d: Diags, item: Item<S>, field: string, v: string | undefined): IP | undefined {
  if (v === undefined) return undefined;
  const ip = tryParseIP(v);
  if (!ip) d.at(item, ['spec', field], `invalid IP address "${v}"`);
  return ip;
}

export function buildPeers(d: Diags, items: Item<BGPPeerSpec>[], bfds: Set<string>, ctx: Ctx): Peer[] {
  const opts = ctx.opts;
  const peers: Peer[] = [];
  for (const item of items) {
    const s = item.spec;
    const peer: Peer = {
      name: item.name,
      myASN: s.myASN,
      peerASN: s.peerASN ?? 0,
      port: s.peerPort ?? 179,
      ebgpMultiHop: s.ebgpMultiHop ?? false,
      nodeSelectors: checkSelectors(d, item, ['spec', 'nodeSelectors'], s.nodeSelectors),
      vrf: s.vrf ?? '',
      enableGracefulRestart: s.enableGracefulRestart ?? false,
      disableMP: s.disableMP ?? false,
      dualStackAddressFamily: s.dualStackAddressFamily ?? false,
      source: item.source,
    };
    if (s.myASN === 0) d.at(item, ['spec', 'myASN'], 'must not be 0');
    if (s.peerASN !== undefined && s.dynamicASN !== undefined) d.at(item, ['spec', 'dynamicASN'], 'only one of peerASN and dynamicASN may be set');
    else if (s.peerASN === undefined && s.dynamicASN === undefined) {
      if (!item.damaged?.has('dynamicASN')) d.at(item, ['spec', 'peerASN'], 'one of peerASN or dynamicASN is required');
    }
    else if (s.peerASN === 0) d.at(item, ['spec', 'peerASN'], 'must not be 0');
    if (s.dynamicASN !== undefined) peer.dynamicASN = s.dynamicASN;
    if (s.localASN !== undefined) {
      if (s.localASN === 0) d.at(item, ['spec', 'localASN'], 'must not be 0');
      peer.localASN = s.localASN;
    }
    if (s.peerAddress !== undefined && s.interface !== undefined) d.at(item, ['spec', 'interface'], 'only one of peerAddress and interface may be set');
    else if (s.peerAddress === undefined && s.interface === undefined) {
      if (!item.damaged?.has('interface')) d.at(item, ['spec', 'peerAddress'], 'one of peerAddress or interface is required');
    }
    const addr = parseAddr(d, item, 'peerAddress', s.peerAddress);
    if (addr) peer.address = addr;
    if (s.interface !== undefined) {
      if (s.interface === '') d.at(item, ['spec', 'interface'], 'must not be empty');
      peer.interface = s.interface;
    }
    const src = parseAddr(d, item, 'sourceAddress', s.sourceAddress);
    if (src) {
      peer.sourceAddress = src;
      if (addr && addr.family !== src.family) d.at(item, ['spec', 'sourceAddress'], `IPv${src.family} source address for an IPv${addr.family} peer address`);
      if (ctx.nodes) {
        const n = peer.nodeSelectors.length === 0 ? (opts.nodes ?? []).length : new Set(peer.nodeSelectors.flatMap((sel) => ctx.nodes?.match(sel) ?? [])).size;
        if (n > 1) d.warn(item, ['spec', 'sourceAddress'], `set on a peer that selects ${n} nodes; it should select one node`);
      } else if (peer.nodeSelectors.length === 0) {
        d.warn(item, ['spec', 'sourceAddress'], 'set on a peer without nodeSelectors (every node); it should select one node');
      }
    }
    if (s.routerID !== undefined) {
      const rid = tryParseIP(s.routerID);
      if (!rid || rid.family !== 4) d.at(item, ['spec', 'routerID'], `invalid BGP identifier "${s.routerID}": must be an IPv4 address`);
      else if (rid.value === 0n) d.at(item, ['spec', 'routerID'], 'invalid BGP identifier 0.0.0.0');
      else peer.routerID = rid;
    }
    sessionTimers(d, item, ['spec'], s.holdTime, s.keepaliveTime, peer);
    if (s.connectTime !== undefined) {
      const ms = parseGoDuration(s.connectTime);
      if (ms === undefined) d.at(item, ['spec', 'connectTime'], `invalid duration "${s.connectTime}" (Go syntax, e.g. "10s")`);
      else if (ms < 1000 || ms > 65535000) d.at(item, ['spec', 'connectTime'], `must be between 1s and 65535s, got ${s.connectTime}`);
      else peer.connectTime = ms;
    }
    const ibgp = s.dynamicASN === 'internal' || (s.peerASN !== undefined && s.peerASN === (s.localASN ?? s.myASN));
    if (s.ebgpMultiHop && ibgp) d.at(item, ['spec', 'ebgpMultiHop'], 'ebgpMultiHop is only valid for eBGP peers; this peer is iBGP (same AS on both sides)');
    if (s.password !== undefined) peer.password = s.password;
    if (s.passwordSecret !== undefined) {
      const ns = s.passwordSecret.namespace ?? item.namespace ?? 'metallb-system';
      if (s.password !== undefined) d.at(item, ['spec', 'passwordSecret'], 'only one of password and passwordSecret may be set');
      if (s.passwordSecret.name === '') d.at(item, ['spec', 'passwordSecret', 'name'], 'must not be empty');
      peer.passwordSecret = { name: s.passwordSecret.name, namespace: ns };
      checkPasswordSecret(d, item, ['spec', 'passwordSecret'], opts.secrets, ns, s.passwordSecret.name);
    }
    if (s.bfdProfile !== undefined) {
      if (!bfds.has(s.bfdProfile) && !isBroken(ctx, 'BFDProfile', s.bfdProfile)) d.at(item, ['spec', 'bfdProfile'], `unknown BFDProfile "${s.bfdProfile}"${didYouMean(s.bfdProfile, [...bfds])}`);
      peer.bfdProfile = s.bfdProfile;
    }
    nodesWarning(d, item, ['spec', 'nodeSelectors'], peer.nodeSelectors, ctx.nodes);
    applyPeerExtensions(d, item, peer);
    peers.push(peer);
  }
  // Peers that can run on the same node must agree on myASN and routerID per VRF and must not
  // duplicate address/port. Two peers may share a node unless both have node selectors and
  // those differ (we cannot know without the nodes, so distinct selectors count as disjoint).
  const itemOf = new Map(items.map((it) => [it.name, it]));
  // a peer with damaged fields (already reported) is not compared with the others
  const comparable = peers.filter((p) => !isDamaged(itemOf.get(p.name)));
  if (ctx.nodes) {
    checkSharedNodesKnown(d, comparable, itemOf, ctx.nodes, opts.nodes ?? []);
    return peers;
  }
  const byVrf = new Map<string, Map<string, Peer[]>>();
  for (const p of comparable) {
    const groups = byVrf.get(p.vrf) ?? new Map<string, Peer[]>();
    byVrf.set(p.vrf, groups);
    const key = p.nodeSelectors.length === 0 ? '' : canonicalJSON(p.nodeSelectors);
    const g = groups.get(key) ?? [];
    g.push(p);
    groups.set(key, g);
  }
  for (const [vrf, groups] of byVrf) {
    const global = groups.get('') ?? [];
    const vrfText = vrf === '' ? 'the default VRF' : `VRF "${vrf}"`;
    for (const [key, members] of groups) {
      const scope = key === '' ? members : [...global, ...members];
      const ref = scope[0];
      if (!ref) continue;
      const seen = new Map<string, Peer>();
      for (const p of scope) {
        const it = itemOf.get(p.name);
        if (!it) continue;
        if (p !== ref) {
          if (p.myASN !== ref.myASN) d.at(it, ['spec', 'myASN'], `myASN ${p.myASN} differs from myASN ${ref.myASN} of BGPPeer/${ref.name} on the same nodes in ${vrfText}`);
          const r1 = p.routerID ? p.routerID.value : undefined;
          const r2 = ref.routerID ? ref.routerID.value : undefined;
          if (r1 !== r2) d.at(it, ['spec', 'routerID'], `routerID differs from BGPPeer/${ref.name} on the same nodes in ${vrfText}`);
        }
        const addrKey = p.address ? `${p.address.family}:${p.address.value}:${p.port}` : `if:${p.interface ?? ''}:${p.port}`;
        const dup = seen.get(addrKey);
        if (dup) d.at(it, ['spec', p.address ? 'peerAddress' : 'interface'], `same address and port as BGPPeer/${dup.name} on the same nodes in ${vrfText}`);
        else seen.set(addrKey, p);
      }
    }
  }
  return peers;
}

export function comparePeers(d: Diags, it: Item<BGPPeerSpec>, p: Peer, ref: Peer, vrfText: string, asnAndID: boolean): void {
  if (asnAndID) {
    if (p.myASN !== ref.myASN) d.at(it, ['spec', 'myASN'], `myASN ${p.myASN} differs from myASN ${ref.myASN} of BGPPeer/${ref.name} on the same nodes in ${vrfText}`);
    const r1 = p.routerID ? p.routerID.value : undefined;
    const r2 = ref.routerID ? ref.routerID.value : undefined;
    if (r1 !== r2) d.at(it, ['spec', 'routerID'], `routerID differs from BGPPeer/${ref.name} on the same nodes in ${vrfText}`);
  }
  const same = p.address && ref.address ? p.address.family === ref.address.family && p.address.value === ref.address.value : !p.address && !ref.address && p.interface === ref.interface;
  if (same && p.port === ref.port) d.at(it, ['spec', p.address ? 'peerAddress' : 'interface'], `same address and port as BGPPeer/${ref.name} on the same nodes in ${vrfText}`);
}

/** With the Nodes known, two peers share a node when their selected node sets intersect. */
export function checkSharedNodesKnown(d: Diags, peers: Peer[], itemOf: Map<string, Item<BGPPeerSpec>>, index: LabelIndex<Node>, nodes: Node[]): void {
  const sets = peers.map((p) => new Set((p.nodeSelectors.length === 0 ? nodes : p.nodeSelectors.flatMap((sel) => index.match(sel))).map((n) => n.metadata.name)));
  for (let j = 0; j < peers.length; j++) {
    const p = peers[j] as Peer;
    const sj = sets[j] as Set<string>;
    const it = itemOf.get(p.name);
    if (!it || sj.size === 0) continue;
    let first = true;
    for (let i = 0; i < j; i++) {
      const q = peers[i] as Peer;
      if (q.vrf !== p.vrf) continue;
      const si = sets[i] as Set<string>;
      let shared = false;
      for (const n of si) {
        if (sj.has(n)) {
          shared = true;
          break;
        }
      }
      if (!shared) continue;
      comparePeers(d, it, p, q, p.vrf === '' ? 'the default VRF' : `VRF "${p.vrf}"`, first);
      first = false;
    }
  }
}

/** The stage: BFDProfiles first (peers name them), then BGPPeers. */
export function buildPeersStage(d: Diags, parsed: Parsed, ctx: Ctx): { peers: Peer[]; peerItems: Item<BGPPeerSpec>[]; bfdProfiles: BFDProfile[] } {
  const peerItems = checkDuplicateNames(d, parsed.peers, 'BGPPeer');
  const bfdProfiles = buildBFD(d, checkDuplicateNames(d, parsed.bfds, 'BFDProfile'));
  const peers = buildPeers(d, peerItems, new Set(bfdProfiles.map((b) => b.name)), ctx);
  return { peers, peerItems, bfdProfiles };
}

// Stage "frr-k8s": FRRConfiguration objects (frrk8s.metallb.io/v1beta1), the BGP subset, merged
// with the BGPPeers the way frr-k8s merges MetalLB's configuration with its own: the same router
// ASN (+ VRF) and neighbor address is ONE session, to which the FRRConfiguration adds its receive
// policy; a neighbor only in an FRRConfiguration is a session of its own. What metallb-ts cannot
// honour (raw FRR configuration, VRFs, extra prefixes to advertise) is a warning naming the field.

import { bits, formatIP, ipEquals, tryParseCIDR, tryParseIP, type IP, type Prefix } from '../../ip/index.ts';
import type { LabelSelector } from '../../model/selector.ts';
import { parseGoDuration } from '../duration.ts';
import type { FRRConfigurationSpec, FRRNeighborSpec } from '../frrschema.ts';
import { isRecord, type FieldPath } from '../path.ts';
import { DEFAULT_PREFIX_LIMIT } from '../receive.ts';
import type { BFDProfile, Peer, ReceivePolicy, ReceivePrefix } from '../types.ts';
import { canonicalJSON, checkDuplicateNames, type Ctx, type Diags, type Item } from './item.ts';
import { bfdProfileFrom, ECHO_IGNORED, sessionTimers } from './peers.ts';
import { checkSelector } from './selectors.ts';
import { checkPasswordSecret } from './secrets.ts';

/** Annotation of an FRRConfiguration: the prefix limit of every receive policy it defines. */
export const PREFIX_LIMIT_ANNOTATION = 'metallb-ts/max-prefixes';

type FRRItem = Item<FRRConfigurationSpec>;

const UNSUPPORTED = 'unsupported-field' as const;

/** Where a peer created from an FRRConfiguration neighbor came from (for merging the next ones). */
interface Made {
  item: FRRItem;
  path: FieldPath;
}

/**
 * Adds the FRRConfigurations to `peers` (receive policies; new sessions) and `bfdProfiles`
 * (their spec.bgp.bfdProfiles). Returns nothing: both lists are extended in place.
 */
export function buildFRRStage(d: Diags, items: FRRItem[], peers: Peer[], bfdProfiles: BFDProfile[], ctx: Ctx): void {
  const made = new Map<Peer, Made>();
  const names = new Set(peers.map((p) => p.name));
  for (const item of checkDuplicateNames(d, items, 'FRRConfiguration')) {
    const s = item.spec;
    if (s.raw !== undefined) d.warn(item, ['spec', 'raw'], 'raw FRR configuration is not used by metallb-ts (it runs its own BGP speaker, not FRR); ignored', UNSUPPORTED);
    const nodeSelectors: LabelSelector[] = s.nodeSelector ? [checkSelector(d, item, ['spec', 'nodeSelector'], s.nodeSelector)] : [];
    const limit = prefixLimit(d, item);
    (s.bgp?.bfdProfiles ?? []).forEach((b, i) => {
      if (b.echoMode === true) d.warn(item, ['spec', 'bgp', 'bfdProfiles', i, 'echoMode'], ECHO_IGNORED, UNSUPPORTED);
      addBFD(d, item, ['spec', 'bgp', 'bfdProfiles', i], bfdProfileFrom(b.name, b, item.source), bfdProfiles);
    });
    const bfdNames = new Set(bfdProfiles.map((b) => b.name));
    (s.bgp?.routers ?? []).forEach((r, i) => {
      const rp: FieldPath = ['spec', 'bgp', 'routers', i];
      if (r.vrf !== undefined && r.vrf !== '') {
        d.warn(item, [...rp, 'vrf'], `VRF "${r.vrf}": metallb-ts runs BGP sessions in the default VRF only; this router and its neighbors are ignored`, UNSUPPORTED);
        return;
      }
      if (r.asn === 0) d.at(item, [...rp, 'asn'], 'must not be 0');
      let routerID: IP | undefined;
      if (r.id !== undefined && r.id !== '') {
        routerID = tryParseIP(r.id);
        if (!routerID || routerID.family !== 4 || routerID.value === 0n) {
          d.at(item, [...rp, 'id'], `invalid BGP identifier "${r.id}": must be a non-zero IPv4 address`);
          routerID = undefined;
        }
      }
      if ((r.prefixes ?? []).length > 0) {
        d.warn(item, [...rp, 'prefixes'], 'metallb-ts announces the Service IPs chosen by BGPAdvertisements; other prefixes are not announced (ignored)', UNSUPPORTED);
      }
      if ((r.imports ?? []).length > 0) d.warn(item, [...rp, 'imports'], 'VRF route leaking is not supported by metallb-ts; ignored', UNSUPPORTED);
      if (r.evpn !== undefined) d.warn(item, [...rp, 'evpn'], EVPN_UNSUPPORTED + '; the EVPN configuration is ignored', UNSUPPORTED);
      (r.neighbors ?? []).forEach((n, j) => {
        const np: FieldPath = [...rp, 'neighbors', j];
        if (!unicastNeighbor(d, item, np, n)) return;
        const session = neighborPeer(d, item, np, n, r.asn, routerID, bfdNames, nodeSelectors, ctx);
        const policy = receivePolicy(d, item, [...np, 'toReceive'], n, limit, nodeSelectors);
        if (!session) return;
        // the same router ASN + neighbor as a BGPPeer or an earlier FRRConfiguration: one session
        const same = peers.find((p) => sameSession(p, session));
        if (same) {
          mergeInto(d, item, np, n, same, session, made.get(same));
          if (policy) (same.receive ??= []).push(policy);
          return;
        }
        session.name = uniqueName(`${item.name}-${(session.address ? formatIP(session.address) : (session.interface ?? 'neighbor')).replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`, names);
        if (policy) session.receive = [policy];
        peers.push(session);
        made.set(session, { item, path: np });
      });
    });
  }
}

const EVPN_UNSUPPORTED = 'metallb-ts does not speak L2VPN EVPN (its BGP speaker carries IPv4/IPv6 unicast)';

/**
 * `addressFamilies` (frr-k8s default: unicast). A neighbor for EVPN only is not a session here
 * (a unicast session would announce Service IPs to a router that was meant to get none); with
 * unicast and evpn, the unicast part runs.
 */
function unicastNeighbor(d: Diags, item: FRRItem, np: FieldPath, n: FRRNeighborSpec): boolean {
  const afs = n.addressFamilies ?? [];
  if (!afs.includes('evpn')) return true;
  if (!afs.includes('unicast')) {
    d.warn(item, [...np, 'addressFamilies'], `${EVPN_UNSUPPORTED}: this EVPN-only neighbor is ignored (no session)`, UNSUPPORTED);
    return false;
  }
  d.warn(item, [...np, 'addressFamilies'], `${EVPN_UNSUPPORTED}: the session carries unicast only`, UNSUPPORTED);
  return true;
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

function sameSession(p: Peer, q: Peer): boolean {
  if (p.vrf !== q.vrf || p.myASN !== q.myASN) return false;
  if (p.address && q.address) return ipEquals(p.address, q.address);
  return !p.address && !q.address && p.interface === q.interface;
}

function prefixLimit(d: Diags, item: FRRItem): number {
  const meta = item.lo.object['metadata'];
  const ann = isRecord(meta) && isRecord(meta['annotations']) ? meta['annotations'][PREFIX_LIMIT_ANNOTATION] : undefined;
  if (ann === undefined) return DEFAULT_PREFIX_LIMIT;
  if (typeof ann !== 'string' || !/^[1-9][0-9]{0,8}$/.test(ann)) {
    d.at(item, ['metadata', 'annotations', PREFIX_LIMIT_ANNOTATION], `must be a positive whole number of prefixes, got ${JSON.stringify(ann)}`);
    return DEFAULT_PREFIX_LIMIT;
  }
  return Number(ann);
}

function addBFD(d: Diags, item: FRRItem, path: FieldPath, b: BFDProfile, all: BFDProfile[]): void {
  if (b.name === '') {
    d.at(item, [...path, 'name'], 'must not be empty');
    return;
  }
  const prev = all.find((x) => x.name === b.name);
  if (!prev) {
    all.push(b);
    return;
  }
  const { source: _a, ...x } = prev;
  const { source: _b, ...y } = b;
  if (canonicalJSON(x) !== canonicalJSON(y)) {
    d.at(item, [...path, 'name'], `BFD profile "${b.name}" differs from the one of ${prev.source.kind}/${prev.source.name} (one name, one profile)`);
  }
}

/** The session a neighbor describes (its name is set by the caller), or undefined on errors. */
function neighborPeer(
  d: Diags,
  item: FRRItem,
  np: FieldPath,
  n: FRRNeighborSpec,
  routerASN: number,
  routerID: IP | undefined,
  bfdNames: Set<string>,
  nodeSelectors: LabelSelector[],
  ctx: Ctx,
): Peer | undefined {
  const errorsBefore = d.errors.length;
  const peer: Peer = {
    name: '',
    myASN: routerASN,
    peerASN: n.asn ?? 0,
    port: n.port ?? 179,
    ebgpMultiHop: n.ebgpMultiHop ?? false,
    nodeSelectors,
    vrf: '',
    enableGracefulRestart: n.enableGracefulRestart ?? false,
    disableMP: false,
    dualStackAddressFamily: n.dualStackAddressFamily ?? false,
    source: item.source,
  };
  if (routerID) peer.routerID = routerID;
  if (n.asn !== undefined && n.dynamicASN !== undefined) d.at(item, [...np, 'dynamicASN'], 'only one of asn and dynamicASN may be set');
  else if (n.asn === undefined && n.dynamicASN === undefined) d.at(item, [...np, 'asn'], 'one of asn or dynamicASN is required');
  else if (n.asn === 0) d.at(item, [...np, 'asn'], 'must not be 0');
  if (n.dynamicASN !== undefined) peer.dynamicASN = n.dynamicASN;
  if (n.address !== undefined && n.interface !== undefined) d.at(item, [...np, 'interface'], 'only one of address and interface may be set');
  else if (n.address === undefined && n.interface === undefined) d.at(item, [...np, 'address'], 'one of address or interface is required');
  if (n.address !== undefined) {
    const ip = tryParseIP(n.address);
    if (!ip) d.at(item, [...np, 'address'], `invalid IP address "${n.address}"`);
    else peer.address = ip;
  }
  if (n.interface !== undefined) {
    if (n.interface === '') d.at(item, [...np, 'interface'], 'must not be empty');
    peer.interface = n.interface;
  }
  if (n.sourceaddress !== undefined && n.sourceaddress !== '') {
    const src = tryParseIP(n.sourceaddress);
    if (!src) d.warn(item, [...np, 'sourceaddress'], `"${n.sourceaddress}" is not an IP address: an interface name as source is not supported by metallb-ts; ignored`, UNSUPPORTED);
    else if (peer.address && src.family !== peer.address.family) d.at(item, [...np, 'sourceaddress'], `IPv${src.family} source address for an IPv${peer.address.family} neighbor address`);
    else if (!peer.address && peer.interface !== undefined) d.warn(item, [...np, 'sourceaddress'], `ignored for an unnumbered neighbor: the session runs from the IPv6 link-local address of interface ${peer.interface}`, UNSUPPORTED);
    else peer.sourceAddress = src;
  }
  sessionTimers(d, item, np, n.holdTime, n.keepaliveTime, peer);
  if (n.connectTime !== undefined) {
    const ms = parseGoDuration(n.connectTime);
    if (ms === undefined || ms < 1000 || ms > 65535000) d.at(item, [...np, 'connectTime'], `must be a duration between 1s and 65535s, got "${n.connectTime}"`);
    else peer.connectTime = ms;
  }
  const ibgp = n.dynamicASN === 'internal' || n.asn === routerASN;
  if (peer.ebgpMultiHop && ibgp) d.at(item, [...np, 'ebgpMultiHop'], 'ebgpMultiHop is only valid for eBGP neighbors; this one is iBGP (same AS on both sides)');
  if (n.localASN !== undefined) {
    // frr-k8s: `local-as ASN no-prepend replace-as`, rejected on iBGP sessions
    if (ibgp) d.at(item, [...np, 'localASN'], 'localASN is only valid for eBGP neighbors; this one is iBGP (same AS as the router)');
    else peer.localASN = n.localASN;
  }
  if (n.password !== undefined && n.passwordSecret !== undefined) d.at(item, [...np, 'passwordSecret'], 'only one of password and passwordSecret may be set');
  if (n.password !== undefined) peer.password = n.password;
  if (n.passwordSecret !== undefined) {
    const name = n.passwordSecret.name ?? '';
    const ns = n.passwordSecret.namespace ?? item.namespace ?? 'metallb-system';
    if (name === '') d.at(item, [...np, 'passwordSecret', 'name'], 'required field is missing');
    else {
      peer.passwordSecret = { name, namespace: ns };
      checkPasswordSecret(d, item, [...np, 'passwordSecret'], ctx.opts.secrets, ns, name);
    }
  }
  if (n.bfdProfile !== undefined && n.bfdProfile !== '') {
    if (!bfdNames.has(n.bfdProfile)) d.at(item, [...np, 'bfdProfile'], `unknown BFD profile "${n.bfdProfile}" (define it in spec.bgp.bfdProfiles or as a BFDProfile)`);
    peer.bfdProfile = n.bfdProfile;
  }
  if (n.toAdvertise !== undefined) {
    const ta = n.toAdvertise;
    (ta.allowed?.prefixes ?? []).forEach((p, k) => {
      if (!tryParseCIDR(p)) d.at(item, [...np, 'toAdvertise', 'allowed', 'prefixes', k], `invalid CIDR "${p}"`);
    });
    const nextHop = ta.nextHop?.ipv4 !== undefined || ta.nextHop?.ipv6 !== undefined;
    if ((ta.allowed?.prefixes ?? []).length > 0 || ta.allowed?.mode === 'all' || (ta.withLocalPref ?? []).length > 0 || (ta.withCommunity ?? []).length > 0 || nextHop) {
      d.warn(item, [...np, 'toAdvertise'], 'metallb-ts announces to this neighbor what the BGPAdvertisements say; toAdvertise is not used (ignored)', UNSUPPORTED);
    }
  }
  return d.errors.length === errorsBefore ? peer : undefined;
}

/** The receive policy of a neighbor (`toReceive.allowed`), or undefined when it receives nothing. */
function receivePolicy(d: Diags, item: FRRItem, path: FieldPath, n: FRRNeighborSpec, prefixLimit: number, nodeSelectors: LabelSelector[]): ReceivePolicy | undefined {
  const allowed = n.toReceive?.allowed;
  if (!allowed) return undefined;
  const mode = allowed.mode ?? 'filtered';
  const list = allowed.prefixes ?? [];
  if (mode === 'all') {
    if (list.length > 0) d.warn(item, [...path, 'allowed', 'prefixes'], 'not used with mode "all" (every prefix is received)');
    return { mode, prefixes: [], prefixLimit, nodeSelectors, source: item.source };
  }
  const prefixes: ReceivePrefix[] = [];
  list.forEach((sel, k) => {
    const pp: FieldPath = [...path, 'allowed', 'prefixes', k];
    if (sel.prefix === undefined) {
      d.at(item, [...pp, 'prefix'], 'required field is missing');
      return;
    }
    const c = tryParseCIDR(sel.prefix);
    if (!c) {
      d.at(item, [...pp, 'prefix'], `invalid CIDR "${sel.prefix}"`);
      return;
    }
    const r = prefixRange(c.prefix, sel.ge, sel.le);
    if (typeof r === 'string') d.at(item, pp, r);
    else prefixes.push(r);
  });
  if (prefixes.length === 0) return undefined;
  return { mode, prefixes, prefixLimit, nodeSelectors, source: item.source };
}

/** `prefix ge G le L` as FRR's prefix lists read it (len < ge <= le <= family bits). */
export function prefixRange(prefix: Prefix, ge: number | undefined, le: number | undefined): ReceivePrefix | string {
  const max = bits(prefix.family);
  const len = prefix.length;
  if (ge !== undefined && (ge <= len || ge > max)) return `ge ${ge} must be longer than the prefix length ${len} and at most ${max}`;
  if (le !== undefined && (le <= len || le > max)) return `le ${le} must be longer than the prefix length ${len} and at most ${max}`;
  if (ge !== undefined && le !== undefined && ge > le) return `ge ${ge} must not exceed le ${le}`;
  return { prefix, minLength: ge ?? len, maxLength: le ?? (ge !== undefined ? max : len) };
}

/** An FRRConfiguration neighbor that is also a BGPPeer (or an earlier neighbor): must not contradict it. */
function mergeInto(d: Diags, item: FRRItem, np: FieldPath, n: FRRNeighborSpec, same: Peer, mine: Peer, origin: Made | undefined): void {
  const other = origin ? `${origin.item.kind}/${origin.item.name}` : `BGPPeer/${same.name}`;
  const clash = (field: string, a: unknown, b: unknown): void => {
    d.at(item, [...np, field], `${String(a)} differs from ${String(b)} of ${other}: the same router ASN and neighbor address are one session`);
  };
  if (n.asn !== undefined && same.dynamicASN === undefined && mine.peerASN !== same.peerASN) clash('asn', mine.peerASN, same.peerASN);
  if (n.dynamicASN !== undefined && mine.dynamicASN !== same.dynamicASN) clash('dynamicASN', mine.dynamicASN, same.dynamicASN ?? 'peerASN');
  if (n.port !== undefined && mine.port !== same.port) clash('port', mine.port, same.port);
  if (n.localASN !== undefined && mine.localASN !== same.localASN) clash('localASN', mine.localASN, same.localASN ?? 'the router ASN');
  if (n.holdTime !== undefined && mine.holdTime !== same.holdTime) clash('holdTime', `${mine.holdTime ?? '?'}s`, `${same.holdTime ?? 'the default'}s`);
  if (n.keepaliveTime !== undefined && mine.keepaliveTime !== same.keepaliveTime) clash('keepaliveTime', `${mine.keepaliveTime ?? '?'}s`, `${same.keepaliveTime ?? 'the default'}s`);
  if (n.ebgpMultiHop !== undefined && mine.ebgpMultiHop !== same.ebgpMultiHop) clash('ebgpMultiHop', mine.ebgpMultiHop, same.ebgpMultiHop);
  if (n.bfdProfile !== undefined && n.bfdProfile !== '' && mine.bfdProfile !== same.bfdProfile) clash('bfdProfile', mine.bfdProfile, same.bfdProfile ?? 'no BFD profile');
  if (n.password !== undefined && mine.password !== same.password) d.at(item, [...np, 'password'], `differs from the password of ${other}: the same router ASN and neighbor address are one session`);
}

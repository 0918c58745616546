// Stage "advertisements": Communities, BGPAdvertisements and L2Advertisements, with the pools
// and peers they name resolved.

import { formatPrefix, rangeToPrefixes, type Prefix } from '../../ip/index.ts';
import type { BGPAdvertisementSpec, CommunitySpec, L2AdvertisementSpec } from '../schema.ts';
import type { BGPAdvertisement, Community, L2Advertisement, Peer } from '../types.ts';
import { byName, canonicalJSON, checkDuplicateNames, didYouMean, isBroken, isDamaged, LabelIndex, type Ctx, type Diags, type Item, type Parsed } from './item.ts';
import { parseGoDuration } from '../duration.ts';
import { resolvePools, type PoolWork } from './pools.ts';
import { checkSelector, checkSelectors, checkStringList, nodesWarning } from './selectors.ts';

/** Parses `A:B` (uint16 parts) or `large:A:B:C` (uint32 parts); a string without ':' is an alias (returns 'alias'). */
export function parseCommunity(s: string): Community | 'alias' | string {
  const u = (x: string, max: number): number | undefined => {
    if (!/^[0-9]{1,10}$/.test(x)) return undefined;
    const n = Number(x);
    return n <= max ? n : undefined;
  };
  if (s.startsWith('large:')) {
    const parts = s.slice(6).split(':');
    if (parts.length !== 3) return `malformed large community "${s}": want large:A:B:C`;
    const [a, b, c] = parts.map((p) => u(p, 0xffffffff));
    if (a === undefined || b === undefined || c === undefined) {
      return `malformed large community "${s}": each part must be an integer 0..4294967295`;
    }
    return { kind: 'large', global: a, local1: b, local2: c };
  }
  if (!s.includes(':')) return 'alias';
  const parts = s.split(':');
  if (parts.length !== 2) return `malformed community "${s}": want A:B or large:A:B:C`;
  const [a, b] = parts.map((p) => u(p, 0xffff));
  if (a === undefined || b === undefined) return `malformed community "${s}": both parts must be integers 0..65535`;
  return { kind: 'standard', value: a * 65536 + b };
}

export function communityKey(c: Community): string {
  return c.kind === 'standard' ? `s:${c.value}` : `l:${c.global}:${c.local1}:${c.local2}`;
}

export function compareCommunity(a: Community, b: Community): number {
  if (a.kind !== b.kind) return a.kind === 'standard' ? -1 : 1;
  if (a.kind === 'standard' && b.kind === 'standard') return a.value - b.value;
  if (a.kind === 'large' && b.kind === 'large') return a.global - b.global || a.local1 - b.local1 || a.local2 - b.local2;
  return 0;
}

export function buildCommunities(d: Diags, items: Item<CommunitySpec>[]): Record<string, Community> {
  const out: Record<string, Community> = {};
  const where = new Map<string, string>();
  for (const item of items) {
    (item.spec.communities ?? []).forEach((c, i) => {
      if (c.name === '') d.at(item, ['spec', 'communities', i, 'name'], 'alias name must not be empty');
      else if (c.name.includes(':')) d.at(item, ['spec', 'communities', i, 'name'], `alias name "${c.name}" must not contain ':'`);
      const v = parseCommunity(c.value);
      if (v === 'alias') {
        d.at(item, ['spec', 'communities', i, 'value'], `malformed community "${c.value}": want A:B or large:A:B:C`);
        return;
      }
      if (typeof v === 'string') {
        d.at(item, ['spec', 'communities', i, 'value'], v);
        return;
      }
      const prev = where.get(c.name);
      if (prev !== undefined) {
        d.at(item, ['spec', 'communities', i, 'name'], `duplicate community alias "${c.name}" (also defined in ${prev})`);
        return;
      }
      where.set(c.name, `${item.kind}/${item.name}`);
      out[c.name] = v;
    });
  }
  return out;
}

/** BGPAdvertisement annotation turning on weighted ECMP (MetalLB's CRD has no field for it). */
export const WEIGHTED_ECMP_ANNOTATION = 'metallb-ts.io/weighted-ecmp';
const WEIGHTED_ECMP_VALUES = ['endpoints'];
/** Minimum time between two weight-only re-announcements of one route (Go duration; "0s" = no limit). */
export const WEIGHT_INTERVAL_ANNOTATION = 'metallb-ts.io/weight-update-interval';
const MAX_WEIGHT_INTERVAL_MS = 3_600_000;
/** externalTrafficPolicy: Local fallback (MetalLB #148): announce from every eligible node while no node has a ready endpoint. */
export const LOCAL_FALLBACK_ANNOTATION = 'metallb-ts.io/local-fallback';
const LOCAL_FALLBACK_VALUES = ['all-nodes'];
const KNOWN_ANNOTATIONS = [WEIGHTED_ECMP_ANNOTATION, WEIGHT_INTERVAL_ANNOTATION, LOCAL_FALLBACK_ANNOTATION];

/** Reads and checks the metallb-ts.io/ annotations of a BGPAdvertisement. */
function advertisementAnnotations(d: Diags, item: Item<BGPAdvertisementSpec>, adv: BGPAdvertisement): void {
  const meta = item.lo.object['metadata'];
  const ann = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>)['annotations'] : undefined;
  if (ann === null || typeof ann !== 'object') return;
  const entries = Object.entries(ann as Record<string, unknown>);
  for (const [k, v] of entries) {
    const at = ['metadata', 'annotations', k];
    if (k === WEIGHTED_ECMP_ANNOTATION) {
      if (typeof v === 'string' && WEIGHTED_ECMP_VALUES.includes(v)) adv.weightedECMP = 'endpoints';
      else {
        d.at(item, at, `${JSON.stringify(v)} is not a weighted-ECMP mode: the only mode is "endpoints" (a link-bandwidth community proportional to each node's ready endpoints, externalTrafficPolicy: Local Services); remove the annotation to turn it off`);
      }
    } else if (k === WEIGHT_INTERVAL_ANNOTATION) {
      const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
      if (ms === undefined || ms > MAX_WEIGHT_INTERVAL_MS) {
        d.at(item, at, `${JSON.stringify(v)} is not a weight update interval: want a duration from "0s" (no limit) to "1h", e.g. "1s" (the default) or "500ms"`);
      } else adv.weightIntervalMs = Math.round(ms);
    } else if (k === LOCAL_FALLBACK_ANNOTATION) {
      if (typeof v === 'string' && LOCAL_FALLBACK_VALUES.includes(v)) adv.localFallback = 'all-nodes';
      else {
        d.at(item, at, `${JSON.stringify(v)} is not a local-fallback mode: the only mode is "all-nodes" (while no node has a ready endpoint of an externalTrafficPolicy: Local Service, every eligible node announces it with a low weight); remove the annotation to turn it off`);
      }
    } else if (k.startsWith('metallb-ts.io/')) {
      d.warn(item, at, `unknown metallb-ts annotation on a BGPAdvertisement (ignored)${didYouMean(k, KNOWN_ANNOTATIONS)}`);
    }
  }
  if (adv.weightedECMP !== undefined && (adv.aggregationLength !== 32 || adv.aggregationLengthV6 !== 128)) {
    d.warn(item, ['metadata', 'annotations', WEIGHTED_ECMP_ANNOTATION], 'weights apply to host routes (/32, /128) only: the aggregated routes of this advertisement (aggregationLength) carry no link bandwidth');
  }
  if (adv.weightIntervalMs !== undefined && adv.weightedECMP === undefined) {
    d.warn(item, ['metadata', 'annotations', WEIGHT_INTERVAL_ANNOTATION], `has no effect without ${WEIGHTED_ECMP_ANNOTATION}: "endpoints"`);
  }
}

export function buildBGPAdvs(
  d: Diags,
  items: Item<BGPAdvertisementSpec>[],
  pools: Map<string, PoolWork>,
  peerNames: Set<string>,
  aliases: Record<string, Community>,
  ctx: Ctx,
  index: LabelIndex<PoolWork>,
): BGPAdvertisement[] {
  const out: BGPAdvertisement[] = [];
  const itemOf = new Map<string, Item<BGPAdvertisementSpec>>();
  for (const item of items) {
    const s = item.spec;
    itemOf.set(item.name, item);
    const poolNames = resolvePools(d, item, pools, index, ctx.broken.get('IPAddressPool'));
    const adv: BGPAdvertisement = {
      name: item.name,
      pools: poolNames,
      aggregationLength: s.aggregationLength ?? 32,
      aggregationLengthV6: s.aggregationLengthV6 ?? 128,
      communities: [],
      peers: [],
      nodeSelectors: checkSelectors(d, item, ['spec', 'nodeSelectors'], s.nodeSelectors),
      serviceSelectors: checkSelectors(d, item, ['spec', 'serviceSelectors'], s.serviceSelectors),
      source: item.source,
    };
    if (s.localPref !== undefined && s.localpref !== undefined && s.localPref !== s.localpref) {
      d.at(item, ['spec', 'localpref'], `conflicts with localPref (${s.localPref} vs ${s.localpref})`);
    }
    const lp = s.localPref ?? s.localpref;
    if (lp !== undefined) adv.localPref = lp;
    advertisementAnnotations(d, item, adv);
    if (adv.serviceSelectors.length > 0) {
      if (adv.aggregationLength !== 32) d.at(item, ['spec', 'aggregationLength'], 'a non-default aggregationLength cannot be combined with serviceSelectors');
      if (adv.aggregationLengthV6 !== 128) d.at(item, ['spec', 'aggregationLengthV6'], 'a non-default aggregationLengthV6 cannot be combined with serviceSelectors');
    }
    for (const pn of poolNames) {
      const w = pools.get(pn);
      if (!w) continue;
      // Like MetalLB: per address entry, the aggregation length may not be shorter than the
      // widest CIDR of the entry (a range that is not CIDR-aligned decomposes into several
      // CIDRs; only its widest one bounds the aggregation).
      for (const r of w.pool.ranges) {
        let widest: Prefix | undefined;
        for (const c of rangeToPrefixes(r)) if (!widest || c.length < widest.length) widest = c;
        if (!widest) continue;
        const agg = widest.family === 4 ? adv.aggregationLength : adv.aggregationLengthV6;
        if (widest.length > agg) {
          const field = widest.family === 4 ? 'aggregationLength' : 'aggregationLengthV6';
          d.at(item, ['spec', field], `${agg} is shorter than prefix ${formatPrefix(widest)} of IPAddressPool/${pn} allows (aggregation would announce addresses outside the pool)`);
          break;
        }
      }
    }
    const comms = new Map<string, Community>();
    checkStringList(d, item, ['spec', 'communities'], s.communities, 'community');
    (s.communities ?? []).forEach((c, i) => {
      const v = parseCommunity(c);
      if (v === 'alias') {
        const a = aliases[c];
        if (!a) {
          // an alias may be defined by a Community object that failed the schema (already reported)
          if (!ctx.broken.has('Community')) d.at(item, ['spec', 'communities', i], `unknown community alias "${c}"${didYouMean(c, Object.keys(aliases))}`);
        }
        else comms.set(communityKey(a), a);
      } else if (typeof v === 'string') d.at(item, ['spec', 'communities', i], v);
      else comms.set(communityKey(v), v);
    });
    adv.communities = [...comms.values()].sort(compareCommunity);
    adv.peers = checkStringList(d, item, ['spec', 'peers'], s.peers, 'peer name').sort();
    (s.peers ?? []).forEach((p, i) => {
      if (p !== '' && !peerNames.has(p) && !isBroken(ctx, 'BGPPeer', p)) {
        d.warn(item, ['spec', 'peers', i], `unknown BGPPeer "${p}"${didYouMean(p, [...peerNames])} (matches nothing, as in MetalLB)`, 'missing-reference');
      }
    });
    nodesWarning(d, item, ['spec', 'nodeSelectors'], adv.nodeSelectors, ctx.nodes);
    out.push(adv);
  }
  // Two advertisements of one pool to the same peers and nodes, aggregating the same way, must
  // agree on localPref (else one prefix would carry two LOCAL_PREFs).
  const byPool = new Map<string, BGPAdvertisement[]>();
  for (const a of out) {
    for (const p of a.pools) {
      const l = byPool.get(p);
      if (l) l.push(a);
      else byPool.set(p, [a]);
    }
  }
  for (const [pn, all] of byPool) {
    const w = pools.get(pn);
    const advs = all.filter((a) => !isDamaged(itemOf.get(a.name)));
    if (!w || advs.length < 2) continue;
    const fams = new Set(w.pool.cidrs.map((c) => c.family));
    const sorted = [...advs].sort(byName);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const a = sorted[i] as BGPAdvertisement;
        const b = sorted[j] as BGPAdvertisement;
        if ((a.localPref ?? 0) === (b.localPref ?? 0)) continue;
        const sameAgg = (fams.has(4) && a.aggregationLength === b.aggregationLength) || (fams.has(6) && a.aggregationLengthV6 === b.aggregationLengthV6);
        if (!sameAgg) continue;
        const peersOverlap = a.peers.length === 0 || b.peers.length === 0 || a.peers.some((p) => b.peers.includes(p));
        if (!peersOverlap) continue;
        if (canonicalJSON(a.nodeSelectors) !== canonicalJSON(b.nodeSelectors)) continue;
        // Like MetalLB: with serviceSelectors we cannot know which Services both announce.
        if (a.serviceSelectors.length > 0 || b.serviceSelectors.length > 0) continue;
        const it = itemOf.get(b.name);
        if (it) {
          d.at(it, ['spec', it.spec.localPref === undefined && it.spec.localpref !== undefined ? 'localpref' : 'localPref'],
            `localPref ${b.localPref ?? 0} differs from localPref ${a.localPref ?? 0} of BGPAdvertisement/${a.name} for the same pool (${pn}), peers and nodes`);
        }
      }
    }
  }
  return out;
}

export function buildL2Advs(d: Diags, items: Item<L2AdvertisementSpec>[], pools: Map<string, PoolWork>, ctx: Ctx, index: LabelIndex<PoolWork>): L2Advertisement[] {
  return items.map((item) => {
    const s = item.spec;
    const adv: L2Advertisement = {
      name: item.name,
      pools: resolvePools(d, item, pools, index, ctx.broken.get('IPAddressPool')),
      interfaces: checkStringList(d, item, ['spec', 'interfaces'], s.interfaces, 'interface name'),
      nodeSelectors: checkSelectors(d, item, ['spec', 'nodeSelectors'], s.nodeSelectors),
      serviceSelectors: checkSelectors(d, item, ['spec', 'serviceSelectors'], s.serviceSelectors),
      preferredNodeSelectors: (s.preferredNodeSelectors ?? []).map((p, i) => ({
        weight: p.weight,
        selector: checkSelector(d, item, ['spec', 'preferredNodeSelectors', i, 'preference'], p.preference),
      })),
      source: item.source,
    };
    nodesWarning(d, item, ['spec', 'nodeSelectors'], adv.nodeSelectors, ctx.nodes);
    return adv;
  });
}


/** The stage: community aliases first (advertisements name them), then both kinds of advertisement. */
export function buildAdvertisementsStage(
  d: Diags,
  parsed: Parsed,
  pools: Map<string, PoolWork>,
  peers: Peer[],
  ctx: Ctx,
): { aliases: Record<string, Community>; bgpAdvertisements: BGPAdvertisement[]; bgpItems: Item<BGPAdvertisementSpec>[]; l2Advertisements: L2Advertisement[] } {
  const aliases = buildCommunities(d, checkDuplicateNames(d, parsed.communities, 'Community'));
  const poolIndex = new LabelIndex([...pools.values()], (w) => w.pool.labels);
  const bgpItems = checkDuplicateNames(d, parsed.bgpAdvs, 'BGPAdvertisement');
  const l2Items = checkDuplicateNames(d, parsed.l2Advs, 'L2Advertisement');
  const bgpAdvertisements = buildBGPAdvs(d, bgpItems, pools, new Set(peers.map((p) => p.name)), aliases, ctx, poolIndex);
  const l2Advertisements = buildL2Advs(d, l2Items, pools, ctx, poolIndex);
  return { aliases, bgpAdvertisements, bgpItems, l2Advertisements };
}

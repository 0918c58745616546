// Stage "legacy ConfigMap": MetalLB's old ConfigMap format (`data.config`, or a bare document)
// checked and translated into CRD-shaped Items. The translation is shared with `convert`.

import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { LabelSelectorRequirement } from '../../model/selector.ts';
import { zodIssues } from '../issues.ts';
import { isRecord, type FieldPath } from '../path.ts';
import {
  LegacyBFDProfileSchema,
  LegacyConfigSchema,
  LegacyPeerSchema,
  LegacyPoolSchema,
  type BFDProfileSpec,
  type BGPAdvertisementSpec,
  type BGPPeerSpec,
  type CommunitySpec,
  type IPAddressPoolSpec,
  type L2AdvertisementSpec,
  type LabelSelectorInput,
  type LegacyConfig,
} from '../schema.ts';
import type { LoadedObject, SourceRef } from '../types.ts';
import { lineAt } from '../yamlpos.ts';
import { dropNulls, markBroken, type Diags, type Item, type Parsed } from './item.ts';

/** Names given to objects synthesized from a legacy ConfigMap. */
export const legacyNames = {
  peer: (i: number): string => `legacy-peer-${i}`,
  bgpAdvertisement: (pool: string, j: number): string => `legacy-${pool}-bgp-${j}`,
  l2Advertisement: (pool: string): string => `legacy-${pool}-l2`,
  communities: 'legacy-communities',
};


const LEGACY_KEYS = ['peers', 'address-pools', 'bgp-communities', 'bfd-profiles'];

export function isBareLegacy(obj: Record<string, unknown>): boolean {
  return obj['kind'] === undefined && obj['apiVersion'] === undefined && LEGACY_KEYS.some((k) => k in obj);
}


// ---------------------------------------------------------------------------------------------
// Legacy ConfigMap

const LEGACY_PEER_KEYS: Record<string, string> = {
  myASN: 'my-asn',
  peerASN: 'peer-asn',
  peerAddress: 'peer-address',
  sourceAddress: 'source-address',
  peerPort: 'peer-port',
  holdTime: 'hold-time',
  keepaliveTime: 'keepalive-time',
  routerID: 'router-id',
  nodeSelectors: 'node-selectors',
  password: 'password',
  bfdProfile: 'bfd-profile',
  ebgpMultiHop: 'ebgp-multihop',
};
const LEGACY_POOL_KEYS: Record<string, string> = {
  addresses: 'addresses',
  autoAssign: 'auto-assign',
  avoidBuggyIPs: 'avoid-buggy-ips',
};
const LEGACY_ADV_KEYS: Record<string, string> = {
  aggregationLength: 'aggregation-length',
  aggregationLengthV6: 'aggregation-length-v6',
  localPref: 'localpref',
  communities: 'communities',
};
const LEGACY_BFD_KEYS: Record<string, string> = {
  receiveInterval: 'receive-interval',
  transmitInterval: 'transmit-interval',
  detectMultiplier: 'detect-multiplier',
  echoInterval: 'echo-interval',
  echoMode: 'echo-mode',
  passiveMode: 'passive-mode',
  minimumTtl: 'minimum-ttl',
};

function legacySelectorPath(rest: FieldPath): FieldPath {
  return rest.map((s) => (s === 'matchLabels' ? 'match-labels' : s === 'matchExpressions' ? 'match-expressions' : s));
}

/** Path mapper for a synthesized object: spec keys through `keys`; anything else to `fallback`. */
function legacyMapper(entry: FieldPath, keys: Record<string, string>, namePath: FieldPath): (p: FieldPath) => FieldPath {
  return (p) => {
    if (p[0] === 'metadata') return namePath;
    if (p[0] === 'spec' && typeof p[1] === 'string' && keys[p[1]] !== undefined) {
      return [...entry, keys[p[1]] as string, ...legacySelectorPath(p.slice(2))];
    }
    return entry;
  };
}

function toSelectors(s: { 'match-labels'?: Record<string, string> | undefined; 'match-expressions'?: LabelSelectorRequirement[] | undefined }[] | undefined): LabelSelectorInput[] | undefined {
  if (!s) return undefined;
  return s.map((x) => {
    const out: LabelSelectorInput = {};
    if (x['match-labels']) out.matchLabels = x['match-labels'];
    if (x['match-expressions']) out.matchExpressions = x['match-expressions'];
    return out;
  });
}

/** A legacy config translated into CRD-shaped objects (used by buildConfig and convertLegacy). */
export interface LegacyTranslation {
  pools: { name: string; spec: IPAddressPoolSpec; entry: FieldPath }[];
  peers: { name: string; spec: BGPPeerSpec; entry: FieldPath }[];
  bgpAdvs: { name: string; spec: BGPAdvertisementSpec; entry: FieldPath; poolEntry: FieldPath }[];
  l2Advs: { name: string; spec: L2AdvertisementSpec; entry: FieldPath }[];
  communities?: { name: string; spec: CommunitySpec; aliases: string[] };
  bfds: { name: string; spec: BFDProfileSpec; entry: FieldPath }[];
}

function opt<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function translateLegacy(cfg: LegacyConfig, base: FieldPath): LegacyTranslation {
  const t: LegacyTranslation = { pools: [], peers: [], bgpAdvs: [], l2Advs: [], bfds: [] };
  (cfg.peers ?? []).forEach((p, i) => {
    const spec: BGPPeerSpec = opt({
      myASN: p['my-asn'],
      peerASN: p['peer-asn'],
      peerAddress: p['peer-address'],
      sourceAddress: p['source-address'],
      peerPort: p['peer-port'],
      holdTime: p['hold-time'],
      keepaliveTime: p['keepalive-time'],
      routerID: p['router-id'],
      nodeSelectors: toSelectors(p['node-selectors']),
      password: p.password,
      bfdProfile: p['bfd-profile'],
      ebgpMultiHop: p['ebgp-multihop'],
    });
    t.peers.push({ name: legacyNames.peer(i), spec, entry: [...base, 'peers', i] });
  });
  (cfg['address-pools'] ?? []).forEach((p, i) => {
    const entry = [...base, 'address-pools', i];
    t.pools.push({
      name: p.name,
      spec: opt({ addresses: p.addresses, autoAssign: p['auto-assign'], avoidBuggyIPs: p['avoid-buggy-ips'] }),
      entry,
    });
    if (p.protocol === 'bgp') {
      const advs = p['bgp-advertisements'] ?? [];
      if (advs.length === 0) {
        t.bgpAdvs.push({ name: legacyNames.bgpAdvertisement(p.name, 0), spec: { ipAddressPools: [p.name] }, entry, poolEntry: entry });
      }
      advs.forEach((a, j) => {
        t.bgpAdvs.push({
          name: legacyNames.bgpAdvertisement(p.name, j),
          spec: opt({
            ipAddressPools: [p.name],
            aggregationLength: a['aggregation-length'],
            aggregationLengthV6: a['aggregation-length-v6'],
            localPref: a.localpref,
            communities: a.communities,
          }),
          entry: [...entry, 'bgp-advertisements', j],
          poolEntry: entry,
        });
      });
    } else {
      t.l2Advs.push({ name: legacyNames.l2Advertisement(p.name), spec: { ipAddressPools: [p.name] }, entry });
    }
  });
  const comms = cfg['bgp-communities'];
  if (comms && Object.keys(comms).length > 0) {
    const aliases = Object.keys(comms);
    t.communities = {
      name: legacyNames.communities,
      spec: { communities: aliases.map((a) => ({ name: a, value: comms[a] as string })) },
      aliases,
    };
  }
  (cfg['bfd-profiles'] ?? []).forEach((b, i) => {
    t.bfds.push({
      name: b.name,
      spec: opt({
        receiveInterval: b['receive-interval'],
        transmitInterval: b['transmit-interval'],
        detectMultiplier: b['detect-multiplier'],
        echoInterval: b['echo-interval'],
        echoMode: b['echo-mode'],
        passiveMode: b['passive-mode'],
        minimumTtl: b['minimum-ttl'],
      }),
      entry: [...base, 'bfd-profiles', i],
    });
  });
  return t;
}

/** Parses the legacy document structurally; reports errors at their legacy paths. */
export function parseLegacy(inner: Record<string, unknown>): { config?: LegacyConfig; issues: { path: FieldPath; message: string }[] } {
  const clean = dropNulls(inner);
  const r = LegacyConfigSchema.safeParse(clean);
  if (r.success) return { config: r.data, issues: [] };
  return { issues: zodIssues(r.error.issues, clean, [], LegacyConfigSchema) };
}

interface LegacySalvage {
  config: LegacyConfig;
  /** "section\0index" -> legacy field names left out of that entry */
  damaged: Map<string, Set<string>>;
  brokenPools: string[];
  brokenBFDs: string[];
  communitiesBroken: boolean;
}

const LEGACY_ENTRY_SCHEMAS: Record<string, z.ZodType> = {
  peers: LegacyPeerSchema,
  'address-pools': LegacyPoolSchema,
  'bfd-profiles': LegacyBFDProfileSchema,
};

/**
 * After a schema failure of a legacy document: the intact entries (list positions kept, damaged
 * entries left as holes), with the damaged fields of otherwise usable entries left out.
 */
function salvageLegacy(inner: Record<string, unknown>): LegacySalvage | undefined {
  const clean = dropNulls(inner);
  if (!isRecord(clean)) return undefined;
  const res: LegacySalvage = { config: {}, damaged: new Map(), brokenPools: [], brokenBFDs: [], communitiesBroken: false };
  const cfg = res.config as Record<string, unknown>;
  for (const [section, schema] of Object.entries(LEGACY_ENTRY_SCHEMAS)) {
    const list = clean[section];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      if (section === 'address-pools') return undefined; // nothing usable to check against
      continue;
    }
    const kept: unknown[] = new Array<unknown>(list.length);
    list.forEach((entry: unknown, i) => {
      let r = schema.safeParse(entry);
      if (!r.success && isRecord(entry)) {
        const fields = new Set<string>();
        for (const issue of r.error.issues) {
          const top = issue.path[0];
          if (typeof top === 'string') fields.add(top);
          else if (issue.code === 'unrecognized_keys') for (const k of issue.keys) fields.add(k);
        }
        const rest: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(entry)) if (!fields.has(k)) rest[k] = v;
        r = schema.safeParse(rest);
        if (r.success) res.damaged.set(`${section}\0${i}`, fields);
      }
      if (r.success) kept[i] = r.data;
      else if (isRecord(entry) && typeof entry['name'] === 'string') {
        if (section === 'address-pools') res.brokenPools.push(entry['name']);
        if (section === 'bfd-profiles') res.brokenBFDs.push(entry['name']);
      }
    });
    cfg[section] = kept;
  }
  const comms = clean['bgp-communities'];
  if (comms !== undefined) {
    const r = LegacyConfigSchema.shape['bgp-communities'].safeParse(comms);
    if (r.success) cfg['bgp-communities'] = r.data;
    else res.communitiesBroken = true;
  }
  return res;
}

export function legacyIntake(
  lo: LoadedObject,
  inner: Record<string, unknown>,
  base: FieldPath,
  lineOf: (p: FieldPath) => number,
  shownKind: string,
  shownName: string,
  out: Parsed,
  d: Diags,
): void {
  const parsed = parseLegacy(inner);
  const diagItem = (): Item<null> => ({
    kind: shownKind,
    name: shownName,
    labels: {},
    spec: null,
    lo,
    map: (p) => p,
    lineOf,
    shownKind,
    shownName,
    source: lo.source,
  });
  let cfg: LegacyConfig;
  let damagedEntries = new Map<string, Set<string>>();
  if (!parsed.config) {
    const it = diagItem();
    for (const pm of parsed.issues) d.at(it, [...base, ...pm.path], pm.message);
    // Check what is intact too: entries with schema errors are left out (or only their
    // damaged fields), so independent errors elsewhere are reported in the same run.
    const salvaged = salvageLegacy(inner);
    if (!salvaged) return;
    cfg = salvaged.config;
    damagedEntries = salvaged.damaged;
    for (const name of salvaged.brokenPools) markBroken(out, 'IPAddressPool', name);
    for (const name of salvaged.brokenBFDs) markBroken(out, 'BFDProfile', name);
    if (salvaged.communitiesBroken) markBroken(out, 'Community', legacyNames.communities);
  } else cfg = parsed.config;
  // layer2 pools may not carry bgp-advertisements (reported; they are ignored for layer2)
  (cfg['address-pools'] ?? []).forEach((p, i) => {
    if (p.protocol === 'layer2' && (p['bgp-advertisements'] ?? []).length > 0) {
      d.at(diagItem(), [...base, 'address-pools', i, 'bgp-advertisements'], 'only allowed with protocol bgp');
    }
  });
  const t = translateLegacy(cfg, base);
  /** CRD field names damaged in the legacy entry `section[i]` (undefined when intact). */
  const damagedOf = (section: string, i: number, keys: Record<string, string>): Set<string> | undefined => {
    const fields = damagedEntries.get(`${section}\0${i}`);
    if (!fields) return undefined;
    const crd = new Set<string>();
    for (const [crdName, legacyName] of Object.entries(keys)) if (fields.has(legacyName)) crd.add(crdName);
    return crd;
  };
  const mk = <S>(kind: string, name: string, spec: S, entry: FieldPath, map: (p: FieldPath) => FieldPath): Item<S> => {
    const source: SourceRef = { file: lo.source.file, line: lineOf(entry), kind: shownKind, name: shownName || name };
    if (lo.source.namespace !== undefined) source.namespace = lo.source.namespace;
    const item: Item<S> = { kind, name, labels: {}, spec, lo, map, lineOf, shownKind, shownName, source };
    if (lo.source.namespace !== undefined) item.namespace = lo.source.namespace;
    return item;
  };
  const entryIndex = (entry: FieldPath): number => (typeof entry[base.length + 1] === 'number' ? (entry[base.length + 1] as number) : -1);
  for (const p of t.peers) {
    const it = mk('BGPPeer', p.name, p.spec, p.entry, legacyMapper(p.entry, LEGACY_PEER_KEYS, p.entry));
    const dmg = damagedOf('peers', entryIndex(p.entry), LEGACY_PEER_KEYS);
    if (dmg) it.damaged = dmg;
    out.peers.push(it);
  }
  for (const p of t.pools) {
    const it = mk('IPAddressPool', p.name, p.spec, p.entry, legacyMapper(p.entry, LEGACY_POOL_KEYS, [...p.entry, 'name']));
    const dmg = damagedOf('address-pools', entryIndex(p.entry), LEGACY_POOL_KEYS);
    if (dmg) it.damaged = dmg;
    out.pools.push(it);
  }
  for (const a of t.bgpAdvs) {
    const m = legacyMapper(a.entry, LEGACY_ADV_KEYS, a.entry);
    out.bgpAdvs.push(mk('BGPAdvertisement', a.name, a.spec, a.entry, (p) => (p[0] === 'spec' && p[1] === 'ipAddressPools' ? [...a.poolEntry, 'name'] : m(p))));
  }
  for (const a of t.l2Advs) out.l2Advs.push(mk('L2Advertisement', a.name, a.spec, a.entry, () => [...a.entry, 'name']));
  if (t.communities) {
    const aliases = t.communities.aliases;
    const cbase = [...base, 'bgp-communities'];
    out.communities.push(
      mk('Community', t.communities.name, t.communities.spec, cbase, (p) => {
        if (p[0] === 'spec' && p[1] === 'communities' && typeof p[2] === 'number') {
          const a = aliases[p[2]];
          if (a !== undefined) return [...cbase, a];
        }
        return cbase;
      }),
    );
  }
  for (const b of t.bfds) {
    const it = mk('BFDProfile', b.name, b.spec, b.entry, legacyMapper(b.entry, LEGACY_BFD_KEYS, [...b.entry, 'name']));
    const dmg = damagedOf('bfd-profiles', entryIndex(b.entry), LEGACY_BFD_KEYS);
    if (dmg) it.damaged = dmg;
    out.bfds.push(it);
  }
}


/** A ConfigMap with `data.config`: its inner YAML document read with positions, then checked as legacy. */
export function configMapIntake(lo: LoadedObject, out: Parsed, d: Diags): void {
  const obj = lo.object;
  const data = obj['data'];
  if (!isRecord(data) || data['config'] === undefined) return; // not a MetalLB ConfigMap
  const name = lo.source.name;
  if (!name) {
    d.raw(lo, ['metadata', 'name'], 'required field is missing');
    return;
  }
  const text = data['config'];
  if (typeof text !== 'string') {
    d.raw(lo, ['data', 'config'], 'must be a string holding the MetalLB configuration (YAML)');
    return;
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const outer = lo.lineOf(['data', 'config']);
  const block = text.includes('\n');
  const innerLine = (n: number): number => (outer === 0 ? 0 : block ? outer + n : outer);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const ln = e?.linePos?.[0]?.line ?? 0;
    const msg = (e?.message ?? 'syntax error').split('\n')[0] ?? '';
    d.errors.push({
      file: lo.source.file,
      line: innerLine(ln),
      kind: 'ConfigMap',
      name,
      field: 'data.config',
      message: `invalid YAML in config: ${msg.replace(/ at line \d+, column \d+:?$/, '')}`,
    });
    return;
  }
  let inner: unknown;
  try {
    inner = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    d.raw(lo, ['data', 'config'], `invalid YAML in config: ${(err as Error).message}`);
    return;
  }
  const lineOf = (p: FieldPath): number => {
    if (p.length >= 2 && p[0] === 'data' && p[1] === 'config') {
      const rest = p.slice(2);
      return innerLine(lineAt(doc.contents, lc, rest));
    }
    return lo.lineOf(p);
  };
  if (inner === null || inner === undefined) inner = {};
  if (!isRecord(inner)) {
    d.raw(lo, ['data', 'config'], 'must hold a YAML object (peers, address-pools, bgp-communities, bfd-profiles)');
    return;
  }
  legacyIntake(lo, inner, ['data', 'config'], lineOf, 'ConfigMap', name, out, d);
}

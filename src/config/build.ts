// Builds the resolved Config from loaded objects (metallb.io CRDs and/or legacy ConfigMaps),
// applying MetalLB's defaults and validation rules. Pure: no files, no clocks.
// On any error no Config is produced (errors never half-apply).

import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  formatPrefix,
  parseRangeOrCIDR,
  rangeToPrefixes,
  tryParseIP,
  type IP,
  type IPRange,
  type Prefix,
} from '../ip/index.ts';
import type { Node, Secret } from '../model/objects.ts';
import { anySelectorMatches, type LabelSelector, type LabelSelectorRequirement } from '../model/selector.ts';
import { parseGoDuration } from './duration.ts';
import { closest, zodIssues } from './issues.ts';
import type { LoadedObject } from './load.ts';
import { compareDiagnostics, fieldDiagnostic, formatPath, isRecord, type FieldPath } from './path.ts';
import {
  METALLB_GROUP,
  LegacyBFDProfileSchema,
  LegacyConfigSchema,
  LegacyPeerSchema,
  LegacyPoolSchema,
  SPEC_REQUIRED,
  SPEC_SCHEMAS,
  type BFDProfileSpec,
  type BGPAdvertisementSpec,
  type BGPPeerSpec,
  type CommunitySpec,
  type IPAddressPoolSpec,
  type L2AdvertisementSpec,
  type LabelSelectorInput,
  type LegacyConfig,
} from './schema.ts';
import type {
  BFDProfile,
  BGPAdvertisement,
  Community,
  Config,
  Diagnostic,
  L2Advertisement,
  Peer,
  Pool,
  SourceRef,
} from './types.ts';
import { lineAt } from './yamlpos.ts';

export interface BuildOptions {
  /** Secrets known to the caller (for passwordSecret checks). */
  secrets?: Secret[];
  /** Nodes known to the caller (for "selects nothing" / sourceAddress warnings). */
  nodes?: Node[];
}

export interface BuildResult {
  config?: Config;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Kinds that are cluster inputs, not configuration: accepted and ignored here. */
const IGNORED_KINDS = new Set(['Service', 'Node', 'EndpointSlice', 'Namespace', 'Secret']);

/** Names given to objects synthesized from a legacy ConfigMap. */
export const legacyNames = {
  peer: (i: number): string => `legacy-peer-${i}`,
  bgpAdvertisement: (pool: string, j: number): string => `legacy-${pool}-bgp-${j}`,
  l2Advertisement: (pool: string): string => `legacy-${pool}-l2`,
  communities: 'legacy-communities',
};

// ---------------------------------------------------------------------------------------------
// Items: one parsed object (CRD, or synthesized from legacy) plus how to point into its source.

interface Item<S> {
  kind: string;
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  spec: S;
  lo: LoadedObject;
  /** Maps a CRD path (`spec.addresses[1]`) to the path in the source document. */
  map: (p: FieldPath) => FieldPath;
  /** line for the path in the source document */
  lineOf: (p: FieldPath) => number;
  /** kind/name shown in diagnostics (the ConfigMap for legacy items). */
  shownKind: string;
  shownName: string;
  source: SourceRef;
  /**
   * Top-level spec fields that failed the schema (already reported) and were left out so the
   * rest of the object could still be checked: diagnostics about them, and warnings about the
   * object, are not reported again.
   */
  damaged?: Set<string>;
}

class Diags {
  errors: Diagnostic[] = [];
  warnings: Diagnostic[] = [];
  private seen = new Set<string>();

  private add(list: Diagnostic[], d: Diagnostic): void {
    const key = `${d.file}\0${d.line}\0${d.kind}\0${d.name}\0${d.field}\0${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    list.push(d);
  }

  raw(lo: LoadedObject, path: FieldPath, message: string, warning = false): void {
    this.add(warning ? this.warnings : this.errors, fieldDiagnostic(lo, path, message));
  }

  at<S>(item: Item<S>, path: FieldPath, message: string, warning = false): void {
    if (item.damaged && (warning || (path[0] === 'spec' && typeof path[1] === 'string' && item.damaged.has(path[1])))) return;
    const p = item.map(path);
    this.add(warning ? this.warnings : this.errors, {
      file: item.lo.source.file,
      line: item.lineOf(p),
      kind: item.shownKind,
      name: item.shownName,
      field: formatPath(p),
      message,
    });
  }

  warn<S>(item: Item<S>, path: FieldPath, message: string): void {
    this.at(item, path, message, true);
  }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes mode

/** Wraps an object read from the API server (no file): source.file = `Kind/namespace/name`, line 0. */
export function loadedFromApiObject(obj: Record<string, unknown>): LoadedObject {
  const meta = isRecord(obj['metadata']) ? obj['metadata'] : {};
  const kind = typeof obj['kind'] === 'string' ? obj['kind'] : '';
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
  const source: SourceRef = { file: `${kind}/${namespace ?? ''}/${name}`, line: 0, kind, name };
  if (namespace !== undefined) source.namespace = namespace;
  return { object: obj, source, lineOf: () => 0, fromApiServer: true };
}

// ---------------------------------------------------------------------------------------------
// Helpers

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return `invalid label key "${key}": prefix must be a DNS subdomain`;
    }
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `invalid label key "${key}": name must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

function labelValueError(v: string): string | undefined {
  if (v.length > 63 || !LABEL_NAME.test(v)) {
    return `invalid label value "${v}": must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Removes null-valued keys from objects (recursively); list elements are kept as they are. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (isRecord(x) ? dropNulls(x) : x));
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** `; did you mean "x"?` for the closest known name, or nothing. */
function didYouMean(word: string, known: string[]): string {
  const guess = closest(word, known);
  return guess !== undefined ? `; did you mean "${guess}"?` : '';
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Finds the items a label selector matches, using a posting list per label and a memo. */
class LabelIndex<T> {
  private postings = new Map<string, T[]>();
  private memo = new Map<string, T[]>();
  constructor(
    private readonly items: T[],
    private readonly labelsOf: (t: T) => Record<string, string> | undefined,
  ) {
    for (const it of items) {
      for (const [k, v] of Object.entries(labelsOf(it) ?? {})) {
        const key = `${k}\0${v}`;
        const l = this.postings.get(key);
        if (l) l.push(it);
        else this.postings.set(key, [it]);
      }
    }
  }

  match(sel: LabelSelector): T[] {
    const key = canonicalJSON(sel);
    const hit = this.memo.get(key);
    if (hit) return hit;
    let candidates = this.items;
    const first = Object.entries(sel.matchLabels ?? {})[0];
    if (first) candidates = this.postings.get(`${first[0]}\0${first[1]}`) ?? [];
    const out = candidates.filter((t) => anySelectorMatches([sel], this.labelsOf(t)));
    this.memo.set(key, out);
    return out;
  }
}

function checkSelectors<S>(d: Diags, item: Item<S>, path: FieldPath, sels: LabelSelectorInput[] | undefined): LabelSelector[] {
  const out: LabelSelector[] = [];
  const seen = new Map<string, number>();
  (sels ?? []).forEach((sel, i) => {
    const key = canonicalJSON(sel);
    const prev = seen.get(key);
    if (prev !== undefined) d.at(item, [...path, i], `duplicate selector (same as ${formatPath(item.map([...path, prev]))})`);
    else seen.set(key, i);
    out.push(checkSelector(d, item, [...path, i], sel));
  });
  return out;
}

function checkSelector<S>(d: Diags, item: Item<S>, p: FieldPath, sel: LabelSelectorInput): LabelSelector {
  const res: LabelSelector = {};
  if (sel.matchLabels) {
    for (const [k, v] of Object.entries(sel.matchLabels)) {
      const ke = labelKeyError(k);
      if (ke) d.at(item, [...p, 'matchLabels', k], ke);
      const ve = labelValueError(v);
      if (ve) d.at(item, [...p, 'matchLabels', k], ve);
    }
    res.matchLabels = { ...sel.matchLabels };
  }
  if (sel.matchExpressions) {
    const seenExpr = new Map<string, number>();
    const exprs: LabelSelectorRequirement[] = [];
    sel.matchExpressions.forEach((e, j) => {
      const ep = [...p, 'matchExpressions', j];
      const ekey = canonicalJSON({ key: e.key, operator: e.operator, values: [...(e.values ?? [])].sort() });
      const eprev = seenExpr.get(ekey);
      if (eprev !== undefined) d.at(item, ep, `duplicate expression (same as matchExpressions[${eprev}])`);
      else seenExpr.set(ekey, j);
      const ke = labelKeyError(e.key);
      if (ke) d.at(item, [...ep, 'key'], ke);
      const values = e.values ?? [];
      if (e.operator === 'In' || e.operator === 'NotIn') {
        if (values.length === 0) d.at(item, [...ep, 'values'], `operator ${e.operator} requires at least one value`);
      } else if (values.length > 0) {
        d.at(item, [...ep, 'values'], `operator ${e.operator} takes no values`);
      }
      const vs = new Set<string>();
      values.forEach((v, k) => {
        if (vs.has(v)) d.at(item, [...ep, 'values', k], `duplicate value "${v}"`);
        vs.add(v);
        const ve = labelValueError(v);
        if (ve) d.at(item, [...ep, 'values', k], ve);
      });
      const req: LabelSelectorRequirement = { key: e.key, operator: e.operator };
      if (e.values !== undefined) req.values = [...e.values];
      exprs.push(req);
    });
    res.matchExpressions = exprs;
  }
  return res;
}

function checkStringList<S>(d: Diags, item: Item<S>, path: FieldPath, list: string[] | undefined, what: string): string[] {
  const seen = new Map<string, number>();
  (list ?? []).forEach((s, i) => {
    if (s === '') d.at(item, [...path, i], `${what} must not be empty`);
    const prev = seen.get(s);
    if (prev !== undefined) d.at(item, [...path, i], `duplicate entry "${s}" (same as [${prev}])`);
    else seen.set(s, i);
  });
  return [...new Set(list ?? [])];
}

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

function communityKey(c: Community): string {
  return c.kind === 'standard' ? `s:${c.value}` : `l:${c.global}:${c.local1}:${c.local2}`;
}

function compareCommunity(a: Community, b: Community): number {
  if (a.kind !== b.kind) return a.kind === 'standard' ? -1 : 1;
  if (a.kind === 'standard' && b.kind === 'standard') return a.value - b.value;
  if (a.kind === 'large' && b.kind === 'large') return a.global - b.global || a.local1 - b.local1 || a.local2 - b.local2;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Object intake

interface Parsed {
  pools: Item<IPAddressPoolSpec>[];
  peers: Item<BGPPeerSpec>[];
  bgpAdvs: Item<BGPAdvertisementSpec>[];
  l2Advs: Item<L2AdvertisementSpec>[];
  communities: Item<CommunitySpec>[];
  bfds: Item<BFDProfileSpec>[];
  /** kind -> names of objects dropped for schema errors (references to them are not reported again). */
  broken: Map<string, Set<string>>;
}

function markBroken(out: Parsed, kind: string, name: string): void {
  const s = out.broken.get(kind) ?? new Set<string>();
  s.add(name);
  out.broken.set(kind, s);
}

function isBroken(out: { broken: Map<string, Set<string>> }, kind: string, name: string): boolean {
  return out.broken.get(kind)?.has(name) ?? false;
}

/** Every kind `validate` knows (for "did you mean" on an unknown kind). */
const KNOWN_KINDS = [...Object.keys(SPEC_SCHEMAS), 'ConfigMap', ...IGNORED_KINDS];
const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

function crdItem<S>(lo: LoadedObject, spec: S): Item<S> {
  const meta = isRecord(lo.object['metadata']) ? lo.object['metadata'] : {};
  const labels = isRecord(meta['labels']) ? (meta['labels'] as Record<string, string>) : {};
  const item: Item<S> = {
    kind: lo.source.kind,
    name: lo.source.name,
    labels,
    spec,
    lo,
    map: (p) => p,
    lineOf: (p) => lo.lineOf(p),
    shownKind: lo.source.kind,
    shownName: lo.source.name,
    source: { ...lo.source },
  };
  if (lo.source.namespace !== undefined) item.namespace = lo.source.namespace;
  return item;
}

const LEGACY_KEYS = ['peers', 'address-pools', 'bgp-communities', 'bfd-profiles'];

function isBareLegacy(obj: Record<string, unknown>): boolean {
  return obj['kind'] === undefined && obj['apiVersion'] === undefined && LEGACY_KEYS.some((k) => k in obj);
}

function intake(objects: LoadedObject[], d: Diags): Parsed {
  const out: Parsed = { pools: [], peers: [], bgpAdvs: [], l2Advs: [], communities: [], bfds: [], broken: new Map() };
  for (const lo of objects) {
    const obj = lo.object;
    if (isBareLegacy(obj)) {
      legacyIntake(lo, obj, [], (p) => lo.lineOf(p), 'LegacyConfig', '', out, d);
      continue;
    }
    const kind = obj['kind'];
    if (kind === undefined || kind === null) {
      d.raw(lo, ['kind'], 'required field is missing');
      continue;
    }
    if (typeof kind !== 'string') {
      d.raw(lo, ['kind'], 'must be a string');
      continue;
    }
    if (IGNORED_KINDS.has(kind)) continue;
    if (kind === 'ConfigMap') {
      const data = obj['data'];
      if (!isRecord(data) || data['config'] === undefined) continue; // not a MetalLB ConfigMap
      const name = lo.source.name;
      if (!name) {
        d.raw(lo, ['metadata', 'name'], 'required field is missing');
        continue;
      }
      const text = data['config'];
      if (typeof text !== 'string') {
        d.raw(lo, ['data', 'config'], 'must be a string holding the MetalLB configuration (YAML)');
        continue;
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
        continue;
      }
      let inner: unknown;
      try {
        inner = doc.toJS({ maxAliasCount: 1000 });
      } catch (err) {
        d.raw(lo, ['data', 'config'], `invalid YAML in config: ${(err as Error).message}`);
        continue;
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
        continue;
      }
      legacyIntake(lo, inner, ['data', 'config'], lineOf, 'ConfigMap', name, out, d);
      continue;
    }
    const schemas = SPEC_SCHEMAS[kind];
    if (!schemas) {
      const guess = closest(kind, KNOWN_KINDS);
      d.raw(lo, ['kind'], guess !== undefined ? `unknown kind "${kind}"; did you mean "${guess}"?` : `unknown kind "${kind}"`);
      continue;
    }
    const apiVersion = obj['apiVersion'];
    const supported = Object.keys(schemas).map((v) => `metallb.io/${v}`);
    if (typeof apiVersion !== 'string') {
      d.raw(lo, ['apiVersion'], apiVersion === undefined ? 'required field is missing' : 'must be a string');
      markBroken(out, kind, lo.source.name);
      continue;
    }
    const version = apiVersion.startsWith('metallb.io/') ? apiVersion.slice('metallb.io/'.length) : '';
    const schema = schemas[version];
    if (!schema) {
      d.raw(lo, ['apiVersion'], `unsupported apiVersion "${apiVersion}" for ${kind} (supported: ${supported.join(', ')})`);
      markBroken(out, kind, lo.source.name);
      continue;
    }
    const meta = obj['metadata'];
    if (!isRecord(meta)) {
      d.raw(lo, ['metadata'], meta === undefined ? 'required field is missing' : 'must be an object');
      continue;
    }
    if (typeof meta['name'] !== 'string' || meta['name'] === '') {
      d.raw(lo, ['metadata', 'name'], meta['name'] === undefined ? 'required field is missing' : 'must be a non-empty string');
      continue;
    }
    if (meta['labels'] !== undefined && meta['labels'] !== null) {
      const labels = meta['labels'];
      if (!isRecord(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
        d.raw(lo, ['metadata', 'labels'], 'must be an object of strings');
        markBroken(out, kind, lo.source.name);
        continue;
      }
    }
    // Fields of the spec written at the top level (wrong indentation), and other unknown
    // top-level fields.
    const specFields = knownSpecFields(schema);
    // (objects from the API server are pruned by it: extra top-level keys there are not ours to judge)
    const stray = lo.fromApiServer ? [] : Object.keys(obj).filter((k) => !TOP_LEVEL.includes(k));
    let spec = obj['spec'];
    if (spec === undefined || spec === null) {
      const misplaced = stray.filter((k) => specFields.includes(k));
      if (misplaced.length > 0) {
        const list = misplaced.map((k) => `"${k}"`).join(', ');
        d.raw(lo, ['spec'], `required field is missing; ${list} ${misplaced.length > 1 ? 'are' : 'is'} at the top level: indent ${misplaced.length > 1 ? 'them' : 'it'} under "spec:"`);
        markBroken(out, kind, lo.source.name);
        continue;
      }
      if (SPEC_REQUIRED.has(kind)) {
        d.raw(lo, ['spec'], 'required field is missing');
        markBroken(out, kind, lo.source.name);
        continue;
      }
      spec = {};
    }
    let strayBad = false;
    for (const k of stray) {
      strayBad = true;
      if (specFields.includes(k)) d.raw(lo, [k], 'belongs under "spec:" (check the indentation)');
      else {
        const guess = closest(k, TOP_LEVEL);
        d.raw(lo, [k], guess !== undefined ? `unknown field; did you mean "${guess}"?` : `unknown field (an object has ${TOP_LEVEL.join(', ')})`);
      }
    }
    // Like the API server, treat `null` object fields as absent (`nodeSelectors:` with no value).
    spec = dropNulls(spec);
    let r = schema.safeParse(spec);
    let damaged: Set<string> | undefined;
    if (!r.success) {
      // a field of another version of this kind (e.g. `dynamicASN` in a v1beta1 BGPPeer)
      const otherVersion = (field: string): string | undefined =>
        Object.entries(schemas).find(([v, sch]) => v !== version && knownSpecFields(sch).includes(field))?.[0];
      for (const pm of zodIssues(r.error.issues, spec, ['spec'], schema)) {
        const field = pm.path.length === 2 && typeof pm.path[1] === 'string' ? pm.path[1] : undefined;
        const other = field !== undefined && pm.message.startsWith('unknown field') ? otherVersion(field) : undefined;
        const noGuess = pm.message === 'unknown field' || pm.message.startsWith('unknown field (');
        const otherKind = field !== undefined && other === undefined && noGuess ? kindWithField(field, kind) : undefined;
        if (other !== undefined) d.raw(lo, pm.path, `not a field of ${METALLB_GROUP}/${version} ${kind}; it needs apiVersion: ${METALLB_GROUP}/${other}`);
        else if (otherKind !== undefined) d.raw(lo, pm.path, `unknown field; "${field ?? ''}" is a field of ${otherKind}, not of ${kind}`);
        else d.raw(lo, pm.path, pm.message);
      }
      // Leave the damaged top-level fields out and check the rest, so that the independent
      // errors of the other fields are reported now rather than after the next edit.
      if (!isRecord(spec)) {
        markBroken(out, kind, lo.source.name);
        continue;
      }
      damaged = new Set<string>();
      for (const issue of r.error.issues) {
        const top = issue.path[0];
        if (typeof top === 'string') damaged.add(top);
        else if (issue.code === 'unrecognized_keys') {
          for (const k of issue.keys) {
            damaged.add(k);
            // `peer-asn` for `peerASN`: what the typo meant is reported by the typo line
            const meant = closest(k, specFields);
            if (meant !== undefined) damaged.add(meant);
          }
        }
      }
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(spec)) if (!damaged.has(k)) rest[k] = v;
      r = schema.safeParse(rest);
      if (!r.success) {
        markBroken(out, kind, lo.source.name);
        continue;
      }
    }
    if (strayBad && !damaged) damaged = new Set();
    const item = <S>(data: unknown): Item<S> => {
      const it = crdItem(lo, data as S);
      if (damaged) it.damaged = damaged;
      return it;
    };
    switch (kind) {
      case 'IPAddressPool':
        out.pools.push(item<IPAddressPoolSpec>(r.data));
        break;
      case 'BGPPeer':
        out.peers.push(item<BGPPeerSpec>(r.data));
        break;
      case 'BGPAdvertisement':
        out.bgpAdvs.push(item<BGPAdvertisementSpec>(r.data));
        break;
      case 'L2Advertisement':
        out.l2Advs.push(item<L2AdvertisementSpec>(r.data));
        break;
      case 'Community':
        out.communities.push(item<CommunitySpec>(r.data));
        break;
      case 'BFDProfile':
        out.bfds.push(item<BFDProfileSpec>(r.data));
        break;
    }
  }
  return out;
}

/** Another metallb.io kind whose spec has `field` (e.g. `communities` written in an L2Advertisement). */
function kindWithField(field: string, self: string): string | undefined {
  for (const [k, versions] of Object.entries(SPEC_SCHEMAS)) {
    if (k === self) continue;
    if (Object.values(versions).some((sch) => knownSpecFields(sch).includes(field))) return k;
  }
  return undefined;
}

function knownSpecFields(schema: z.ZodType): string[] {
  const spec = (schema as unknown as { _zod?: { def?: { shape?: Record<string, unknown> } } })._zod?.def?.shape;
  return Object.keys(spec ?? {});
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

function legacyIntake(
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

// ---------------------------------------------------------------------------------------------
// Semantic checks

function checkDuplicateNames<S>(d: Diags, items: Item<S>[], kind: string): Item<S>[] {
  const seen = new Map<string, Item<S>>();
  const out: Item<S>[] = [];
  for (const it of items) {
    const prev = seen.get(it.name);
    if (prev) {
      d.at(it, ['metadata', 'name'], `duplicate ${kind} name "${it.name}" (also defined at ${prev.lo.source.file}:${prev.source.line})`);
      continue;
    }
    seen.set(it.name, it);
    out.push(it);
  }
  return out;
}

interface PoolWork {
  item: Item<IPAddressPoolSpec>;
  pool: Pool;
  seq: number;
}

function buildPools(d: Diags, items: Item<IPAddressPoolSpec>[]): Map<string, PoolWork> {
  const pools = new Map<string, PoolWork>();
  const entries: { range: IPRange; text: string; work: PoolWork; index: number }[] = [];
  for (const item of items) {
    const s = item.spec;
    const ranges: IPRange[] = [];
    const cidrs: Prefix[] = [];
    if (s.addresses.length === 0) d.at(item, ['spec', 'addresses'], 'at least one address (CIDR or range) is required');
    const pool: Pool = {
      name: item.name,
      ranges,
      cidrs,
      autoAssign: s.autoAssign ?? true,
      avoidBuggyIPs: s.avoidBuggyIPs ?? false,
      labels: { ...item.labels },
      source: item.source,
    };
    const work: PoolWork = { item, pool, seq: pools.size };
    s.addresses.forEach((a, i) => {
      const r = parseRangeOrCIDR(a);
      if (typeof r === 'string') {
        d.at(item, ['spec', 'addresses', i], r);
        return;
      }
      ranges.push(r);
      cidrs.push(...rangeToPrefixes(r));
      entries.push({ range: r, text: a, work, index: i });
    });
    if (s.serviceAllocation) {
      const sa = s.serviceAllocation;
      const alloc: Pool['serviceAllocation'] = {
        namespaces: checkStringList(d, item, ['spec', 'serviceAllocation', 'namespaces'], sa.namespaces, 'namespace'),
        namespaceSelectors: checkSelectors(d, item, ['spec', 'serviceAllocation', 'namespaceSelectors'], sa.namespaceSelectors),
        serviceSelectors: checkSelectors(d, item, ['spec', 'serviceAllocation', 'serviceSelectors'], sa.serviceSelectors),
      };
      if (sa.priority !== undefined) alloc.priority = sa.priority;
      pool.serviceAllocation = alloc;
    }
    pools.set(item.name, work);
  }
  // Overlaps (within a pool and across pools): sweep in address order.
  entries.sort((a, b) => a.range.family - b.range.family || (a.range.first < b.range.first ? -1 : a.range.first > b.range.first ? 1 : 0));
  let prev: (typeof entries)[number] | undefined;
  for (const e of entries) {
    if (prev && prev.range.family === e.range.family && e.range.first <= prev.range.last) {
      // report on the later object in file order, pointing to the other one
      const [a, b] = [prev, e];
      const later = a.work.seq > b.work.seq || (a.work === b.work && a.index > b.index) ? a : b;
      const other = later === a ? b : a;
      const where =
        other.work === later.work
          ? `spec.addresses[${other.index}]`
          : `${other.work.item.kind}/${other.work.item.name} (${other.work.item.lo.source.file}:${other.work.item.lineOf(other.work.item.map(['spec', 'addresses', other.index]))})`;
      d.at(later.work.item, ['spec', 'addresses', later.index], `"${later.text}" overlaps "${other.text}" of ${where}`);
    }
    if (!prev || prev.range.family !== e.range.family || e.range.last > prev.range.last) prev = e;
  }
  return pools;
}

function resolvePools<S extends { ipAddressPools?: string[] | undefined; ipAddressPoolSelectors?: LabelSelectorInput[] | undefined }>(
  d: Diags,
  item: Item<S>,
  pools: Map<string, PoolWork>,
  index: LabelIndex<PoolWork>,
  broken: Set<string> | undefined,
): string[] {
  // with its pool list damaged (already reported), the advertisement selects no pool rather than all
  if (item.damaged && (item.damaged.has('ipAddressPools') || item.damaged.has('ipAddressPoolSelectors'))) return [];
  const names = checkStringList(d, item, ['spec', 'ipAddressPools'], item.spec.ipAddressPools, 'pool name');
  const selectors = checkSelectors(d, item, ['spec', 'ipAddressPoolSelectors'], item.spec.ipAddressPoolSelectors);
  const out = new Set<string>();
  (item.spec.ipAddressPools ?? []).forEach((n, i) => {
    if (!pools.has(n) && !broken?.has(n)) d.at(item, ['spec', 'ipAddressPools', i], `unknown IPAddressPool "${n}"${didYouMean(n, [...pools.keys()])}`);
  });
  for (const n of names) if (pools.has(n)) out.add(n);
  selectors.forEach((sel, i) => {
    const matched = index.match(sel);
    for (const w of matched) out.add(w.pool.name);
    if (matched.length === 0) d.warn(item, ['spec', 'ipAddressPoolSelectors', i], 'selects no IPAddressPool');
  });
  if (names.length === 0 && selectors.length === 0) for (const n of pools.keys()) out.add(n);
  return [...out].sort();
}

function nodesWarning<S>(d: Diags, item: Item<S>, path: FieldPath, sels: LabelSelector[], nodes: LabelIndex<Node> | undefined): void {
  if (!nodes) return;
  sels.forEach((sel, i) => {
    if (nodes.match(sel).length === 0) d.warn(item, [...path, i], 'selects no Node');
  });
}

interface Ctx {
  opts: BuildOptions;
  nodes?: LabelIndex<Node>;
  /** kind -> names of objects dropped for schema errors. */
  broken: Map<string, Set<string>>;
}

/** Whether some spec fields of the item failed the schema (it is checked, but not against others). */
function isDamaged<S>(it: Item<S> | undefined): boolean {
  return !!it?.damaged && it.damaged.size > 0;
}

function buildBFD(d: Diags, items: Item<BFDProfileSpec>[]): BFDProfile[] {
  return items.map((item) => {
    const s = item.spec;
    return {
      name: item.name,
      receiveInterval: s.receiveInterval ?? 300,
      transmitInterval: s.transmitInterval ?? 300,
      detectMultiplier: s.detectMultiplier ?? 3,
      echoInterval: s.echoInterval ?? 50,
      echoMode: s.echoMode ?? false,
      passiveMode: s.passiveMode ?? false,
      minimumTtl: s.minimumTtl ?? 254,
      source: item.source,
    };
  });
}

function buildCommunities(d: Diags, items: Item<CommunitySpec>[]): Record<string, Community> {
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

function seconds<S>(d: Diags, item: Item<S>, field: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseGoDuration(v);
  if (ms === undefined) {
    d.at(item, ['spec', field], `invalid duration "${v}" (Go syntax, e.g. "90s", "1m30s")`);
    return undefined;
  }
  if (ms % 1000 !== 0) {
    // Like MetalLB: BGP timers are whole seconds; a fraction is truncated (not an error).
    const whole = Math.floor(ms / 1000);
    d.warn(item, ['spec', field], `"${v}" is not a whole number of seconds; ${whole}s is used`);
    return whole;
  }
  return ms / 1000;
}

function parseAddr<S>(d: Diags, item: Item<S>, field: string, v: string | undefined): IP | undefined {
  if (v === undefined) return undefined;
  const ip = tryParseIP(v);
  if (!ip) d.at(item, ['spec', field], `invalid IP address "${v}"`);
  return ip;
}

function buildPeers(d: Diags, items: Item<BGPPeerSpec>[], bfds: Set<string>, ctx: Ctx): Peer[] {
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
    // timers
    let hold = seconds(d, item, 'holdTime', s.holdTime);
    let ka = seconds(d, item, 'keepaliveTime', s.keepaliveTime);
    if (hold !== undefined && ka === undefined) ka = Math.floor(hold / 3);
    else if (ka !== undefined && hold === undefined && s.holdTime === undefined) hold = ka * 3;
    if (hold !== undefined && hold !== 0 && hold < 3) d.at(item, ['spec', s.holdTime !== undefined ? 'holdTime' : 'keepaliveTime'], `hold time ${hold}s must be 0 or at least 3s`);
    else if (hold !== undefined && ka !== undefined && ka > hold) d.at(item, ['spec', 'keepaliveTime'], `keepalive time ${ka}s must not exceed hold time ${hold}s`);
    if (hold !== undefined) peer.holdTime = hold;
    if (ka !== undefined) peer.keepaliveTime = ka;
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
      if (opts.secrets && opts.secrets.length > 0) {
        const sec = opts.secrets.find((x) => x.metadata.name === s.passwordSecret?.name && (x.metadata.namespace ?? ns) === ns);
        if (!sec) d.warn(item, ['spec', 'passwordSecret'], `Secret ${ns}/${s.passwordSecret.name} is not among the inputs`);
        else {
          if (sec.type !== undefined && sec.type !== 'kubernetes.io/basic-auth') {
            d.at(item, ['spec', 'passwordSecret'], `Secret ${ns}/${s.passwordSecret.name} must be of type kubernetes.io/basic-auth, is ${sec.type}`);
          }
          if (sec.data?.['password'] === undefined && sec.stringData?.['password'] === undefined) {
            d.at(item, ['spec', 'passwordSecret'], `Secret ${ns}/${s.passwordSecret.name} has no key "password"`);
          }
        }
      }
    }
    if (s.bfdProfile !== undefined) {
      if (!bfds.has(s.bfdProfile) && !isBroken(ctx, 'BFDProfile', s.bfdProfile)) d.at(item, ['spec', 'bfdProfile'], `unknown BFDProfile "${s.bfdProfile}"${didYouMean(s.bfdProfile, [...bfds])}`);
      peer.bfdProfile = s.bfdProfile;
    }
    nodesWarning(d, item, ['spec', 'nodeSelectors'], peer.nodeSelectors, ctx.nodes);
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

function comparePeers(d: Diags, it: Item<BGPPeerSpec>, p: Peer, ref: Peer, vrfText: string, asnAndID: boolean): void {
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
function checkSharedNodesKnown(d: Diags, peers: Peer[], itemOf: Map<string, Item<BGPPeerSpec>>, index: LabelIndex<Node>, nodes: Node[]): void {
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

function buildBGPAdvs(
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
      if (p !== '' && !peerNames.has(p) && !isBroken(ctx, 'BGPPeer', p)) d.at(item, ['spec', 'peers', i], `unknown BGPPeer "${p}"${didYouMean(p, [...peerNames])}`);
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

function buildL2Advs(d: Diags, items: Item<L2AdvertisementSpec>[], pools: Map<string, PoolWork>, ctx: Ctx, index: LabelIndex<PoolWork>): L2Advertisement[] {
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

/**
 * Like MetalLB: BFD echo mode does not work for IPv6, so a peer whose BFDProfile enables echo
 * may not receive advertisements of a pool with IPv6 addresses.
 */
function checkBFDEchoIPv6(
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

// ---------------------------------------------------------------------------------------------

/**
 * Builds the resolved Config from loaded objects. Objects of kinds Service, Node,
 * EndpointSlice, Namespace and Secret are ignored, ConfigMaps without `data.config` too;
 * any other unknown kind is an error. On any error, `config` is undefined.
 */
export function buildConfig(objects: LoadedObject[], opts: BuildOptions = {}): BuildResult {
  const d = new Diags();
  const parsed = intake(objects, d);
  const poolItems = checkDuplicateNames(d, parsed.pools, 'IPAddressPool');
  const peerItems = checkDuplicateNames(d, parsed.peers, 'BGPPeer');
  const bgpItems = checkDuplicateNames(d, parsed.bgpAdvs, 'BGPAdvertisement');
  const l2Items = checkDuplicateNames(d, parsed.l2Advs, 'L2Advertisement');
  const bfdItems = checkDuplicateNames(d, parsed.bfds, 'BFDProfile');
  const commItems = checkDuplicateNames(d, parsed.communities, 'Community');

  const pools = buildPools(d, poolItems);
  const bfdProfiles = buildBFD(d, bfdItems);
  const aliases = buildCommunities(d, commItems);
  const ctx: Ctx = { opts, broken: parsed.broken };
  if (opts.nodes && opts.nodes.length > 0) ctx.nodes = new LabelIndex(opts.nodes, (n) => n.metadata.labels);
  const poolIndex = new LabelIndex([...pools.values()], (w) => w.pool.labels);
  const peers = buildPeers(d, peerItems, new Set(bfdProfiles.map((b) => b.name)), ctx);
  const bgpAdvertisements = buildBGPAdvs(d, bgpItems, pools, new Set(peers.map((p) => p.name)), aliases, ctx, poolIndex);
  const l2Advertisements = buildL2Advs(d, l2Items, pools, ctx, poolIndex);
  checkBFDEchoIPv6(d, peers, peerItems, bfdProfiles, bgpAdvertisements, pools);

  // pools that nothing announces
  const announced = new Set<string>();
  for (const a of bgpAdvertisements) for (const p of a.pools) announced.add(p);
  for (const a of l2Advertisements) for (const p of a.pools) announced.add(p);
  for (const [name, w] of pools) {
    if (!announced.has(name)) d.warn(w.item, ['metadata', 'name'], 'pool is not announced by any BGPAdvertisement or L2Advertisement');
  }

  d.errors.sort(compareDiagnostics);
  d.warnings.sort(compareDiagnostics);
  if (d.errors.length > 0) return { errors: d.errors, warnings: d.warnings };
  const sortedAliases: Record<string, Community> = {};
  for (const k of Object.keys(aliases).sort()) sortedAliases[k] = aliases[k] as Community;
  const config: Config = {
    pools: [...pools.values()].map((w) => w.pool).sort(byName),
    peers: peers.sort(byName),
    bgpAdvertisements: bgpAdvertisements.sort(byName),
    l2Advertisements: l2Advertisements.sort(byName),
    bfdProfiles: bfdProfiles.sort(byName),
    communityAliases: sortedAliases,
  };
  return { config, errors: d.errors, warnings: d.warnings };
}


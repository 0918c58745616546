// Shared by the build stages: one parsed object (an Item: a CRD, or one synthesized from a legacy
// ConfigMap) with the way to point into its source, the diagnostics collector, and small helpers.

import { closest } from '../issues.ts';
import { fieldDiagnostic, formatPath, isRecord, type FieldPath } from '../path.ts';
import type { BFDProfileSpec, BGPAdvertisementSpec, BGPPeerSpec, CommunitySpec, IPAddressPoolSpec, L2AdvertisementSpec } from '../schema.ts';
import type { Node, Secret } from '../../model/objects.ts';
import type { FRRConfigurationSpec } from '../frrschema.ts';
import { anySelectorMatches, type LabelSelector } from '../../model/selector.ts';
import type { Diagnostic, DiagnosticCode, LoadedObject, SourceRef } from '../types.ts';

export interface BuildOptions {
  /** Secrets known to the caller (for passwordSecret checks). */
  secrets?: Secret[];
  /** Nodes known to the caller (for "selects nothing" / sourceAddress warnings). */
  nodes?: Node[];
}

/** What the stages after intake share. */
export interface Ctx {
  opts: BuildOptions;
  nodes?: LabelIndex<Node>;
  /** kind -> names of objects dropped for schema errors. */
  broken: Map<string, Set<string>>;
}

export interface Item<S> {
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

export class Diags {
  errors: Diagnostic[] = [];
  warnings: Diagnostic[] = [];
  private seen = new Set<string>();

  private add(list: Diagnostic[], d: Diagnostic): void {
    const key = `${d.file}\0${d.line}\0${d.kind}\0${d.name}\0${d.field}\0${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    list.push(d);
  }

  raw(lo: LoadedObject, path: FieldPath, message: string, warning = false, code?: DiagnosticCode): void {
    const d = fieldDiagnostic(lo, path, message);
    if (code !== undefined) d.code = code;
    this.add(warning ? this.warnings : this.errors, d);
  }

  at<S>(item: Item<S>, path: FieldPath, message: string, warning = false, code?: DiagnosticCode): void {
    if (item.damaged && (warning || (path[0] === 'spec' && typeof path[1] === 'string' && item.damaged.has(path[1])))) return;
    const p = item.map(path);
    this.add(warning ? this.warnings : this.errors, {
      file: item.lo.source.file,
      line: item.lineOf(p),
      kind: item.shownKind,
      name: item.shownName,
      field: formatPath(p),
      message,
      ...(code !== undefined ? { code } : {}),
    });
  }

  warn<S>(item: Item<S>, path: FieldPath, message: string, code?: DiagnosticCode): void {
    this.at(item, path, message, true, code);
  }
}

export function canonicalJSON(v: unknown): string {
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
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (isRecord(x) ? dropNulls(x) : x));
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** `; did you mean "x"?` for the closest known name, or nothing. */
export function didYouMean(word: string, known: string[]): string {
  const guess = closest(word, known);
  return guess !== undefined ? `; did you mean "${guess}"?` : '';
}

export function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}


/** Finds the items a label selector matches, using a posting list per label and a memo. */
export class LabelIndex<T> {
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

export interface Parsed {
  pools: Item<IPAddressPoolSpec>[];
  peers: Item<BGPPeerSpec>[];
  bgpAdvs: Item<BGPAdvertisementSpec>[];
  l2Advs: Item<L2AdvertisementSpec>[];
  communities: Item<CommunitySpec>[];
  bfds: Item<BFDProfileSpec>[];
  frrConfigs: Item<FRRConfigurationSpec>[];
  /** kind -> names of objects dropped for schema errors (references to them are not reported again). */
  broken: Map<string, Set<string>>;
}

export function markBroken(out: Parsed, kind: string, name: string): void {
  const s = out.broken.get(kind) ?? new Set<string>();
  s.add(name);
  out.broken.set(kind, s);
}

export function isBroken(out: { broken: Map<string, Set<string>> }, kind: string, name: string): boolean {
  return out.broken.get(kind)?.has(name) ?? false;
}


export function crdItem<S>(lo: LoadedObject, spec: S): Item<S> {
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

export function checkDuplicateNames<S>(d: Diags, items: Item<S>[], kind: string): Item<S>[] {
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

/** Whether some spec fields of the item failed the schema (it is checked, but not against others). */
export function isDamaged<S>(it: Item<S> | undefined): boolean {
  return !!it?.damaged && it.damaged.size > 0;
}

// Reads configuration files (YAML, multi-document, or JSON) into LoadedObjects that remember
// where every field came from, then builds the Config. The only part of src/config that touches
// the file system is `readInputs`.

import { readFileSync } from 'node:fs';
import { Composer, LineCounter, Parser, parseDocument, type Document } from 'yaml';
import { fastParseDocuments } from './fastyaml.ts';
import { lineAt } from './yamlpos.ts';
import type { Config, Diagnostic, LoadedObject, SourceRef } from './types.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../model/objects.ts';
import { buildConfig } from './build.ts';
import { listRoot, updateListing, type RootListing } from './listing.ts';
import { serviceWarnings } from './service.ts';
import { compareDiagnostics, fieldDiagnostic as diag, isRecord, type FieldPath } from './path.ts';

export type { LoadedObject } from './types.ts';

export interface InputSet {
  /** undefined when errors.length > 0 */
  config?: Config;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  services: Service[];
  nodes: Node[];
  endpointSlices: EndpointSlice[];
  namespaces: Namespace[];
  secrets: Secret[];
  /** every document read, in file order */
  objects: LoadedObject[];
  /**
   * The cluster objects of every file read (file order), and whether the file is whole: a file
   * that cannot be read or parsed, or one of whose cluster objects is invalid, has `ok: false`
   * (its objects are then not known: a long-running reader keeps their last good state). An
   * unreadable path given on the command line is one entry with `ok: false`. Absent on
   * InputSets not read from files (a cluster).
   */
  files?: FileInputs[];
}

/** The cluster objects read from one file (see InputSet.files). */
export interface FileObjects {
  services: Service[];
  nodes: Node[];
  endpointSlices: EndpointSlice[];
  namespaces: Namespace[];
  secrets: Secret[];
}

export interface FileInputs extends FileObjects {
  file: string;
  ok: boolean;
}

function errorMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === 'ENOENT') return 'no such file or directory';
  if (e && e.code === 'EACCES') return 'permission denied';
  if (e && e.code === 'EISDIR') return 'is a directory';
  return e && typeof e.message === 'string' ? e.message : String(err);
}

/**
 * Reads files or folders (recursively: `*.yaml`, `*.yml`, `*.json`), in sorted file order.
 * An unreadable path gives an `errors` entry with line 0.
 */
export function readInputs(paths: string[]): InputSet {
  return new InputCache().read(paths);
}

export interface InputCacheOptions {
  /**
   * Keep every document in `objects` of the InputSets returned (default true, as readInputs).
   * With false, `objects` holds only the configuration documents (not Service, Node,
   * EndpointSlice, Namespace, Secret): the cluster objects are kept as plain objects only, and
   * the parsed YAML (positions) of their files is not retained. For long-running processes
   * with many Services (standalone).
   */
  retainObjects?: boolean;
}

interface CachedFile {
  key: string;
  parsed: ParsedFile;
}

/**
 * readInputs with a memory of the files read before: a file whose mtime, ctime, size and
 * inode are unchanged is not read or parsed again; deleted files are forgotten. `read` returns
 * the same InputSet as readInputs would (errors, warnings, order), built from the cached
 * documents (buildConfig runs over all configuration documents every time).
 */
export class InputCache {
  private files = new Map<string, CachedFile>();
  /** buildConfig's last result, reused while its inputs are the same objects. */
  private readonly memo = new BuildMemo();
  /** The files of the last read, per path given (kept up to date from `changed`). */
  private listings: RootListing[] | undefined;
  private readonly retain: boolean;
  /** Files parsed (not taken from the cache) by the last `read`. */
  lastParsed: string[] = [];

  constructor(opts: InputCacheOptions = {}) {
    this.retain = opts.retainObjects ?? true;
  }

  /** Number of files held. */
  get size(): number {
    return this.files.size;
  }

  clear(): void {
    this.files.clear();
    this.listings = undefined;
  }

  /**
   * Reads `paths` like readInputs. With `changed` (absolute paths of the files created,
   * written or removed since the last read, e.g. from a folder watcher), only those are
   * looked at: the other files are taken as they were (not even `stat`ed). The result is the
   * same as a full read as long as every change is in `changed`. Without it (or on the first
   * read, or other `paths`), every file is `stat`ed.
   */
  read(paths: string[], changed?: readonly string[]): InputSet {
    const prev = this.listings;
    let listings: RootListing[];
    if (changed !== undefined && prev !== undefined && prev.length === paths.length && prev.every((l, i) => l.root === paths[i])) {
      listings = prev.map((l) => (changed.every((c) => updateListing(l, c)) ? l : listRoot(l.root)));
    } else listings = paths.map(listRoot);
    this.listings = listings;
    const parsed: ParsedFile[] = [];
    const readErrors: Diagnostic[] = [];
    const seen = new Map<string, CachedFile>();
    this.lastParsed = [];
    for (const l of listings) {
      if (l.error !== undefined) {
        readErrors.push({ ...fileError(l.root, 0, `cannot read: ${errorMessage(l.error)}`), code: 'unreadable' });
        continue;
      }
      for (const f of l.files) {
        const hit = seen.get(f.file) ?? this.files.get(f.file);
        if (hit && hit.key === f.key) {
          seen.set(f.file, hit);
          parsed.push(hit.parsed);
          continue;
        }
        let bytes: Buffer;
        try {
          bytes = readFileSync(f.file);
        } catch (err) {
          readErrors.push({ ...fileError(f.file, 0, `cannot read: ${errorMessage(err)}`), code: 'unreadable' });
          continue;
        }
        const pf = (this.retain ? undefined : parseFileFast(f.file, bytes)) ?? parseFile(f.file, bytes.toString('utf8'), this.retain);
        this.lastParsed.push(f.file);
        seen.set(f.file, { key: f.key, parsed: pf });
        parsed.push(pf);
      }
    }
    this.files = seen;
    const set = assemble(parsed, this.retain, this.memo);
    if (readErrors.length > 0) {
      set.files = [...readErrors.map((d) => ({ file: d.file, ok: false, ...noObjects() })), ...(set.files ?? [])];
      set.errors = [...readErrors, ...set.errors];
      delete set.config;
    }
    return set;
  }
}

function makeLoaded(
  object: Record<string, unknown>,
  file: string,
  docRoot: unknown,
  lc: LineCounter,
  base: FieldPath = [],
): LoadedObject {
  const meta = isRecord(object['metadata']) ? object['metadata'] : {};
  const kind = typeof object['kind'] === 'string' ? object['kind'] : '';
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
  const lineOf = (path: (string | number)[]): number => {
    return lineAt(docRoot, lc, base.length ? [...base, ...path] : path);
  };
  const line = lineOf([]);
  const source: SourceRef = { file, line, kind, name };
  if (namespace !== undefined) source.namespace = namespace;
  return { object, source, lineOf };
}

/** A diagnostic about a whole file (or a line of it) rather than an object's field. */
function fileError(file: string, line: number, message: string): Diagnostic {
  return { file, line, kind: '', name: '', field: '', message };
}

function checkMeta(lo: LoadedObject, errors: Diagnostic[]): boolean {
  const meta = lo.object['metadata'];
  if (!isRecord(meta)) {
    errors.push(diag(lo, ['metadata'], meta === undefined ? 'required field is missing' : 'must be an object'));
    return false;
  }
  if (typeof meta['name'] !== 'string' || meta['name'] === '') {
    errors.push(diag(lo, ['metadata', 'name'], meta['name'] === undefined ? 'required field is missing' : 'must be a non-empty string'));
    return false;
  }
  for (const f of ['labels', 'annotations']) {
    const m = meta[f];
    if (m === undefined) continue;
    if (!isRecord(m)) {
      errors.push(diag(lo, ['metadata', f], 'must be an object of strings'));
      return false;
    }
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'string') {
        errors.push(diag(lo, ['metadata', f, k], 'must be a string'));
        return false;
      }
    }
  }
  return true;
}

function checkStringList(lo: LoadedObject, path: FieldPath, v: unknown, errors: Diagnostic[]): boolean {
  if (v === undefined || v === null) return true;
  if (!Array.isArray(v)) {
    errors.push(diag(lo, path, 'must be a list of strings'));
    return false;
  }
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') {
      errors.push(diag(lo, [...path, i], 'must be a string'));
      return false;
    }
  }
  return true;
}

function checkService(lo: LoadedObject, errors: Diagnostic[]): boolean {
  const spec = lo.object['spec'];
  if (spec === undefined) return true;
  if (!isRecord(spec)) {
    errors.push(diag(lo, ['spec'], 'must be an object'));
    return false;
  }
  for (const f of ['type', 'loadBalancerIP', 'loadBalancerClass', 'externalTrafficPolicy', 'ipFamilyPolicy', 'clusterIP']) {
    if (spec[f] !== undefined && spec[f] !== null && typeof spec[f] !== 'string') {
      errors.push(diag(lo, ['spec', f], 'must be a string'));
      return false;
    }
  }
  if (!checkStringList(lo, ['spec', 'ipFamilies'], spec['ipFamilies'], errors)) return false;
  if (!checkStringList(lo, ['spec', 'clusterIPs'], spec['clusterIPs'], errors)) return false;
  const ports = spec['ports'];
  if (ports !== undefined && ports !== null) {
    if (!Array.isArray(ports)) {
      errors.push(diag(lo, ['spec', 'ports'], 'must be a list'));
      return false;
    }
    for (let i = 0; i < ports.length; i++) {
      const p: unknown = ports[i];
      if (!isRecord(p)) {
        errors.push(diag(lo, ['spec', 'ports', i], 'must be an object'));
        return false;
      }
      const port = p['port'];
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        errors.push(diag(lo, ['spec', 'ports', i, 'port'], port === undefined ? 'required field is missing' : 'must be an integer 1..65535'));
        return false;
      }
    }
  }
  return true;
}

function checkEndpointSlice(lo: LoadedObject, errors: Diagnostic[]): boolean {
  const eps = lo.object['endpoints'];
  if (eps === undefined || eps === null) return true;
  if (!Array.isArray(eps)) {
    errors.push(diag(lo, ['endpoints'], 'must be a list'));
    return false;
  }
  for (let i = 0; i < eps.length; i++) {
    const e: unknown = eps[i];
    if (!isRecord(e)) {
      errors.push(diag(lo, ['endpoints', i], 'must be an object'));
      return false;
    }
    if (!Array.isArray(e['addresses'])) {
      errors.push(diag(lo, ['endpoints', i, 'addresses'], e['addresses'] === undefined ? 'required field is missing' : 'must be a list of strings'));
      return false;
    }
    if (!checkStringList(lo, ['endpoints', i, 'addresses'], e['addresses'], errors)) return false;
    if (e['nodeName'] !== undefined && e['nodeName'] !== null && typeof e['nodeName'] !== 'string') {
      errors.push(diag(lo, ['endpoints', i, 'nodeName'], 'must be a string'));
      return false;
    }
  }
  return true;
}

function checkSecret(lo: LoadedObject, errors: Diagnostic[]): boolean {
  for (const f of ['data', 'stringData']) {
    const d = lo.object[f];
    if (d === undefined || d === null) continue;
    if (!isRecord(d)) {
      errors.push(diag(lo, [f], 'must be an object of strings'));
      return false;
    }
    for (const [k, v] of Object.entries(d)) {
      if (typeof v !== 'string') {
        errors.push(diag(lo, [f, k], 'must be a string'));
        return false;
      }
    }
  }
  return true;
}

/** Kinds that are inputs of the product but not configuration (accepted and ignored by validate). */
export const CLUSTER_KINDS = new Set(['Service', 'Node', 'EndpointSlice', 'Namespace', 'Secret']);

/** One document of a file, as kept between reads. */
type Entry =
  /** a configuration document (or one of an unknown kind): buildConfig reads it every time */
  | { lo: LoadedObject; cluster?: undefined }
  /** a cluster object (Service...), checked once when its file was parsed */
  | { cluster: string; object: Record<string, unknown>; ok: boolean; errors: Diagnostic[]; warnings: Diagnostic[]; lo?: LoadedObject };

interface ParsedFile {
  file: string;
  /** invalid YAML, non-object documents... (file order) */
  errors: Diagnostic[];
  entries: Entry[];
  /** Its cluster objects, made by the first assemble (see InputSet.files). */
  inputs?: FileInputs;
}

function checkCluster(lo: LoadedObject, kind: string, errors: Diagnostic[]): boolean {
  if (!checkMeta(lo, errors)) return false;
  switch (kind) {
    case 'Service':
      return checkService(lo, errors);
    case 'EndpointSlice':
      return checkEndpointSlice(lo, errors);
    case 'Secret':
      return checkSecret(lo, errors);
    default:
      return true;
  }
}

const NONE: Diagnostic[] = [];

/** `compact`: the object is already exact-size with shared strings (fastyaml): no copy. */
function toEntry(lo: LoadedObject, retain: boolean, compact = false): Entry {
  const kind = lo.source.kind;
  if (!CLUSTER_KINDS.has(kind)) return { lo };
  const errors: Diagnostic[] = [];
  const ok = checkCluster(lo, kind, errors);
  const warnings = ok && kind === 'Service' ? serviceWarnings(lo) : NONE;
  const e: Entry = { cluster: kind, object: retain || compact ? lo.object : compactCopy(lo.object), ok, errors: errors.length > 0 ? errors : NONE, warnings: warnings.length > 0 ? warnings : NONE };
  if (retain) e.lo = lo;
  return e;
}

/** True when a JSON round trip gives the same value back (no NaN, ±Infinity, -0). */
function jsonSafe(v: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return true;
  if (Array.isArray(v)) return v.every((x) => jsonSafe(x, depth + 1));
  if (isRecord(v) && Object.getPrototypeOf(v) === Object.prototype) {
    for (const k in v) if (!jsonSafe(v[k], depth + 1)) return false;
    return true;
  }
  return false;
}

/**
 * The same plain object in less memory (kept for as long as its file is unchanged): the
 * objects built while parsing YAML have over-sized arrays and separate copies of every string;
 * a JSON round trip gives exact-size objects (measured: 1000 -> 430 bytes per Service).
 */
function compactCopy(o: Record<string, unknown>): Record<string, unknown> {
  return jsonSafe(o) ? (JSON.parse(JSON.stringify(o)) as Record<string, unknown>) : o;
}

/**
 * parseFile for files of plain YAML (src/config/fastyaml.ts), undefined for anything else.
 * Cluster objects are taken as the fast reader built them; a diagnostic about one re-parses
 * its document with the `yaml` library for the line. Configuration documents (few) are parsed
 * by the library, each on its own, at their lines in the file.
 */
function parseFileFast(file: string, bytes: Buffer): ParsedFile | undefined {
  const docs = fastParseDocuments(bytes);
  if (!docs) return undefined;
  const out: ParsedFile = { file, errors: [], entries: [] };
  for (const d of docs) {
    // the document's text at its own lines (the rest of the file as empty lines)
    const text = (): string => '\n'.repeat(d.line - 1) + bytes.toString('latin1', d.start, d.end);
    const v = d.value as Record<string, unknown>;
    const kind = typeof v['kind'] === 'string' ? v['kind'] : '';
    if (!CLUSTER_KINDS.has(kind)) {
      const sub = parseFile(file, text(), false);
      if (sub.errors.length > 0) return undefined;
      out.entries.push(...sub.entries);
      continue;
    }
    let parsed: { root: unknown; lc: LineCounter } | undefined;
    const lineOf = (path: FieldPath): number => {
      if (path.length === 0) return d.contentLine;
      if (!parsed) {
        const lc = new LineCounter();
        parsed = { root: parseDocument(text(), { lineCounter: lc, prettyErrors: false, uniqueKeys: true }).contents, lc };
      }
      return lineAt(parsed.root, parsed.lc, path);
    };
    const meta = isRecord(v['metadata']) ? v['metadata'] : {};
    const source: SourceRef = { file, line: d.contentLine, kind, name: typeof meta['name'] === 'string' ? meta['name'] : '' };
    if (typeof meta['namespace'] === 'string') source.namespace = meta['namespace'];
    out.entries.push(toEntry({ object: v, source, lineOf }, false, true));
  }
  return out;
}

/** Parses one file into documents (cluster objects already checked). */
function parseFile(file: string, text: string, retain: boolean): ParsedFile {
  const out: ParsedFile = { file, errors: [], entries: [] };
  const lc = new LineCounter();
  // Documents are composed one at a time (what parseAllDocuments does, without keeping them
  // all): the syntax tree of a document nobody refers to any more is garbage at once, so a
  // file of 100k Services never holds 100k syntax trees.
  try {
    const parser = new Parser(lc.addNewLine);
    const composer = new Composer({ prettyErrors: false, uniqueKeys: true });
    for (const doc of composer.compose(parser.parse(text))) {
      if (doc.errors.length > 0) {
        // the first document with an error: the file is rejected as a whole
        const e = doc.errors[0];
        const line = e ? lc.linePos(e.pos[0]).line : 0;
        const msg = (e?.message ?? 'syntax error').split('\n')[0] ?? 'syntax error';
        // A second object pasted without a `---` line repeats apiVersion/kind at the top level.
        const lineText = line > 0 ? (text.split('\n')[line - 1] ?? '') : '';
        const hint = e?.code === 'DUPLICATE_KEY' && /^(apiVersion|kind):/.test(lineText) ? ' (a new object starts here: separate documents with a "---" line)' : '';
        return { file, errors: [fileError(file, line, `invalid YAML: ${msg.replace(/ at line \d+, column \d+:?$/, '')}${hint}`)], entries: [] };
      }
      addDocument(out, file, doc, lc, retain);
    }
  } catch (err) {
    return { file, errors: [fileError(file, 0, `invalid YAML: ${errorMessage(err)}`)], entries: [] };
  }
  return out;
}

function addDocument(out: ParsedFile, file: string, doc: Document.Parsed, lc: LineCounter, retain: boolean): void {
  if (doc.contents === null) return;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    const line = doc.contents.range ? lc.linePos(doc.contents.range[0]).line : 0;
    out.errors.push(fileError(file, line, `invalid YAML: ${errorMessage(err)}`));
    return;
  }
  if (value === null || value === undefined) return;
  if (!isRecord(value)) {
    const line = doc.contents.range ? lc.linePos(doc.contents.range[0]).line : 0;
    out.errors.push(fileError(file, line, `document must be an object, got ${Array.isArray(value) ? 'a list' : typeof value}`));
    return;
  }
  const contents = doc.contents;
  if (value['kind'] === 'List' && Array.isArray(value['items'])) {
    // `kubectl get -o yaml` output: every item is an object of its own
    value['items'].forEach((item: unknown, i: number) => {
      if (isRecord(item)) out.entries.push(toEntry(makeLoaded(item, file, contents, lc, ['items', i]), retain));
      else {
        out.errors.push({ file, line: lineAt(contents, lc, ['items', i]), kind: 'List', name: '', field: `items[${i}]`, message: 'must be an object' });
      }
    });
    return;
  }
  out.entries.push(toEntry(makeLoaded(value, file, contents, lc), retain));
}

/** The InputSet of parsed files: cluster objects sorted out, buildConfig over the rest. */
function assemble(files: ParsedFile[], retain: boolean, memo?: BuildMemo): InputSet {
  const set: InputSet = {
    errors: [],
    warnings: [],
    services: [],
    nodes: [],
    endpointSlices: [],
    namespaces: [],
    secrets: [],
    objects: [],
  };
  const config: LoadedObject[] = [];
  for (const f of files) {
    for (const e of f.errors) set.errors.push(e);
    for (const e of f.entries) {
      if (e.cluster === undefined) {
        config.push(e.lo);
        set.objects.push(e.lo);
      } else if (retain && e.lo) set.objects.push(e.lo);
    }
  }
  set.files = [];
  for (const f of files) {
    // made once per parsed file (a file read again is a new ParsedFile); read-only afterwards
    const made = f.inputs !== undefined;
    const mine: FileInputs = f.inputs ?? { file: f.file, ok: f.errors.length === 0, ...noObjects() };
    f.inputs = mine;
    set.files.push(mine);
    for (const e of f.entries) {
      if (e.cluster === undefined) continue;
      for (const d of e.errors) set.errors.push(d);
      for (const w of e.warnings) set.warnings.push(w);
      if (made) continue;
      if (!e.ok) {
        mine.ok = false;
        continue;
      }
      switch (e.cluster) {
        case 'Service':
          mine.services.push(e.object as unknown as Service);
          break;
        case 'Node':
          mine.nodes.push(e.object as unknown as Node);
          break;
        case 'EndpointSlice':
          mine.endpointSlices.push(e.object as unknown as EndpointSlice);
          break;
        case 'Namespace':
          mine.namespaces.push(e.object as unknown as Namespace);
          break;
        case 'Secret':
          mine.secrets.push(e.object as unknown as Secret);
          break;
      }
    }
    // (a loop, not push(...): a file may hold 100k Services)
    for (const o of mine.services) set.services.push(o);
    for (const o of mine.nodes) set.nodes.push(o);
    for (const o of mine.endpointSlices) set.endpointSlices.push(o);
    for (const o of mine.namespaces) set.namespaces.push(o);
    for (const o of mine.secrets) set.secrets.push(o);
  }
  // cluster objects are ignored by buildConfig: only the configuration documents are passed
  const built = memo ? memo.build(config, set.secrets, set.nodes) : buildConfig(config, { secrets: set.secrets, nodes: set.nodes });
  set.errors.push(...built.errors);
  set.warnings.push(...built.warnings);
  set.errors.sort(compareDiagnostics);
  set.warnings.sort(compareDiagnostics);
  if (set.errors.length === 0 && built.config) set.config = built.config;
  return set;
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * buildConfig, but the previous result (the same Config object) when the configuration
 * documents, Secrets and Nodes are the very objects of the last call (files unchanged): a
 * reload that only touched Services does not rebuild the configuration, and consumers can
 * tell an unchanged Config by identity.
 */
class BuildMemo {
  private last: { objects: LoadedObject[]; secrets: Secret[]; nodes: Node[]; result: ReturnType<typeof buildConfig> } | undefined;

  build(objects: LoadedObject[], secrets: Secret[], nodes: Node[]): ReturnType<typeof buildConfig> {
    const l = this.last;
    if (l && sameItems(l.objects, objects) && sameItems(l.secrets, secrets) && sameItems(l.nodes, nodes)) return l.result;
    const result = buildConfig(objects, { secrets, nodes });
    this.last = { objects, secrets, nodes, result };
    return result;
  }
}

function noObjects(): FileObjects {
  return { services: [], nodes: [], endpointSlices: [], namespaces: [], secrets: [] };
}

/** Same as readInputs, from text. */
export function parseInputs(files: { file: string; text: string }[]): InputSet {
  return assemble(
    files.map(({ file, text }) => parseFile(file, text, true)),
    true,
  );
}

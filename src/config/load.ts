// Reads configuration files (YAML, multi-document, or JSON) into LoadedObjects that remember
// where every field came from, then builds the Config. The only part of src/config that touches
// the file system is `readInputs`.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { lineAt } from './yamlpos.ts';
import type { Config, Diagnostic, SourceRef } from './types.ts';
import type { EndpointSlice, Namespace, Node, Secret, Service } from '../model/objects.ts';
import { buildConfig } from './build.ts';
import { compareDiagnostics, fieldDiagnostic as diag, isRecord, type FieldPath } from './path.ts';

export interface LoadedObject {
  object: Record<string, unknown>;
  source: SourceRef;
  /** 1-based line of the field at `path` (or of its nearest existing parent); 0 when unknown. */
  lineOf(path: (string | number)[]): number;
  /** Read from the Kubernetes API (already validated and pruned by the API server). */
  fromApiServer?: boolean;
}

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
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

function listFiles(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) listFiles(p, out);
    else if (EXTENSIONS.some((e) => name.endsWith(e))) out.push(p);
  }
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
  const files: { file: string; text: string }[] = [];
  const readErrors: Diagnostic[] = [];
  for (const p of paths) {
    const found: string[] = [];
    try {
      if (statSync(p).isDirectory()) listFiles(p, found);
      else found.push(p);
    } catch (err) {
      readErrors.push(fileError(p, 0, `cannot read: ${errorMessage(err)}`));
      continue;
    }
    for (const f of found) {
      try {
        files.push({ file: f, text: readFileSync(f, 'utf8') });
      } catch (err) {
        readErrors.push(fileError(f, 0, `cannot read: ${errorMessage(err)}`));
      }
    }
  }
  const set = parseInputs(files);
  if (readErrors.length > 0) {
    set.errors = [...readErrors, ...set.errors];
    delete set.config;
  }
  return set;
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

/** Same as readInputs, from text. */
export function parseInputs(files: { file: string; text: string }[]): InputSet {
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
  for (const { file, text } of files) {
    const lc = new LineCounter();
    let docs;
    try {
      docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    } catch (err) {
      set.errors.push(fileError(file, 0, `invalid YAML: ${errorMessage(err)}`));
      continue;
    }
    const list = Array.isArray(docs) ? docs : [];
    const bad = list.find((d) => d.errors.length > 0);
    if (bad) {
      const e = bad.errors[0];
      const line = e?.linePos?.[0]?.line ?? (e ? lc.linePos(e.pos[0]).line : 0);
      const msg = (e?.message ?? 'syntax error').split('\n')[0] ?? 'syntax error';
      // A second object pasted without a `---` line repeats apiVersion/kind at the top level.
      const lineText = line > 0 ? (text.split('\n')[line - 1] ?? '') : '';
      const hint = e?.code === 'DUPLICATE_KEY' && /^(apiVersion|kind):/.test(lineText) ? ' (a new object starts here: separate documents with a "---" line)' : '';
      set.errors.push(fileError(file, line, `invalid YAML: ${msg.replace(/ at line \d+, column \d+:?$/, '')}${hint}`));
      continue;
    }
    for (const doc of list) {
      if (doc.contents === null) continue;
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 1000 });
      } catch (err) {
        const line = doc.contents.range ? lc.linePos(doc.contents.range[0]).line : 0;
        set.errors.push(fileError(file, line, `invalid YAML: ${errorMessage(err)}`));
        continue;
      }
      if (value === null || value === undefined) continue;
      if (!isRecord(value)) {
        const line = doc.contents.range ? lc.linePos(doc.contents.range[0]).line : 0;
        set.errors.push(fileError(file, line, `document must be an object, got ${Array.isArray(value) ? 'a list' : typeof value}`));
        continue;
      }
      if (value['kind'] === 'List' && Array.isArray(value['items'])) {
        // `kubectl get -o yaml` output: every item is an object of its own
        value['items'].forEach((item: unknown, i: number) => {
          if (isRecord(item)) set.objects.push(makeLoaded(item, file, doc.contents, lc, ['items', i]));
          else {
            set.errors.push({ file, line: lineAt(doc.contents, lc, ['items', i]), kind: 'List', name: '', field: `items[${i}]`, message: 'must be an object' });
          }
        });
        continue;
      }
      set.objects.push(makeLoaded(value, file, doc.contents, lc));
    }
  }
  for (const lo of set.objects) {
    const kind = lo.source.kind;
    if (!CLUSTER_KINDS.has(kind)) continue;
    if (!checkMeta(lo, set.errors)) continue;
    switch (kind) {
      case 'Service':
        if (checkService(lo, set.errors)) set.services.push(lo.object as unknown as Service);
        break;
      case 'Node':
        set.nodes.push(lo.object as unknown as Node);
        break;
      case 'EndpointSlice':
        if (checkEndpointSlice(lo, set.errors)) set.endpointSlices.push(lo.object as unknown as EndpointSlice);
        break;
      case 'Namespace':
        set.namespaces.push(lo.object as unknown as Namespace);
        break;
      case 'Secret':
        if (checkSecret(lo, set.errors)) set.secrets.push(lo.object as unknown as Secret);
        break;
    }
  }
  const built = buildConfig(set.objects, { secrets: set.secrets, nodes: set.nodes });
  set.errors.push(...built.errors);
  set.warnings.push(...built.warnings);
  set.errors.sort(compareDiagnostics);
  set.warnings.sort(compareDiagnostics);
  if (set.errors.length === 0 && built.config) set.config = built.config;
  return set;
}

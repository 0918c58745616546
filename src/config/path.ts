// Field paths (`spec.addresses[1]`, `spec.nodeSelectors[0].matchLabels["kubernetes.io/hostname"]`)
// and Diagnostic formatting.

import type { Diagnostic, LoadedObject } from './types.ts';

export type FieldPath = (string | number)[];

const PLAIN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'symbol') out += `[${String(seg)}]`;
    else if (PLAIN.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `FILE:LINE: Kind/name: field.path: message` (parts that are empty are left out). */
export function formatDiagnostic(d: Diagnostic): string {
  const parts = [`${d.file}:${d.line}`];
  if (d.kind || d.name) parts.push(d.name ? `${d.kind}/${d.name}` : d.kind);
  if (d.field) parts.push(d.field);
  parts.push(d.message);
  return parts.join(': ');
}

/** A diagnostic about the field at `path` of a loaded object (its own kind/name and line). */
export function fieldDiagnostic(lo: LoadedObject, path: FieldPath, message: string): Diagnostic {
  return {
    file: lo.source.file,
    line: lo.lineOf(path),
    kind: lo.source.kind,
    name: lo.source.name,
    field: formatPath(path),
    message,
  };
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  if (a.field !== b.field) return a.field < b.field ? -1 : 1;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function getAt(obj: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg];
    else if (isRecord(cur) && typeof seg === 'string') cur = cur[seg];
    else return undefined;
  }
  return cur;
}

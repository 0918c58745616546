// Statistics and reporting for the benchmarks: median/min/max over runs, percentiles, a human
// table, and one JSON line per result.

import { appendFileSync } from 'node:fs';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? (v[mid] ?? 0) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
  return { median, min: v[0] ?? 0, max: v[v.length - 1] ?? 0 };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: number[], p: number): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1];
}

/** A result: the fixed keys plus any figures (numbers, strings, null when not measured). */
export interface BenchResult {
  bench: string;
  n: number;
  impl: string;
  seconds?: number | null;
  rssMB?: number | null;
  [key: string]: string | number | boolean | null | undefined;
}

export function round(x: number | undefined | null, digits = 3): number | null {
  if (x === undefined || x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Adds `key`, `keyMin`, `keyMax` (median and range over runs) to a result. */
export function putSpread(r: BenchResult, key: string, values: number[], digits = 3): void {
  const s = spread(values);
  r[key] = s ? round(s.median, digits) : null;
  r[`${key}Min`] = s ? round(s.min, digits) : null;
  r[`${key}Max`] = s ? round(s.max, digits) : null;
}

let jsonOut: string | undefined;

/** Also append every JSON line to this file. */
export function setJsonOutput(file: string | undefined): void {
  jsonOut = file;
}

/** Appends an already-formatted JSON line (e.g. from a child benchmark) to the --json file. */
export function appendJsonLine(line: string): void {
  if (jsonOut) appendFileSync(jsonOut, line.trimEnd() + '\n');
}

export function emitJson(r: BenchResult): void {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) clean[k] = v;
  const line = JSON.stringify(clean);
  process.stdout.write(line + '\n');
  if (jsonOut) appendFileSync(jsonOut, line + '\n');
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const s = v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 3);
    return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  }
  return String(v);
}

/** Formats median (min–max) of a result's spread triple. */
export function fmtSpread(r: BenchResult, key: string): string {
  const m = r[key];
  if (m === undefined || m === null) return '-';
  const lo = r[`${key}Min`];
  const hi = r[`${key}Max`];
  if (typeof lo === 'number' && typeof hi === 'number' && lo !== hi) return `${cell(m)} (${cell(lo)}–${cell(hi)})`;
  return cell(m);
}

/** Prints a Markdown-style table (readable as text, pasteable into docs). */
export function printTable(title: string, headers: string[], rows: unknown[][]): void {
  const cells = rows.map((row) => row.map((c) => (typeof c === 'string' ? c : cell(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (cols: string[]): string => `| ${cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const out: string[] = ['', `### ${title}`, '', line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`];
  for (const r of cells) out.push(line(r));
  out.push('');
  process.stderr.write(out.join('\n') + '\n');
}

export function log(msg: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[${t}] ${msg}\n`);
}

// The standalone state file: the IPs assigned to each Service, so that a restart hands every
// Service the same addresses again. JSON, written atomically (temp file + fsync + rename +
// directory fsync) so a crash leaves either the old or the new file, never a torn one.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tryParseIP } from '../ip/index.ts';

export interface StoredAssignment {
  ips: string[];
  pool: string;
}

export interface StateFile {
  version: 1;
  /** `namespace/name` -> assignment. */
  assignments: Record<string, StoredAssignment>;
}

export interface LoadedState {
  assignments: Record<string, StoredAssignment>;
  /** Set when the file exists but could not be used; the state then starts empty. */
  error?: string;
  /** Entries dropped because they were malformed (the rest is kept). */
  dropped: string[];
}

export function loadState(path: string): LoadedState {
  if (!existsSync(path)) return { assignments: {}, dropped: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { assignments: {}, dropped: [], error: `${path}: cannot read state file: ${(e as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { assignments: {}, dropped: [], error: `${path}: state file is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { assignments: {}, dropped: [], error: `${path}: state file must be a JSON object` };
  }
  const d = doc as Record<string, unknown>;
  if (d.version !== 1) return { assignments: {}, dropped: [], error: `${path}: unsupported state file version ${JSON.stringify(d.version)}` };
  const raw = d.assignments;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { assignments: {}, dropped: [], error: `${path}: "assignments" must be an object` };
  }
  const assignments: Record<string, StoredAssignment> = {};
  const dropped: string[] = [];
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    const a = v as Partial<StoredAssignment> | null;
    const ok =
      /^[^/\s]+\/[^/\s]+$/.test(key) &&
      typeof a === 'object' &&
      a !== null &&
      typeof a.pool === 'string' &&
      Array.isArray(a.ips) &&
      a.ips.length > 0 &&
      a.ips.every((ip) => typeof ip === 'string' && tryParseIP(ip) !== undefined);
    if (!ok) {
      dropped.push(key);
      continue;
    }
    assignments[key] = { ips: [...(a.ips as string[])], pool: a.pool as string };
  }
  return { assignments, dropped };
}

export function serializeState(assignments: Record<string, StoredAssignment>): string {
  const sorted: Record<string, StoredAssignment> = {};
  for (const k of Object.keys(assignments).sort()) {
    const a = assignments[k];
    if (a) sorted[k] = { ips: [...a.ips], pool: a.pool };
  }
  const doc: StateFile = { version: 1, assignments: sorted };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Name of the temporary file used while writing `path` (hidden, same directory). */
export function stateTempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/** Writes the state atomically. Throws (with the path in the message) on I/O errors. */
export function saveState(path: string, assignments: Record<string, StoredAssignment>): void {
  const tmp = stateTempName(path);
  const data = serializeState(assignments);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', 0o644);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw new Error(`cannot write state file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // directory fsync is best effort (not supported everywhere)
  }
}

// The standalone state file: the IPs assigned to each Service, so that a restart hands every
// Service the same addresses again. JSON, written atomically (temp file + fsync + rename +
// directory fsync) so a crash leaves either the old or the new file, never a torn one.
//
// Two generations are kept: before a new file replaces a good one, the good one is linked as
// `<path>.prev`. A file that is corrupt anyway (a disk that lost the tail, a hand edit) is never
// used silently: loadState falls back to `.prev` and says so in `error` and `recoveredFrom`, and
// the caller keeps showing that until it has written a good file again. A corrupt file is never
// rotated into `.prev` (see SaveOptions.rotate), so the good generation is not lost.

import { closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
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
  /**
   * Set when the file exists but could not be used: the assignments then come from the
   * previous generation (`recoveredFrom`), or are empty when that is missing or bad too.
   */
  error?: string;
  /** The previous generation's path, when the assignments were recovered from it. */
  recoveredFrom?: string;
  /** When the recovered generation was written (ISO time of the file), with recoveredFrom. */
  recoveredWrittenAt?: string;
  /** Entries dropped because they were malformed (the rest is kept). */
  dropped: string[];
}

/** The previous generation of the state file at `path`. */
export function previousStateName(path: string): string {
  return `${path}.prev`;
}

/**
 * Loads the state file; when it exists but cannot be used, falls back to the previous
 * generation (`<path>.prev`) and reports both. Never throws.
 */
export function loadState(path: string): LoadedState {
  const main = loadOne(path);
  if (main.error === undefined) return main;
  const prevPath = previousStateName(path);
  if (!existsSync(prevPath)) return { ...main, error: `${main.error}; no previous generation (${prevPath}) to recover from` };
  const prev = loadOne(prevPath);
  if (prev.error !== undefined) return { ...main, error: `${main.error}; the previous generation is unusable too: ${prev.error}` };
  let writtenAt: string | undefined;
  try {
    writtenAt = statSync(prevPath).mtime.toISOString();
  } catch {
    writtenAt = undefined;
  }
  return {
    assignments: prev.assignments,
    dropped: prev.dropped,
    error: `${main.error}; recovered ${Object.keys(prev.assignments).length} assignment(s) from the previous generation ${prevPath}`,
    recoveredFrom: prevPath,
    ...(writtenAt !== undefined ? { recoveredWrittenAt: writtenAt } : {}),
  };
}

function loadOne(path: string): LoadedState {
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

export interface SaveOptions {
  /**
   * Keep the file being replaced as `<path>.prev` (default true). Pass false while the file on
   * disk is known to be bad (loadState reported an error), so that the good previous
   * generation stays.
   */
  rotate?: boolean;
}

/** Writes the state atomically. Throws (with the path in the message) on I/O errors. */
export function saveState(path: string, assignments: Record<string, StoredAssignment>, opts: SaveOptions = {}): void {
  writeStateText(path, serializeState(assignments), opts);
}

/** saveState with the file's text already made by serializeState (100k Services: ~10 MB, made once). */
export function writeStateText(path: string, data: string, opts: SaveOptions = {}): void {
  const tmp = stateTempName(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', 0o644);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (opts.rotate !== false && existsSync(path)) {
      // The current file becomes the previous generation (a hard link: `path` never vanishes).
      const prev = previousStateName(path);
      if (existsSync(prev)) unlinkSync(prev);
      linkSync(path, prev);
    }
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

/**
 * writeStateText on the thread pool (open, write, fsync, link, rename, folder fsync as
 * promises): the event loop keeps running while the disk works. Same steps, same guarantees.
 */
async function writeStateTextAsync(path: string, data: string, opts: SaveOptions = {}): Promise<void> {
  const tmp = stateTempName(path);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'w', 0o644);
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    if (opts.rotate !== false && existsSync(path)) {
      const prev = previousStateName(path);
      if (existsSync(prev)) await unlink(prev);
      await link(path, prev);
    }
    await rename(tmp, path);
  } catch (e) {
    if (fh !== undefined) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write state file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // directory fsync is best effort (not supported everywhere)
  }
}

interface StateJob {
  data: string;
  /** Asked when the write starts (see SaveOptions.rotate). */
  rotate: () => boolean;
  done: (err: Error | null) => void;
}

/**
 * Writes state files in the background, one at a time: a write asked for while one is running
 * waits for it, and only the latest of those is written (the ones in between are superseded,
 * their `done` is not called). `settle` resolves once nothing is running or waiting.
 */
export class BackgroundStateWriter {
  private next: StateJob | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly path: string) {}

  write(data: string, rotate: () => boolean, done: (err: Error | null) => void): void {
    this.next = { data, rotate, done };
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    for (let job = this.next; job !== undefined; job = this.next) {
      this.next = undefined;
      let err: Error | null = null;
      try {
        await writeStateTextAsync(this.path, job.data, { rotate: job.rotate() });
      } catch (e) {
        err = e as Error;
      }
      job.done(err);
    }
    this.running = undefined;
  }

  async settle(): Promise<void> {
    while (this.running) await this.running;
  }
}

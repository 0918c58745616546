// The manifest files under the paths given on the command line, in reading order, each with
// what identifies its version (for InputCache). A listing is made by walking the folders, or
// brought up to date from a list of paths known to have changed (a folder watcher's events):
// the result is the same as a new walk would give, provided every change is in that list.

import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, normalize, resolve } from 'node:path';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Files with these names are read from folders: `*.yaml`, `*.yml`, `*.json`. */
export function isManifestName(name: string): boolean {
  return EXTENSIONS.some((e) => name.endsWith(e));
}

/** A file found, with what identifies its version. */
interface FoundFile {
  file: string;
  /** mtime/ctime/size/inode */
  key: string;
}

/** The files of one path given to the reader. */
export interface RootListing {
  /** The path as given. */
  root: string;
  /** Its absolute form (watcher events name absolute paths). */
  abs: string;
  /** Set when the path cannot be read (then `files` is empty). */
  error?: unknown;
  isDir: boolean;
  /** In reading order: sorted names per folder, a subfolder's files at its name's place. */
  files: FoundFile[];
  /** Every folder walked (normalized), the root included. */
  dirs: Set<string>;
}

function statKey(st: Stats): string {
  return `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}:${st.dev}`;
}

function walk(dir: string, out: FoundFile[], dirs: Set<string>): void {
  dirs.add(normalize(dir));
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walk(p, out, dirs);
    else if (isManifestName(name)) out.push({ file: p, key: statKey(st) });
  }
}

/** Walks `root` (a folder, recursively, or a single file). */
export function listRoot(root: string): RootListing {
  const l: RootListing = { root, abs: resolve(root), isDir: false, files: [], dirs: new Set() };
  try {
    const st = statSync(root);
    if (st.isDirectory()) {
      l.isDir = true;
      walk(root, l.files, l.dirs);
    } else l.files.push({ file: root, key: statKey(st) });
  } catch (err) {
    l.error = err;
    l.files = [];
    l.dirs.clear();
  }
  return l;
}

/** Reading order of two files of the same root: name by name along the path. */
export function compareReadingOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const s = x[i] as string;
    const t = y[i] as string;
    if (s !== t) return s < t ? -1 : 1;
  }
  return x.length - y.length;
}

/** Index of `file` in `files`, or -(insertion point) - 1. */
function search(files: FoundFile[], file: string): number {
  let lo = 0;
  let hi = files.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareReadingOrder((files[mid] as FoundFile).file, file);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/**
 * Brings `l` up to date for one changed absolute path. Returns false when that cannot be done
 * file by file (a folder appeared or went away, the root itself changed, an unknown folder):
 * the caller walks the root again.
 */
export function updateListing(l: RootListing, path: string): boolean {
  if (path !== l.abs && !path.startsWith(l.abs + '/')) return true; // not under this root
  if (l.error !== undefined || !l.isDir || path === l.abs) return false;
  const file = join(l.root, path.slice(l.abs.length + 1));
  if (l.dirs.has(file) || !l.dirs.has(dirname(file))) return false;
  let st: Stats | undefined;
  try {
    st = statSync(file);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) return false;
  const i = search(l.files, file);
  if (st === undefined || !isManifestName(basename(file))) {
    if (i >= 0) l.files.splice(i, 1);
  } else if (i >= 0) (l.files[i] as FoundFile).key = statKey(st);
  else l.files.splice(-i - 1, 0, { file, key: statKey(st) });
  return true;
}

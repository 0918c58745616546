// Watches a folder of manifests (and its subfolders) and tells `onChange` which files changed.
// Node 20 has no recursive fs.watch on Linux, so every directory gets its own non-recursive
// watcher; the set is refreshed when a directory appears or goes away.
//
// Two speeds (see docs/standalone.md "Watching the folder"):
//   - fast (next event-loop turn, events of the same turn coalesced): a manifest that is gone
//     (unlink, or moved away) and still gone 2 ms later (not replaced by an editor or `git
//     checkout`, and not renamed away next to a new name such as an editor's `x.yaml~`), and a
//     manifest that was just renamed into place — a `rename`
//     event for an existing `*.yaml|*.yml|*.json` right after a `rename` event, in the same
//     folder, for another name that is gone now and that was written shortly before (the
//     temporary file: `write tmp; rename tmp x.yaml`). A rename replaces the file at once, so
//     its content is whole;
//   - quiet (after `debounceMs` without such events): in-place writes (`change` events), a file
//     created in place (`cat > x.yaml`: Node reports its creation as `rename` too, but no
//     written-and-gone name precedes it), anything else that cannot be told apart, and
//     directory changes and events without a name (then the whole folder is re-read). A file
//     with a pending in-place write is never read by a fast change, so a half-written file is
//     neither applied nor reported as broken.
// Names that are not manifests (temporary files, the state file) never cause a reload. While
// `onChange` runs (it may return a promise), new events are collected and handed over in
// exactly one follow-up call.

import { watch, readdirSync, statSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { isManifestName } from '../config/listing.ts';

/** What changed: `files` (absolute paths) to re-read, or `sweep`: re-read the whole folder. */
export interface FolderChange {
  files: string[];
  sweep: boolean;
}

export interface FolderWatcherOptions {
  /** Quiet period for in-place writes and directory changes, ms (default 15). */
  debounceMs?: number;
  /** Every so many ms, a full re-read as a safety net (default: never). */
  sweepEveryMs?: number;
  /** File names (basenames) whose events are ignored, e.g. the state file and its temp file. */
  ignore?: (name: string) => boolean;
  onChange: (change: FolderChange) => void | Promise<void>;
  onError?: (err: Error) => void;
}

/** How long a written non-manifest name counts as a temporary file that may be renamed into place. */
const WRITTEN_MEMORY_MS = 10_000;
/**
 * A manifest that is gone is looked at again this much later before its removal is applied: an
 * editor or `git checkout` that replaces a file by unlinking (or renaming away) the old one and
 * creating the new one has created it by then, and the file then waits for quiet instead of
 * having its Services withdrawn for a moment.
 */
const REMOVAL_RECHECK_MS = 2;

export class FolderWatcher {
  private readonly roots: string[];
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly debounceMs: number;
  /** Raw events of the current event-loop turn, classified on the next one. */
  private batch: { dir: string; type: string; name: string | null }[] = [];
  private batchScheduled = false;
  /** Files to re-read at once / after the quiet period; `quietSweep`: re-read everything then. */
  private readonly fast = new Set<string>();
  private readonly quiet = new Set<string>();
  private quietSweep = false;
  /** Changes handed over when the running onChange finishes (exactly one follow-up call). */
  private running = false;
  private readonly ready = new Set<string>();
  private readySweep = false;
  /** The last event seen per directory (a rename into place directly follows its source). */
  private readonly lastEvent = new Map<string, { type: string; name: string }>();
  /** Paths with a `change` event lately (temporary files being written), with when. */
  private readonly written = new Map<string, number>();
  /** Manifests gone in the last batch, applied after a short re-check (REMOVAL_RECHECK_MS). */
  private readonly gone = new Set<string>();
  private goneTimer: NodeJS.Timeout | undefined;

  constructor(
    roots: string[],
    private readonly opts: FolderWatcherOptions,
  ) {
    this.roots = roots.map((r) => resolve(r));
    this.debounceMs = opts.debounceMs ?? 15;
    this.refresh();
    if (opts.sweepEveryMs !== undefined && opts.sweepEveryMs > 0) {
      this.sweepTimer = setInterval(() => this.quietChange(undefined), opts.sweepEveryMs);
      this.sweepTimer.unref();
    }
  }

  /** Directories currently watched (absolute paths, sorted). */
  watched(): string[] {
    return [...this.watchers.keys()].sort();
  }

  private dirsUnder(root: string, out: Set<string>, depth = 0): void {
    if (depth > 16) return;
    let st;
    try {
      st = statSync(root);
    } catch {
      return;
    }
    if (!st.isDirectory()) return;
    out.add(root);
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const p = join(root, n);
      try {
        if (statSync(p).isDirectory()) this.dirsUnder(p, out, depth + 1);
      } catch {
        // vanished meanwhile
      }
    }
  }

  private refresh(): void {
    if (this.closed) return;
    const want = new Set<string>();
    for (const r of this.roots) this.dirsUnder(r, want);
    for (const [dir, w] of this.watchers) {
      if (!want.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of want) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: true }, (type, name) => this.onEvent(dir, type, name === null ? null : String(name)));
        w.on('error', (err) => {
          // the directory went away: drop it, the next refresh re-adds it if it comes back
          w.close();
          this.watchers.delete(dir);
          this.opts.onError?.(err);
          this.onEvent(dir, 'rename', null);
        });
        this.watchers.set(dir, w);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    }
  }

  private onEvent(dir: string, type: string, name: string | null): void {
    if (this.closed) return;
    if (name !== null && this.opts.ignore?.(name)) return;
    this.batch.push({ dir, type, name });
    if (!this.batchScheduled) {
      this.batchScheduled = true;
      // after every event of this turn (one inotify read delivers them together)
      setImmediate(() => this.classify());
    }
  }

  /** Sorts the events of the last turn into fast and quiet changes. */
  private classify(): void {
    this.batchScheduled = false;
    if (this.closed) return;
    const batch = this.batch;
    this.batch = [];
    const now = Date.now();
    for (const [p, t] of this.written) if (now - t > WRITTEN_MEMORY_MS) this.written.delete(p);
    // names of this batch that were moved or created and exist now, per folder: a manifest moved
    // away next to one of them is an editor's backup rename (`x.yaml` -> `x.yaml~`), not a removal
    const appeared = new Map<string, Set<string>>();
    for (const { dir, type, name } of batch) {
      if (type !== 'rename' || name === null || statOf(join(dir, name)) === 'none') continue;
      let set = appeared.get(dir);
      if (!set) appeared.set(dir, (set = new Set()));
      set.add(name);
    }
    for (const { dir, type, name } of batch) {
      if (name === null) {
        this.quietChange(undefined);
        continue;
      }
      const path = join(dir, name);
      const before = this.lastEvent.get(dir);
      this.lastEvent.set(dir, { type, name });
      const manifest = isManifestName(name);
      if (type !== 'rename') {
        // an in-place write (or attribute change)
        this.written.set(path, now);
        if (manifest) this.quietChange(path);
        continue;
      }
      const st = statOf(path);
      if (st === 'dir' || (st === 'none' && this.watchers.has(path))) {
        this.quietChange(undefined); // a folder appeared or went away
      } else if (!manifest) {
        // a temporary file created, renamed or removed: nothing to read
      } else if (st === 'none') {
        const others = [...(appeared.get(dir) ?? [])].some((n) => n !== name);
        if (others) this.quietChange(path); // moved away next to a new name: likely replaced in a moment
        else this.gone.add(path); // removed or moved away: applied after a re-check
      } else if (before?.type === 'rename' && before.name !== name && this.renamedFrom(join(dir, before.name))) {
        this.fastChange(path); // renamed into place
      } else {
        this.quietChange(path); // created in place (or moved in from elsewhere): wait for quiet
      }
    }
    this.flushFast();
    if (this.gone.size > 0 && !this.goneTimer) this.goneTimer = setTimeout(() => this.recheckGone(), REMOVAL_RECHECK_MS);
  }

  /** Gone manifests still gone: removed at once; back again (replaced): read after the quiet period. */
  private recheckGone(): void {
    this.goneTimer = undefined;
    if (this.closed) return;
    for (const path of this.gone) {
      if (statOf(path) === 'none') this.fastChange(path);
      else this.quietChange(path);
    }
    this.gone.clear();
    this.flushFast();
  }

  /** `source` looks like the temporary file of a rename into place: written lately and gone now. */
  private renamedFrom(source: string): boolean {
    return this.written.has(source) && statOf(source) === 'none';
  }

  private fastChange(path: string): void {
    // a file with a pending in-place write is read once that write is quiet
    if (this.quiet.has(path) || this.quietSweep) this.quietChange(path);
    else this.fast.add(path);
  }

  /** `path` undefined: the whole folder. Restarts the quiet period. */
  private quietChange(path: string | undefined): void {
    if (this.closed) return;
    if (path === undefined) this.quietSweep = true;
    else {
      this.quiet.add(path);
      this.fast.delete(path);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      if (this.quietSweep) this.refresh();
      for (const p of this.quiet) this.ready.add(p);
      this.readySweep ||= this.quietSweep;
      this.quiet.clear();
      this.quietSweep = false;
      this.deliver();
    }, this.debounceMs);
  }

  private flushFast(): void {
    if (this.fast.size === 0) return;
    for (const p of this.fast) this.ready.add(p);
    this.fast.clear();
    this.deliver();
  }

  /** Calls onChange with everything ready, unless it is running (then once it is done). */
  private deliver(): void {
    if (this.running || this.closed || (this.ready.size === 0 && !this.readySweep)) return;
    const change: FolderChange = { files: [...this.ready].sort(), sweep: this.readySweep };
    this.ready.clear();
    this.readySweep = false;
    this.running = true;
    let result: void | Promise<void>;
    try {
      result = this.opts.onChange(change);
    } catch (err) {
      this.running = false;
      this.opts.onError?.(err as Error);
      this.deliver();
      return;
    }
    const done = (): void => {
      this.running = false;
      this.deliver();
    };
    if (result instanceof Promise) {
      result.then(done, (err: unknown) => {
        this.opts.onError?.(err as Error);
        done();
      });
    } else done();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.goneTimer) clearTimeout(this.goneTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

function statOf(path: string): 'file' | 'dir' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

// Watches a folder of manifests (and its subfolders) and calls `onChange` once per burst of
// file events, after `debounceMs` of quiet. Node 20 has no recursive fs.watch on Linux, so every
// directory gets its own non-recursive watcher; the set is refreshed after each burst so new
// subfolders are picked up and removed ones released.

import { watch, readdirSync, statSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';

export interface FolderWatcherOptions {
  debounceMs?: number;
  /** File names (basenames) whose events are ignored, e.g. the state file and its temp file. */
  ignore?: (name: string) => boolean;
  onChange: () => void;
  onError?: (err: Error) => void;
}

export class FolderWatcher {
  private readonly roots: string[];
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly debounceMs: number;

  constructor(
    roots: string[],
    private readonly opts: FolderWatcherOptions,
  ) {
    this.roots = roots.map((r) => resolve(r));
    this.debounceMs = opts.debounceMs ?? 15;
    this.refresh();
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
        const w = watch(dir, { persistent: true }, (_event, name) => this.onEvent(name === null ? null : String(name)));
        w.on('error', (err) => {
          // the directory went away: drop it, the next refresh re-adds it if it comes back
          w.close();
          this.watchers.delete(dir);
          this.opts.onError?.(err);
          this.onEvent(null);
        });
        this.watchers.set(dir, w);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    }
  }

  private onEvent(name: string | null): void {
    if (this.closed) return;
    if (name !== null && this.opts.ignore?.(name)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.refresh();
      this.opts.onChange();
    }, this.debounceMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

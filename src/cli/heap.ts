// V8 heap sizing for the long-running commands with large in-memory state (standalone).
//
// V8 lets the old generation grow to up to 4x the data that survived the last full GC before it
// collects again. A standalone process holding 100k Services (~140 MB of live objects after
// start-up, which itself produces much short-lived garbage) then sits at ~470 MB RSS for as long
// as it runs, although a full GC would bring it to ~240 MB. `--optimize-for-size` makes V8 grow
// the heap by at most 1.3x instead (docs/benchmarks.md: 100k Services 473 -> ~205 MB). It is
// set after the first read of the folder (so that reading 100k Services at start-up is not
// slowed down by frequent GCs: 51 s instead of 31 s under the same load), unless the node
// command line chose itself (`node --no-optimize-for-size bin/metallb-ts.js standalone ...`).

import { setFlagsFromString } from 'node:v8';

/** The V8 flags to set for a process started with `execArgv` (none when it chose itself). */
export function leanHeapFlags(execArgv: readonly string[]): string[] {
  const chosen = execArgv.some((a) => /^--(no-)?optimize[-_]for[-_]size$/.test(a));
  return chosen ? [] : ['--optimize-for-size'];
}

/** Applies leanHeapFlags to this process; returns what was set. */
export function useLeanHeap(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = leanHeapFlags(execArgv);
  for (const f of flags) setFlagsFromString(f);
  return flags;
}

// The last good state of every manifest file (pure). A file that cannot be read or parsed, or
// one of whose cluster objects (Service, Node, EndpointSlice, Namespace, Secret) is invalid,
// does not say what its objects are now: they keep the state of the file's last good version,
// while every other file's objects are taken as they are (a deleted Service file withdraws
// its Service, a new one gets an IP). A file that disappears from the folder is forgotten.

import type { FileInputs, FileObjects } from '../config/load.ts';

export type { FileInputs, FileObjects };

export interface MergedFiles {
  objects: FileObjects;
  /** Files whose objects are their last good version (or nothing, when they never were good). */
  kept: string[];
  /** What to remember for the next merge (commit it once the merged objects are in force). */
  next: Map<string, FileObjects>;
}

const KINDS = ['services', 'nodes', 'endpointSlices', 'namespaces', 'secrets'] as const;

interface Named {
  metadata: { name: string; namespace?: string };
}

function keyOf(o: Named): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * Merges the files just read with the last good version of the broken ones. `good` maps file
 * → objects of its last good version. A broken entry names a file or an unreadable folder:
 * every remembered file at or under that path keeps its last good objects. An object that
 * moved from a broken file to a good one is taken from the good file only.
 */
export function mergeFiles(files: readonly FileInputs[], good: ReadonlyMap<string, FileObjects>): MergedFiles {
  const next = new Map<string, FileObjects>();
  const kept: string[] = [];
  const fresh: FileObjects[] = [];
  const stale: FileObjects[] = [];
  for (const f of files) {
    if (f.ok) {
      next.set(f.file, f); // (its FileObjects part)
      fresh.push(f);
      continue;
    }
    kept.push(f.file);
    for (const [file, objects] of good) {
      if (next.has(file)) continue;
      if (file === f.file || file.startsWith(f.file.endsWith('/') ? f.file : f.file + '/')) {
        next.set(file, objects);
        stale.push(objects);
      }
    }
  }
  const out: FileObjects = { services: [], nodes: [], endpointSlices: [], namespaces: [], secrets: [] };
  for (const kind of KINDS) {
    const target = out[kind] as Named[];
    if (stale.length === 0) {
      for (const o of fresh) for (const x of o[kind] as Named[]) target.push(x);
      continue;
    }
    const seen = new Set<string>();
    for (const o of fresh) for (const x of o[kind] as Named[]) {
      seen.add(keyOf(x));
      target.push(x);
    }
    for (const o of stale) for (const x of o[kind] as Named[]) if (!seen.has(keyOf(x))) target.push(x);
  }
  return { objects: out, kept, next };
}

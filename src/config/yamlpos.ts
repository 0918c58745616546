// Maps a field path to the YAML node that holds it (for line numbers in diagnostics).

import { isMap, isPair, isScalar, isSeq, type LineCounter, type Node as YNode } from 'yaml';
import type { FieldPath } from './path.ts';

function isNodeLike(v: unknown): v is YNode {
  return isMap(v) || isSeq(v) || isScalar(v);
}

/** The node at `path`, or the nearest existing ancestor (the key, when a value is empty). */
export function nodeAt(root: unknown, path: FieldPath): YNode | undefined {
  let cur: unknown = root;
  let last: YNode | undefined = isNodeLike(root) ? root : undefined;
  for (const seg of path) {
    if (isMap(cur)) {
      const pair = cur.items.find((it) => isPair(it) && (isScalar(it.key) ? it.key.value === seg : it.key === seg));
      if (!pair || !isPair(pair)) return last;
      if (pair.value === null || pair.value === undefined) return isNodeLike(pair.key) ? pair.key : last;
      cur = pair.value;
    } else if (isSeq(cur) && typeof seg === 'number') {
      const item = cur.items[seg];
      if (item === undefined) return last;
      cur = item;
    } else {
      return last;
    }
    if (isNodeLike(cur)) last = cur;
  }
  return last;
}

/** 1-based line of the node at `path` (or its nearest ancestor); 0 when unknown. */
export function lineAt(root: unknown, lc: LineCounter, path: FieldPath): number {
  const n = nodeAt(root, path);
  const off = n?.range?.[0];
  return off === undefined ? 0 : lc.linePos(off).line;
}

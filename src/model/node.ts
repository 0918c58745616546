// Node facts with one home: readiness and the addresses a node is reached at.

import type { Node } from './objects.ts';
import { HOSTNAME_LABEL } from './objects.ts';

/**
 * The one readiness rule: a Node is ready unless its Ready condition says False or Unknown.
 * A Node with no Ready condition (a folder's hand-written Node) counts as ready.
 */
export function nodeIsReady(n: Node): boolean {
  const c = (n.status?.conditions ?? []).find((x) => x.type === 'Ready');
  return c === undefined || c.status === 'True';
}

/** The Node standalone runs as when the folder does not describe it: Ready, at `address`. */
export function syntheticNode(name: string, address: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { [HOSTNAME_LABEL]: name } },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address },
        { type: 'Hostname', address: name },
      ],
    },
  };
}

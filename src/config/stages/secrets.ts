// The one check of a BGP password Secret reference, for BGPPeer and FRRConfiguration neighbors.
// Only when the caller knows the Secrets (Kubernetes, a folder that may hold them). A missing or
// unusable Secret is a warning, never an error: the runtime keeps just that session down with
// the same reason (model/secret.ts), the rest of the configuration applies (issue 15 item 5).

import type { Secret } from '../../model/objects.ts';
import { bgpPasswordProblems, findSecret } from '../../model/secret.ts';
import type { FieldPath } from '../path.ts';
import type { Diags, Item } from './item.ts';

export function checkPasswordSecret<S>(d: Diags, item: Item<S>, path: FieldPath, secrets: readonly Secret[] | undefined, ns: string, name: string): void {
  if (secrets === undefined) return;
  const sec = findSecret(secrets, ns, name); // the runtimes' lookup (src/planner/passwords.ts)
  if (!sec) {
    d.warn(item, path, `Secret ${ns}/${name} not found: this session stays down (blocked) until the Secret exists`, 'missing-reference');
    return;
  }
  for (const problem of bgpPasswordProblems(sec)) {
    d.warn(item, path, `Secret ${ns}/${name}: ${problem}: this session stays down (blocked) until the Secret is fixed`);
  }
}

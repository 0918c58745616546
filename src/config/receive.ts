// The receive policy in force for one session on one node, and the prefix test the importer
// applies to every received route. Pure; consumed by the routes-in side of the node runtime.
//
// A session imports nothing unless some FRRConfiguration selecting this node gives it a
// `toReceive` policy. Several policies for one session on one node merge as frr-k8s merges
// them: `all` wins over `filtered`; filtered prefix lists are united; the smallest prefix limit
// applies.

import { bits, type Prefix } from '../ip/index.ts';
import { anySelectorMatches } from '../model/selector.ts';
import type { Peer, ReceivePrefix } from './types.ts';

/** Default of `prefixLimit` (per session), when the FRRConfiguration does not set one. */
export const DEFAULT_PREFIX_LIMIT = 10000;

export interface EffectiveReceive {
  mode: 'all' | 'filtered';
  prefixes: ReceivePrefix[];
  prefixLimit: number;
}

/** The merged receive policy of `peer` on a node with these labels, or undefined (import nothing). */
export function receivePolicyFor(peer: Peer, nodeLabels: Record<string, string> | undefined): EffectiveReceive | undefined {
  let out: EffectiveReceive | undefined;
  for (const p of peer.receive ?? []) {
    if (p.nodeSelectors.length > 0 && !anySelectorMatches(p.nodeSelectors, nodeLabels ?? {})) continue;
    if (!out) out = { mode: p.mode, prefixes: [...p.prefixes], prefixLimit: p.prefixLimit };
    else {
      if (p.mode === 'all') out.mode = 'all';
      out.prefixes.push(...p.prefixes);
      out.prefixLimit = Math.min(out.prefixLimit, p.prefixLimit);
    }
  }
  if (out?.mode === 'all') out.prefixes = [];
  return out;
}

/** Whether `route` falls in one of the accepted ranges (mode `all` accepts every prefix). */
export function policyAccepts(policy: EffectiveReceive, route: Prefix): boolean {
  if (policy.mode === 'all') return true;
  return policy.prefixes.some((r) => prefixRangeAccepts(r, route));
}

export function prefixRangeAccepts(r: ReceivePrefix, route: Prefix): boolean {
  if (route.family !== r.prefix.family) return false;
  if (route.length < r.minLength || route.length > r.maxLength || route.length < r.prefix.length) return false;
  const shift = BigInt(bits(route.family) - r.prefix.length);
  return route.network >> shift === r.prefix.network >> shift;
}

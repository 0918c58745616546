// Layer 2 owner election: a deterministic function of (IP, candidate nodes, preferences) that
// every speaker computes identically, so exactly one node answers ARP/NDP for an address.

import { createHash } from 'node:crypto';
import type { PreferredNodeSelector } from '../config/types.ts';
import { selectorMatches } from '../model/selector.ts';

export interface L2Candidate {
  name: string;
  labels: Record<string, string>;
}

/** sha256(nodeName + '#' + ip) as hex: the stable tie-breaker between equally preferred nodes. */
export function electionHash(node: string, ip: string): string {
  return createHash('sha256').update(`${node}#${ip}`).digest('hex');
}

/**
 * Elects the node that announces `ip`: highest total weight of matching preferredNodeSelectors
 * first, then the lowest sha256(nodeName + '#' + ip), then the name. Null when there is no
 * candidate. Duplicated candidates (same name) count once.
 */
export function electL2Owner(ip: string, candidates: L2Candidate[], preferred: PreferredNodeSelector[]): string | null {
  let best: { name: string; score: number; hash: string } | undefined;
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.name)) continue;
    seen.add(c.name);
    let score = 0;
    for (const p of preferred) if (selectorMatches(p.selector, c.labels)) score += p.weight;
    const hash = electionHash(c.name, ip);
    if (
      !best ||
      score > best.score ||
      (score === best.score && (hash < best.hash || (hash === best.hash && c.name < best.name)))
    ) {
      best = { name: c.name, score, hash };
    }
  }
  return best ? best.name : null;
}

// Why a node has no BGP session: for each node that no BGPPeer selects, the peers and the
// nodeSelectors that did not match its labels (shown by `metallb-ts plan`). Pure.

import type { Peer } from '../config/types.ts';
import { anySelectorMatches } from '../model/selector.ts';
import type { LabelSelector } from '../model/selector.ts';

export interface NoSession {
  node: string;
  /** One line per BGPPeer: its name and the selectors that did not match. */
  reasons: string[];
}

/** Kubernetes' text form of a label selector (`a=b,c in (x,y),!d`). */
export function selectorText(s: LabelSelector): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) parts.push(`${k}=${v}`);
  for (const r of s.matchExpressions ?? []) {
    const vals = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${vals})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${vals})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else parts.push(`!${r.key}`);
  }
  return parts.length > 0 ? parts.join(',') : '(everything)';
}

/** The nodes no peer selects, each with every peer's unmatched nodeSelectors. */
export function nodesWithoutSession(peers: readonly Peer[], nodes: readonly { name: string; labels: Record<string, string> }[]): NoSession[] {
  if (peers.length === 0) return [];
  const out: NoSession[] = [];
  for (const n of nodes) {
    if (peers.some((p) => anySelectorMatches(p.nodeSelectors, n.labels))) continue;
    const reasons = [...peers]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((p) => `BGPPeer ${p.name}: nodeSelectors ${p.nodeSelectors.map((s) => `[${selectorText(s)}]`).join(' or ')} do not match the node's labels`);
    out.push({ node: n.name, reasons });
  }
  return out;
}

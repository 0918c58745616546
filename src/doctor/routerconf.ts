// Just enough of a BIRD 2 or FRR configuration to see a router's BGP sessions: its AS, each
// neighbor's address and AS, and whether that neighbor is a route-reflector client. Doctor
// uses it to tell whether a route publisher (seed 000) can pass MetalLB's routes on.

import { canonicalIP } from '../ip/index.ts';

export interface RouterNeighbor {
  address: string;
  asn: number;
  /** The router reflects routes to/from this neighbor (BIRD `rr client`, FRR `route-reflector-client`). */
  rrClient: boolean;
}

export interface RouterConfig {
  file: string;
  localAs: number;
  neighbors: RouterNeighbor[];
}

const stripComments = (t: string): string => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/#.*$/gm, '');

/** BIRD 2: every `protocol bgp NAME { ... }` block (one level of nested braces allowed). */
function parseBird(file: string, text: string): RouterConfig[] {
  const out = new Map<number, RouterConfig>();
  const re = /protocol\s+bgp(?:\s+\w+)?\s*\{((?:[^{}]|\{[^{}]*\})*)\}/g;
  for (const m of stripComments(text).matchAll(re)) {
    const body = m[1] ?? '';
    const local = /local(?:\s+[0-9a-fA-F.:]+)?\s+as\s+(\d+)/.exec(body);
    const nb = /neighbor\s+([0-9a-fA-F.:]+)(?:%\S+)?\s+as\s+(\d+)/.exec(body);
    if (!local || !nb) continue;
    const localAs = Number(local[1]);
    const rc = out.get(localAs) ?? { file, localAs, neighbors: [] };
    rc.neighbors.push({ address: canonicalIP(nb[1] ?? '') ?? nb[1] ?? '', asn: Number(nb[2]), rrClient: /\brr\s+client\b/.test(body) });
    out.set(localAs, rc);
  }
  return [...out.values()];
}

/** FRR: `router bgp ASN` with `neighbor X remote-as Y` / `neighbor X route-reflector-client`. */
function parseFrr(file: string, text: string): RouterConfig[] {
  const out: RouterConfig[] = [];
  let cur: RouterConfig | undefined;
  const rr = new Set<string>();
  for (const raw of stripComments(text).split('\n')) {
    const line = raw.trim();
    const rb = /^router bgp (\d+)/.exec(line);
    if (rb) {
      cur = { file, localAs: Number(rb[1]), neighbors: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const n = /^neighbor (\S+) remote-as (\d+|internal|external)/.exec(line);
    if (n) {
      const asn = n[2] === 'internal' ? cur.localAs : n[2] === 'external' ? -1 : Number(n[2]);
      cur.neighbors.push({ address: canonicalIP(n[1] ?? '') ?? n[1] ?? '', asn, rrClient: false });
    }
    const c = /^neighbor (\S+) route-reflector-client/.exec(line);
    if (c) rr.add(canonicalIP(c[1] ?? '') ?? c[1] ?? '');
  }
  for (const rc of out) for (const nb of rc.neighbors) nb.rrClient = rr.has(nb.address);
  return out;
}

/** Parses a BIRD or FRR configuration; [] when it has no BGP session. */
export function parseRouterConfig(file: string, text: string): RouterConfig[] {
  if (/^\s*router bgp \d+/m.test(text)) return parseFrr(file, text);
  return parseBird(file, text);
}

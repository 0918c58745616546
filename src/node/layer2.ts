// Layer 2 inputs of the node agent (pure): the speakers taking part in elections, from the
// configuration and the Nodes, and the liveness secret, from the Secrets.

import type { Config } from '../config/types.ts';
import { formatIP, tryParseIP } from '../ip/index.ts';
import type { Node, Secret } from '../model/objects.ts';
import { nodeIsReady } from '../model/node.ts';
import { anySelectorMatches } from '../model/selector.ts';
import { findSecret, secretValue } from '../model/secret.ts';
import { MEMBERLIST_SECRET_KEY } from '../layer2/members.ts';
import type { MemberAddress } from '../layer2/members.ts';

/** Layer 2 elections among the speakers of a cluster (absent: this node alone owns its addresses). */
export interface MemberOptions {
  /** Liveness UDP port of every speaker. */
  port: number;
  /** Secret holding the liveness secret under key `secretkey`. */
  secretNamespace: string;
  secretName: string;
  /** Liveness secret given directly (METALLB_ML_SECRET_KEY); wins over the Secret. */
  secret?: string;
}

/**
 * The Layer 2 members: this node, and every ready node that matches the nodeSelectors of at
 * least one L2Advertisement, at its InternalIP (IPv4 first; else ExternalIP). No L2Advertisement:
 * no members.
 */
export function layer2Members(cfg: Config, nodes: readonly Node[], self: string, port: number): MemberAddress[] {
  if (cfg.l2Advertisements.length === 0) return [];
  const out: MemberAddress[] = [];
  const sorted = [...nodes].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const n of sorted) {
    const name = n.metadata.name;
    if (out.some((m) => m.name === name)) continue;
    if (name !== self) {
      if (!nodeIsReady(n)) continue;
      const labels = n.metadata.labels ?? {};
      if (!cfg.l2Advertisements.some((ad) => anySelectorMatches(ad.nodeSelectors, labels))) continue;
    }
    let address: string | undefined;
    for (const type of ['InternalIP', 'ExternalIP']) {
      const ips = (n.status?.addresses ?? [])
        .filter((a) => a.type === type)
        .map((a) => tryParseIP(a.address))
        .filter((ip) => ip !== undefined);
      const pick = ips.find((ip) => ip.family === 4) ?? ips[0];
      if (pick) {
        address = formatIP(pick);
        break;
      }
    }
    if (address === undefined) continue;
    out.push({ name, address, port });
  }
  return out;
}

/** The liveness secret: the one given directly, else the memberlist Secret's `secretkey`. */
export function memberSecret(o: MemberOptions, secrets: readonly Secret[]): string | undefined {
  if (o.secret !== undefined && o.secret !== '') return o.secret;
  const secret = findSecret(secrets, o.secretNamespace, o.secretName);
  if (!secret) return undefined;
  const v = secretValue(secret, MEMBERLIST_SECRET_KEY);
  return 'value' in v && v.value !== '' ? v.value : undefined;
}

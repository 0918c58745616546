// Which service IPs this node announces, given what it sees: pure.
//
// For each IP the eligible candidates are the planner's candidates (node Ready, not excluded,
// matching the L2Advertisement nodeSelectors, with a ready endpoint under
// externalTrafficPolicy Local) that are also
//   - this node, if it has a usable interface for the IP (link-aware eligibility), or
//   - another member that is alive (liveness protocol), ready (has loaded its services) and
//     has not said it cannot announce the IP.
// The owner is electL2Owner over them (preferredNodeSelectors weights, then the hash); every
// speaker with the same view computes the same owner without talking about the choice.
//
// Partition rule ("majority", the default): a node announces only while it sees a strict
// majority of the members (itself included). A speaker cut off from the others therefore
// stops answering within deadAfter, and the majority side elects new owners. A single-member
// cluster (standalone) always has the majority. "any-peer": it is enough to see one other
// member (or be alone in the member list). "none": never step down (MetalLB's behaviour).

import { electL2Owner, type L2Candidate } from '../planner/elect.ts';
import type { PreferredNodeSelector } from '../config/types.ts';
import type { OwnedEntry } from './announcer.ts';

export type PartitionPolicy = 'majority' | 'any-peer' | 'none';

export interface ServiceEntry {
  ip: string;
  /** L2Advertisement.interfaces; empty = automatic selection. */
  interfaces: string[];
  /** Nodes allowed to announce the IP (planner's view); undefined = every member, no labels. */
  candidates?: L2Candidate[];
  preferred?: PreferredNodeSelector[];
}

export interface OwnershipInput {
  self: string;
  /** All members (self implied). */
  members: readonly string[];
  /** Alive members (self implied). */
  alive: readonly string[];
  /** IPs this node has no usable interface for. */
  selfIneligible: ReadonlySet<string>;
  peerIneligible: (node: string) => ReadonlySet<string>;
  /** Whether a peer has its services loaded; peers not ready are not elected. Default: all ready. */
  peerReady?: (node: string) => boolean;
  entries: readonly ServiceEntry[];
  policy?: PartitionPolicy;
}

export interface OwnershipResult {
  /** ip -> elected owner among what this node sees (null: nobody eligible). */
  owners: Record<string, string | null>;
  hasQuorum: boolean;
  /** What to pass to Layer2Announcer.setOwned. */
  owned: OwnedEntry[];
}

export function hasQuorum(self: string, members: readonly string[], alive: readonly string[], policy: PartitionPolicy): boolean {
  const all = new Set([self, ...members]);
  const visible = new Set([self, ...alive].filter((n) => all.has(n)));
  if (policy === 'none' || all.size <= 1) return true;
  if (policy === 'any-peer') return visible.size >= 2;
  return visible.size >= Math.floor(all.size / 2) + 1;
}

export function decideOwnership(input: OwnershipInput): OwnershipResult {
  const policy = input.policy ?? 'majority';
  const alive = new Set([input.self, ...input.alive]);
  const quorum = hasQuorum(input.self, input.members, input.alive, policy);
  const owners: Record<string, string | null> = {};
  const owned: OwnedEntry[] = [];
  const ready = input.peerReady ?? ((): boolean => true);
  const everyone = [...new Set([input.self, ...input.members])].sort().map((name) => ({ name, labels: {} }));
  for (const e of input.entries) {
    const cands = (e.candidates ?? everyone).filter((c) =>
      c.name === input.self ? !input.selfIneligible.has(e.ip) : alive.has(c.name) && ready(c.name) && !input.peerIneligible(c.name).has(e.ip),
    );
    const owner = electL2Owner(e.ip, cands, e.preferred ?? []);
    owners[e.ip] = owner;
    if (quorum && owner === input.self) owned.push({ ip: e.ip, interfaces: [...e.interfaces] });
  }
  return { owners, hasQuorum: quorum, owned };
}

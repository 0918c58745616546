// Make-before-break moves of Layer 2 addresses between live speakers: pure (the clock is an
// input of every step), driven by the agent after each election (agent.ts).
//
// Old owner's side. An address this node answered for and no longer owns is HANDED OVER: it
// stays answered until
//   - its new owner (the one elected here) lists it in its heartbeat's "a" (it answers for it
//     and has sent its gratuitous ARP / unsolicited NA): "confirmed"; when this node is no longer
//     a candidate for the address at all (it left this node's plan: node no longer selected, no
//     ready local endpoint, Service deleted), any other alive speaker listing it confirms;
//   - or the timeout passes (the agent passes 3 s for moves, 1.5 s while leaving; a smaller
//     timeout later shortens a running handover, never lengthens it): "timeout".
// It is released at once when nobody else can take it (elected owner: nobody; not a candidate
// here and no other speaker alive) and when this node loses the quorum (partition rule). An
// address elected back to this node while it is handed over is simply owned again.
// A crashed old owner hands nothing over: the others re-elect when it is declared dead.
//
// New owner's side. For every owned address: does another speaker still answer for it (its
// heartbeat lists it in "a" or "h")? When that ends (the old owner stopped), the address is
// RE-ANNOUNCED (gratuitous ARP / unsolicited NA again): during the overlap both nodes answered
// and a client may have kept the old owner's MAC (Linux keeps the first reply within its 1 s
// locktime); the announcement after the old owner went quiet is the last word, and it is the
// new owner's.

import type { OwnedEntry } from './announcer.ts';

/** What this node sees right after an election. */
export interface HandoverView {
  now: number;
  /** Addresses elected to this node (decideOwnership().owned; empty without quorum). */
  owned: readonly OwnedEntry[];
  /** ip -> elected owner (null: nobody). An address missing here is not a candidate of this node. */
  owners: Readonly<Record<string, string | null>>;
  hasQuorum: boolean;
  /** Other speakers alive now (self excluded). */
  peersAlive: readonly string[];
  /** The other alive speakers whose heartbeat says they answer for `ip` as its owner ("a"). */
  announcersOf: (ip: string) => readonly string[];
  /** Whether another speaker (alive, or leaving and still heard) answers for `ip` ("a" or "h"). */
  othersAnswer: (ip: string) => boolean;
  /** Longest time an address lost now stays answered (ms). */
  timeoutMs: number;
}

export interface Handing {
  ip: string;
  /** What the responder keeps answering (the entry as last owned). */
  entry: OwnedEntry;
  /** The new owner elected here; null: not a candidate here, whichever speaker announces it. */
  to: string | null;
  since: number;
  until: number;
}

export type HandoverEnd = 'confirmed' | 'timeout' | 'owned-again' | 'no-owner' | 'no-peer' | 'no-quorum';

export interface HandoverEnded {
  ip: string;
  to: string | null;
  reason: HandoverEnd;
  /** The speaker whose heartbeat confirmed ("confirmed" only). */
  by?: string;
  /** How long the address was handed over. */
  afterMs: number;
}

export interface HandoverStep {
  /** What the responder answers for: owned addresses, then the ones handed over. */
  answer: OwnedEntry[];
  handingOver: Handing[];
  started: Handing[];
  ended: HandoverEnded[];
  /** Owned addresses another speaker stopped answering for: send the gratuitous announcements again. */
  reannounce: string[];
  /** When the next handover times out (undefined: none running); step again then. */
  nextDeadline: number | undefined;
}

export class HandoverState {
  private answered = new Map<string, OwnedEntry>();
  private pending = new Map<string, Handing>();
  /** Owned addresses another speaker also answered for at the last step. */
  private contested = new Set<string>();

  step(v: HandoverView): HandoverStep {
    const owned = new Map(v.owned.map((e) => [e.ip, e]));
    const started: Handing[] = [];
    const ended: HandoverEnded[] = [];
    for (const [ip, entry] of this.answered) {
      if (owned.has(ip) || this.pending.has(ip)) continue;
      const h: Handing = { ip, entry, to: v.owners[ip] ?? null, since: v.now, until: v.now + v.timeoutMs };
      this.pending.set(ip, h);
      started.push({ ...h });
    }
    for (const h of [...this.pending.values()]) {
      const end = (reason: HandoverEnd, by?: string): void => {
        this.pending.delete(h.ip);
        ended.push({ ip: h.ip, to: h.to, reason, ...(by !== undefined ? { by } : {}), afterMs: v.now - h.since });
      };
      if (owned.has(h.ip)) {
        end('owned-again');
        continue;
      }
      if (!v.hasQuorum) {
        end('no-quorum');
        continue;
      }
      const elected = v.owners[h.ip];
      if (elected === null) {
        end('no-owner');
        continue;
      }
      h.to = elected ?? null;
      if (h.to === null && v.peersAlive.length === 0) {
        end('no-peer');
        continue;
      }
      h.until = Math.min(h.until, v.now + v.timeoutMs);
      const by = v.announcersOf(h.ip).find((n) => h.to === null || n === h.to);
      if (by !== undefined) end('confirmed', by);
      else if (v.now >= h.until) end('timeout');
    }
    const handingOver = [...this.pending.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    const answer = [...v.owned.map((e) => ({ ip: e.ip, interfaces: [...e.interfaces] })), ...handingOver.map((h) => ({ ip: h.ip, interfaces: [...h.entry.interfaces] }))];
    this.answered = new Map(answer.map((e) => [e.ip, e]));
    const contested = new Set<string>();
    const reannounce: string[] = [];
    for (const e of v.owned) {
      if (v.othersAnswer(e.ip)) contested.add(e.ip);
      else if (this.contested.has(e.ip)) reannounce.push(e.ip);
    }
    this.contested = contested;
    const deadlines = handingOver.map((h) => h.until);
    return {
      answer,
      handingOver: handingOver.map((h) => ({ ...h })),
      started,
      ended,
      reannounce,
      nextDeadline: deadlines.length > 0 ? Math.min(...deadlines) : undefined,
    };
  }

  /** Addresses handed over right now. */
  handingOver(): Handing[] {
    return [...this.pending.values()].map((h) => ({ ...h }));
  }

  /** Forgets everything (the agent stopped answering altogether). */
  clear(): void {
    this.answered.clear();
    this.pending.clear();
    this.contested.clear();
  }
}

// Rate limit of weight-only re-announcements (weighted ECMP, docs/weighted-ecmp.md). Pure: the
// caller passes the time.
//
// During a rolling update a Service's endpoint counts change many times a second; each change
// of a node's count would be one UPDATE per router. Per session and prefix this keeps a
// hold-down with a trailing update:
//   - a route announced for the first time, a withdrawal, a route gaining or losing its weight
//     (annotation added/removed) or entering/leaving local fallback pass at once, and so do
//     changes of its other attributes (with the weight sent last while that one is held);
//   - a change of the weight alone passes at once when the last weight sent for that route is
//     at least the route's interval old (an isolated change is not delayed);
//   - otherwise the route keeps the weight sent last until the interval is over; `nextDueAt`
//     tells the caller when to run `limit` again, and then the newest weight is sent (the final
//     state always reaches the router; a weight that went back to the sent one sends nothing).
// So one route gets at most one weight-only UPDATE per interval per session, whatever the churn.

import { formatPrefix } from '../ip/index.ts';
import type { PlannedRoute, SessionPlan } from '../planner/types.ts';

/** Default minimum time between two weight-only re-announcements of one route: 1 s. */
export const DEFAULT_WEIGHT_INTERVAL_MS = 1000;

interface Sent {
  weight: number;
  fallback: boolean;
  /** When `weight` was sent. */
  at: number;
  /** Weight planned but held back until `dueAt` (undefined: nothing pending). */
  pending?: number;
  dueAt?: number;
}

/** A weight held back (shown in NodeStatus.weightUpdates). */
export interface HeldWeight {
  peer: string;
  prefix: string;
  /** Weight the router has. */
  sent: number;
  /** Weight planned, sent at `dueAt`. */
  planned: number;
  dueAt: number;
}

export interface WeightLimitResult {
  /** The sessions to hand to the speaker: the input's objects, or copies with held weights. */
  sessions: SessionPlan[];
  /** When to call `limit` again for the trailing updates (undefined: nothing held). */
  nextDueAt: number | undefined;
}

export interface WeightLimitStatus {
  defaultIntervalMs: number;
  /** Weight-only changes per session and route: sent at once, held back, trailing updates sent after a hold. */
  immediate: number;
  held: number;
  trailing: number;
  pending: HeldWeight[];
}

export class WeightLimiter {
  /** peer -> prefix key -> what the router has. */
  private sent = new Map<string, Map<string, Sent>>();
  private immediate = 0;
  private heldCount = 0;
  private trailing = 0;

  constructor(private readonly defaultIntervalMs: number = DEFAULT_WEIGHT_INTERVAL_MS) {}

  limit(sessions: readonly SessionPlan[], now: number): WeightLimitResult {
    let nextDueAt: number | undefined;
    const next = new Map<string, Map<string, Sent>>();
    const out = sessions.map((s) => {
      const before = this.sent.get(s.peer);
      let mine: Map<string, Sent> | undefined;
      let copy: PlannedRoute[] | undefined;
      for (let i = 0; i < s.routes.length; i++) {
        const r = s.routes[i] as PlannedRoute;
        if (r.weight === undefined) continue;
        mine ??= new Map();
        const key = formatPrefix(r.prefix);
        const prev = before?.get(key);
        const interval = r.weightIntervalMs ?? this.defaultIntervalMs;
        const fallback = r.fallback === true;
        let entry: Sent;
        if (prev === undefined || prev.fallback !== fallback) {
          entry = { weight: r.weight, fallback, at: now };
        } else if (prev.weight === r.weight) {
          entry = { weight: prev.weight, fallback, at: prev.at };
        } else if (now - prev.at >= interval) {
          entry = { weight: r.weight, fallback, at: now };
          if (prev.pending === undefined) this.immediate++;
          else this.trailing++;
        } else {
          if (prev.pending === undefined) this.heldCount++;
          const dueAt = prev.at + interval;
          entry = { weight: prev.weight, fallback, at: prev.at, pending: r.weight, dueAt };
          nextDueAt = nextDueAt === undefined ? dueAt : Math.min(nextDueAt, dueAt);
          copy ??= s.routes.slice();
          copy[i] = { ...r, weight: prev.weight };
        }
        mine.set(key, entry);
      }
      if (mine) next.set(s.peer, mine);
      return copy ? { ...s, routes: copy } : s;
    });
    this.sent = next;
    return { sessions: out, nextDueAt };
  }

  status(): WeightLimitStatus {
    const pending: HeldWeight[] = [];
    for (const [peer, m] of this.sent) {
      for (const [prefix, e] of m) {
        if (e.pending !== undefined) pending.push({ peer, prefix, sent: e.weight, planned: e.pending, dueAt: e.dueAt ?? e.at });
      }
    }
    return { defaultIntervalMs: this.defaultIntervalMs, immediate: this.immediate, held: this.heldCount, trailing: this.trailing, pending };
  }
}

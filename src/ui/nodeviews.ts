// Readers of the node runtime's parts of /status that the status page shows beside the
// sessions: the received routes in the kernel (extensions.receivedRoutes: src/routes/sync.ts,
// with the routes adopted from the previous run over our graceful restart) and the Layer 2
// side (layer2Agent: src/layer2/supervisor.ts, with the addresses being handed over: while this
// node leaves, or on any move to another live speaker, make-before-break). Narrow readers over unknown JSON (readers.ts).

import { arr, isRec, num, rec, str, strs } from './readers.ts';

export interface ReceivedView {
  /** Kernel routing table and metric of our routes. */
  table: number | null;
  metric: number | null;
  /** Routes installed in the kernel. */
  installed: number;
  /** Installed via a resolved (recursive) next hop. */
  recursive: number;
  /** Not installable, with the kernel's reason (at most FAILED_SHOWN). */
  failed: { prefix: string; error: string }[];
  /** Routes of the previous run kept over our own graceful restart, not re-learned yet. */
  adoptedFromPreviousRun: number;
}

export interface Layer2View {
  /** "gossip": elections among the speakers; "planner": the planner's owner only. */
  mode: string | null;
  /** Why the liveness protocol does not run (null: no problem). */
  problem: string | null;
  hasQuorum: boolean | null;
  /** Speakers alive in this node's view. */
  alive: string[];
  /** Addresses this node answers ARP/NDP for now. */
  announcing: string[];
  /** This node is leaving (drain, planned stop): it hands its addresses over. */
  leaving: boolean;
  /**
   * Addresses this node no longer owns but still answers until their new owner confirms (to:
   * null = no owner elected here yet); remainingMs: at most this much longer (null: not said).
   */
  handingOver: { ip: string; to: string | null; remainingMs: number | null }[];
}

/** The page lists at most this many failed received routes. */
export const FAILED_SHOWN = 50;

/** /status extensions.receivedRoutes; null when the node does not install received routes. */
export function receivedView(extensions: unknown): ReceivedView | null {
  const r = rec(extensions).receivedRoutes;
  if (!isRec(r)) return null;
  return {
    table: num(r.table),
    metric: num(r.metric),
    installed: num(r.installed) ?? 0,
    recursive: num(r.recursive) ?? 0,
    failed: arr(r.failed)
      .slice(0, FAILED_SHOWN)
      .map((f) => ({ prefix: str(rec(f).prefix) ?? '?', error: str(rec(f).error) ?? '' })),
    adoptedFromPreviousRun: num(r.adoptedFromPreviousRun) ?? 0,
  };
}

/** /status layer2Agent (the Layer 2 supervisor's status); null without a Layer 2 driver. */
export function layer2View(status: unknown): Layer2View | null {
  if (!isRec(status)) return null;
  const agent = rec(status.agent);
  const leaving = isRec(agent.leaving) ? agent.leaving : null;
  return {
    mode: str(status.mode),
    problem: str(status.problem),
    hasQuorum: typeof agent.hasQuorum === 'boolean' ? agent.hasQuorum : null,
    alive: strs(agent.alive),
    announcing: arr(agent.announcing)
      .map((a) => str(rec(a).ip))
      .filter((ip): ip is string => ip !== null),
    leaving: leaving !== null,
    // every move (make-before-break) is in agent.handingOver; older speakers said it only while leaving
    handingOver: arr(Array.isArray(agent.handingOver) ? agent.handingOver : leaving?.handingOver).map((h) => ({
      ip: str(rec(h).ip) ?? '?',
      to: str(rec(h).to),
      remainingMs: num(rec(h).remainingMs),
    })),
  };
}

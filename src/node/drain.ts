// Drain on leave: the Kubernetes policy of RFC 8326 graceful shutdown. When this speaker's Node
// is cordoned (spec.unschedulable) or gets the node.kubernetes.io/exclude-from-external-load-
// balancers label, every BGP route is first re-advertised with GRACEFUL_SHUTDOWN (65535:0, and
// LOCAL_PREF 0 on iBGP) for the drain period, then withdrawn; the node stays drained while the
// condition holds and announces normally again when it is lifted. The mechanism (drain/resume)
// is the BGP speaker's (src/bgp/speaker); this module only decides when.

import type { Logger } from 'pino';
import type { Node } from '../model/objects.ts';
import { EXCLUDE_LB_LABEL } from '../model/objects.ts';

/** Why this Node is leaving the load-balancer pool (undefined: it serves normally). */
export function nodeLeavingReason(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if (Object.prototype.hasOwnProperty.call(node.metadata.labels ?? {}, EXCLUDE_LB_LABEL)) return `label ${EXCLUDE_LB_LABEL}`;
  if (node.spec?.unschedulable === true) return 'cordoned (spec.unschedulable)';
  return undefined;
}

/**
 * The Node as the planner should see it while draining: without the exclusion label, so that
 * its routes stay in the plan (announced with 65535:0 until the drain period is over, then
 * withdrawn by the speaker) instead of disappearing at once.
 */
export function nodeForDrain(node: Node): Node {
  const labels = { ...(node.metadata.labels ?? {}) };
  delete labels[EXCLUDE_LB_LABEL];
  return { ...node, metadata: { ...node.metadata, labels } };
}

export interface Drainable {
  drain(periodMs: number): Promise<void>;
  resume(): void;
}

export type DrainPhase = 'serving' | 'draining' | 'drained';

export class DrainOnLeave {
  private phase: DrainPhase = 'serving';
  private reason: string | undefined;
  private since: number | undefined;
  private seq = 0;

  constructor(
    private readonly o: { target: Drainable; periodMs: number; logger: Logger; now?: () => number; onDrained?: () => void },
  ) {}

  /** Feed this node's current Node object (on every change). */
  update(node: Node | undefined): void {
    const reason = nodeLeavingReason(node);
    if (reason !== undefined && this.phase === 'serving') {
      this.phase = 'draining';
      this.reason = reason;
      this.since = (this.o.now ?? Date.now)();
      const seq = ++this.seq;
      this.o.logger.info({ reason, periodMs: this.o.periodMs }, 'node leaving: draining BGP sessions (GRACEFUL_SHUTDOWN), then withdrawing');
      void this.o.target.drain(this.o.periodMs).then(() => {
        if (seq !== this.seq || this.phase !== 'draining') return;
        this.phase = 'drained';
        this.o.logger.info({ reason }, 'node drained: routes withdrawn');
        this.o.onDrained?.();
      });
    } else if (reason === undefined && this.phase !== 'serving') {
      this.seq++;
      this.o.logger.info({ was: this.reason }, 'node serving again: announcing normally');
      this.phase = 'serving';
      this.reason = undefined;
      this.since = undefined;
      this.o.target.resume();
    }
  }

  /** True while the node drains or is drained. */
  get leaving(): boolean {
    return this.phase !== 'serving';
  }

  /** True during the drain period (plan with nodeForDrain so that the routes stay until then). */
  get draining(): boolean {
    return this.phase === 'draining';
  }

  status(): { phase: DrainPhase; reason?: string; since?: string } {
    return {
      phase: this.phase,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      ...(this.since !== undefined ? { since: new Date(this.since).toISOString() } : {}),
    };
  }
}

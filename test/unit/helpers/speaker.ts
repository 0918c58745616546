// A recording BGP speaker for the node runtime's unit tests (no sockets): it keeps every plan
// the NodeAgent hands it and reports each planned session in a chosen state, with typed
// counters, like src/bgp/speaker BGPSpeaker does.

import { formatIP, formatPrefix } from '../../../src/ip/index.ts';
import type { SessionPlan } from '../../../src/planner/types.ts';
import type { BgpDriver, SpeakerSessionStatus } from '../../../src/node/types.ts';
import { zeroCounters } from '../../../src/bgp/speaker/session.ts';
import type { SessionCounters } from '../../../src/bgp/speaker/session.ts';
import type { SessionState } from '../../../src/bgp/session/types.ts';

export const NO_COUNTERS: SessionCounters = zeroCounters();

export class RecordingSpeaker implements BgpDriver {
  readonly plans: SessionPlan[][] = [];
  stopped: { withdraw?: boolean } | undefined;
  /** State every session reports; Established ones report their planned routes as sent. */
  state: SessionState = 'Active';
  counters: Partial<SessionCounters> = {};

  setPlan(sessions: SessionPlan[]): void {
    this.plans.push(sessions);
  }

  last(): SessionPlan[] {
    return this.plans.at(-1) ?? [];
  }

  status(): SpeakerSessionStatus[] {
    return this.last().map((s) => ({
      node: s.node,
      peer: s.peer,
      peerAddress: s.config.address ? formatIP(s.config.address) : (s.config.interface ?? ''),
      peerPort: s.config.port,
      state: this.state,
      uptimeSeconds: 0,
      phase: this.state === 'Established' ? ('established' as const) : ('down' as const),
      counters: { ...NO_COUNTERS, ...this.counters },
      routes: this.state === 'Established' ? s.routes.map((r) => formatPrefix(r.prefix)) : [],
    }));
  }

  async stop(opts?: { withdraw?: boolean }): Promise<void> {
    this.stopped = opts ?? {};
  }
}

// MetalLB's BFD metrics (names and help as MetalLB's FRR mode exports them), fed from the BFD
// sessions' status. Label `peer` = the peer address. metallb_bfd_echo_packet_input/_output stay
// 0 (echo mode is not implemented); metallb_bfd_zebra_notifications is not exported (there is no
// zebra). metallb_bfd_dropped_packets is ours: received datagrams dropped, by reason.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { BfdPeerStatus } from './manager.ts';
import type { DropReason } from './mux.ts';

export interface BfdMetrics {
  sessionUp: Gauge<'peer'>;
  controlPacketInput: Counter<'peer'>;
  controlPacketOutput: Counter<'peer'>;
  echoPacketInput: Counter<'peer'>;
  echoPacketOutput: Counter<'peer'>;
  sessionUpEvents: Counter<'peer'>;
  sessionDownEvents: Counter<'peer'>;
  dropped: Counter<'reason'>;
  /** Last absolute value mirrored per counter and label (counters only go up). */
  last: Map<string, number>;
}

/** Where the figures come from at scrape time. */
export interface BfdSource {
  bfdSessions(): readonly BfdPeerStatus[];
  bfdDrops(): Record<DropReason, number> | undefined;
}

/**
 * Registers the BFD metrics. With `source`, every scrape refreshes them first (the first
 * metric's collect hook runs before the others are read).
 */
export function createBfdMetrics(registry: Registry, source?: BfdSource): BfdMetrics {
  const registers = [registry];
  const c = (name: string, help: string): Counter<'peer'> => new Counter({ name, help, labelNames: ['peer'], registers });
  let self: BfdMetrics | undefined;
  const collect = source ? (): void => void (self && recordBfd(self, source.bfdSessions(), source.bfdDrops())) : undefined;
  return (self = {
    sessionUp: new Gauge({ name: 'metallb_bfd_session_up', help: 'BFD session state (1 is up, 0 is down)', labelNames: ['peer'], registers, ...(collect ? { collect } : {}) }),
    controlPacketInput: c('metallb_bfd_control_packet_input', 'Number of received BFD control packets'),
    controlPacketOutput: c('metallb_bfd_control_packet_output', 'Number of sent BFD control packets'),
    echoPacketInput: c('metallb_bfd_echo_packet_input', 'Number of received BFD echo packets'),
    echoPacketOutput: c('metallb_bfd_echo_packet_output', 'Number of sent BFD echo packets'),
    sessionUpEvents: c('metallb_bfd_session_up_events', 'Number of BFD session up events'),
    sessionDownEvents: c('metallb_bfd_session_down_events', 'Number of BFD session down events'),
    dropped: new Counter({ name: 'metallb_bfd_dropped_packets', help: 'Number of received BFD datagrams dropped (malformed, wrong TTL, unknown session)', labelNames: ['reason'], registers }),
    last: new Map(),
  });
}

function mirror<L extends string>(m: BfdMetrics, name: string, c: Counter<L>, labels: Record<L, string>, total: number): void {
  const k = `${name}|${Object.values(labels).join('|')}`;
  // A re-created session (configuration change) restarts from 0: count on from there.
  const cur = m.last.get(k) ?? 0;
  const base = total < cur ? 0 : cur;
  if (total > base) c.inc(labels, total - base);
  m.last.set(k, total);
}

/** Mirrors the sessions' figures into the metrics; peers without a session get session_up 0. */
export function recordBfd(m: BfdMetrics, sessions: readonly BfdPeerStatus[], drops: Record<DropReason, number> | undefined): void {
  const seen = new Set<string>();
  for (const s of sessions) {
    const peer = s.peerAddress;
    seen.add(peer);
    m.sessionUp.set({ peer }, s.state === 'Up' ? 1 : 0);
    m.echoPacketInput.inc({ peer }, 0);
    m.echoPacketOutput.inc({ peer }, 0);
    mirror(m, 'in', m.controlPacketInput, { peer }, s.packetsIn);
    mirror(m, 'out', m.controlPacketOutput, { peer }, s.packetsOut);
    mirror(m, 'up', m.sessionUpEvents, { peer }, s.upEvents);
    mirror(m, 'down', m.sessionDownEvents, { peer }, s.downEvents);
  }
  for (const k of m.last.keys()) {
    const peer = k.split('|')[1];
    if (k.startsWith('in|') && peer !== undefined && !seen.has(peer)) m.sessionUp.set({ peer }, 0);
  }
  for (const [reason, n] of Object.entries(drops ?? {})) mirror(m, 'drop', m.dropped, { reason }, n);
}

// The session's local address as this host's kernel will make it (pure; the facts come from the
// shell, src/cli/plan-host.ts). The speaker binds the BGPPeer's sourceAddress only when it is
// configured on the node (src/bgp/transport: otherwise it logs "source address X is not
// configured on this host: letting the kernel choose" and connects unbound); an unbound
// connection gets the source address the kernel picks for the route to the peer (the second
// uplink's address for a peer behind it, 127.0.0.1 for a peer on loopback). That address is the
// NEXT_HOP of every route of the session's family.

import { formatIP } from '../ip/index.ts';
import type { IP } from '../ip/index.ts';
import type { SessionPlan } from './types.ts';

/** What the shell found out on this host (the node the plan runs on). */
export interface HostFacts {
  /** The planned node that is this host. */
  node: string;
  /** Addresses configured on this host's interfaces. */
  isLocal(ip: IP): boolean;
  /** The source address the kernel picks for a connection to `peer`; undefined: no route. */
  sourceFor(peer: IP): IP | undefined;
}

/** The local address of a session on this host, and a warning when it is not what the configuration suggests. */
export interface SessionSource {
  address: IP | undefined;
  warning: string | undefined;
}

export function sessionSource(s: SessionPlan, host: HostFacts): SessionSource {
  const peer = s.config.address;
  if (!peer) return { address: undefined, warning: undefined }; // unnumbered: the interface's link-local address
  const src = s.config.sourceAddress;
  if (src && host.isLocal(src)) return { address: src, warning: undefined };
  const kernel = host.sourceFor(peer);
  if (src) {
    return {
      address: kernel,
      warning:
        `sourceAddress ${formatIP(src)} is not configured on node ${s.node}: the speaker lets the kernel choose the source address` +
        (kernel ? ` (${formatIP(kernel)}), which the router receives as next hop` : ` (no route to ${formatIP(peer)} from this host)`),
    };
  }
  if (!kernel) return { address: undefined, warning: `no route to ${formatIP(peer)} from this host: the session cannot come up` };
  return { address: kernel, warning: undefined };
}

/** Sets `localAddress` (and `warnings`) on the sessions of the host's node. */
export function applyHostFacts(sessions: SessionPlan[], host: HostFacts): void {
  for (const s of sessions) {
    if (s.node !== host.node) continue;
    const r = sessionSource(s, host);
    if (r.address) s.localAddress = r.address;
    if (r.warning) s.warnings = [...(s.warnings ?? []), r.warning];
  }
}

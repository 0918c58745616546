// `plan --this-host`: the facts of the host plan runs on (I/O; the rule is pure, in
// src/planner/nexthop.ts): which addresses are configured here (the speaker binds sourceAddress
// only then) and which source address the kernel picks towards each peer (a UDP socket
// connect()ed to the peer: the kernel's route lookup, no packet is sent).

import { createSocket } from 'node:dgram';
import { isLocalAddress } from '../bgp/transport/index.ts';
import { formatIP, tryParseIP } from '../ip/index.ts';
import type { IP } from '../ip/index.ts';
import type { HostFacts, SessionPlan } from '../planner/index.ts';

async function kernelSource(peer: IP): Promise<IP | undefined> {
  const sock = createSocket(peer.family === 4 ? 'udp4' : 'udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(179, formatIP(peer), () => resolve());
    });
    return tryParseIP(sock.address().address);
  } catch {
    return undefined; // no route (ENETUNREACH)
  } finally {
    sock.close();
  }
}

/** Facts about this host for the sessions of `node`. */
export async function readHostFacts(node: string, sessions: readonly SessionPlan[]): Promise<HostFacts> {
  const sources = new Map<string, IP | undefined>();
  for (const s of sessions) {
    const peer = s.config.address;
    if (s.node !== node || !peer) continue;
    const key = formatIP(peer);
    if (!sources.has(key)) sources.set(key, await kernelSource(peer));
  }
  return {
    node,
    isLocal: (ip) => isLocalAddress(formatIP(ip)),
    sourceFor: (peer) => sources.get(formatIP(peer)),
  };
}

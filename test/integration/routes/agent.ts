// Test driver run inside a DUT namespace: the real BGP speaker and kernel route sync (the
// product's receive path) with sessions from a JSON file, status written to a JSON file on
// every change. SIGTERM: stop the speaker (routes withdrawn), delete our kernel routes, exit 0.
//   node --import tsx agent.ts CONFIG.json STATUS.json
// CONFIG: { node, routerId, table?, sessions: [{ name, address, myASN, peerASN, receive? }] }
// where receive = { mode, prefixes: [{ prefix: "10.0.0.0/8", ge?, le? }], maxPrefixes? }.
// The policies are given here directly (mode, prefixes with ge/le, prefix limit) so that one
// file covers many policy cases; seed003-standalone.test.ts covers the FRRConfiguration path.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { BGPSpeaker } from '../../../src/bgp/speaker/index.ts';
import { parsePrefix } from '../../../src/ip/index.ts';
import { tryLoadNetlinkAddon } from '../../../src/native/netlink.ts';
import type { EffectiveReceive } from '../../../src/config/receive.ts';
import { KernelRouteSync } from '../../../src/routes/sync.ts';
import { makePeer } from '../../unit/helpers/peer.ts';

interface SessionSpec {
  name: string;
  address: string;
  myASN: number;
  peerASN: number;
  receive?: { mode: 'all' | 'filtered'; prefixes: { prefix: string; ge?: number; le?: number }[]; maxPrefixes?: number };
}
interface AgentConfig {
  node: string;
  routerId: string;
  table?: number;
  sessions: SessionSpec[];
}

const [cfgPath, statusPath] = process.argv.slice(2);
if (!cfgPath || !statusPath) throw new Error('usage: agent.ts CONFIG.json STATUS.json');
const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as AgentConfig;
const logger = pino({ level: 'debug' });
const netlink = tryLoadNetlinkAddon();
if (netlink instanceof Error) throw netlink;
const sync = new KernelRouteSync({ netlink, logger, ...(cfg.table !== undefined ? { table: cfg.table } : {}) });
sync.start();
const speaker = new BGPSpeaker({
  nodeName: cfg.node,
  routerId: cfg.routerId,
  logger,
  onReceived: (session, changes, ctx) => sync.update(session, changes, ctx),
});

function writeStatus(): void {
  const tmp = `${statusPath}.tmp`;
  writeFileSync(tmp, JSON.stringify({ sessions: speaker.status(), kernel: sync.status(), routes: sync.routes() }));
  renameSync(tmp, statusPath as string);
}
speaker.on('state', writeStatus);
setInterval(writeStatus, 100).unref();

speaker.setPlan(
  cfg.sessions.map((s) => {
    // FRR prefix-list rules, as the config model derives them from ge/le
    const receive: EffectiveReceive | undefined = s.receive && {
      mode: s.receive.mode,
      prefixes: s.receive.prefixes.map((p) => {
        const prefix = parsePrefix(p.prefix);
        const max = prefix.family === 4 ? 32 : 128;
        const minLength = p.ge ?? prefix.length;
        const maxLength = p.le ?? (p.ge !== undefined ? max : prefix.length);
        return { prefix, minLength, maxLength };
      }),
      prefixLimit: s.receive.maxPrefixes ?? 10000,
    };
    const peer = makePeer(s.name, s.address, s.myASN, s.peerASN, { file: cfgPath, line: 1, kind: 'BGPPeer', name: s.name });
    return { node: cfg.node, peer: s.name, config: peer, ebgp: s.myASN !== s.peerASN, routes: [], ...(receive ? { receive } : {}) };
  }),
);

process.on('SIGTERM', () => {
  void speaker.stop().then(() => {
    sync.stop();
    writeStatus();
    process.exit(0);
  });
});
const keepAlive = setInterval(() => undefined, 1 << 30);
void keepAlive;

import { pino } from 'pino';
import { BGPSpeaker } from './src/bgp/speaker/index.ts';
import { parseIP, parsePrefix } from './src/ip/index.ts';
const logger = pino({ level: process.env.LVL ?? 'warn' });
const sp = new BGPSpeaker({ nodeName: 'n1', logger });
const base = { myASN: 65010, peerASN: 65001, port: 179, ebgpMultiHop: false, nodeSelectors: [], vrf: '', enableGracefulRestart: false, disableMP: false, dualStackAddressFamily: false };
const c4 = { ...base, name: 'g4', address: parseIP('10.77.0.1'), password: process.env.PW ?? 's3cret', source: { file: 'x', line: 1, kind: 'BGPPeer', name: 'g4' } };
const c6 = { ...base, name: 'g6', address: parseIP('2001:db8:77::1'), source: { file: 'x', line: 1, kind: 'BGPPeer', name: 'g6' } };
const r = (p: string, communities: number[] = []) => ({ prefix: parsePrefix(p), communities, largeCommunities: [] as [number, number, number][] });
sp.setPlan([
  { node: 'n1', peer: 'g4', config: c4, ebgp: true, routes: [r('198.51.100.10/32', [0xfde80001]), r('2001:db8:aa::1/128')] },
  { node: 'n1', peer: 'g6', config: c6, ebgp: true, routes: [r('2001:db8:aa::1/128'), r('2001:db8:bb::/64', [0xffffff01])] },
]);
setTimeout(async () => { console.log(JSON.stringify(sp.status().map((s) => [s.peer, s.state, s.lastError, s.routes]))); await sp.stop(); }, Number(process.env.T ?? 4000));
